/**
 * `/mute`, `/unmute` and `/dnd` through a real `parley chat` process against a real node:
 * the marker in `/chats` follows the mute kept by the server, and `/dnd` sets, shows and
 * turns off do-not-disturb.
 */
import { test } from 'node:test';
import { useTestNode } from './testing/node.js';
import { saveTestProfile, useParleyProcesses } from './testing/processes.js';

const { chat: chatOf } = useParleyProcesses();
const t = useTestNode('parley-mutes-');
const chat = (name: string) => chatOf(t, name);

test('/mute shows in /chats until /unmute; /dnd sets, shows and turns off do-not-disturb', async () => {
  const A = '+14155557201';
  const B = '+14155557202';
  await saveTestProfile(t, 'alice', A);
  await saveTestProfile(t, 'bob', B);
  const bob = chat('bob');
  await bob.see('Connected as');
  const alice = chat('alice');
  await alice.see('Connected as');
  alice.type(`/new ${B}`);
  await alice.see(`Opened ${B}`);

  let from = alice.output().length;
  alice.type('/mute 8h');
  await alice.see(/Muted \S+ until [\d: -]+: its messages still arrive, without alerts/, 'the mute', from);
  from = alice.output().length;
  alice.type('/chats');
  await alice.see(/\*\s+1\. \S+ \(direct\) 🔇 until [\d: -]+ c_\S+\n/, 'the marker with its end', from);

  alice.type('/mute forever');
  from = alice.output().length;
  alice.type('/chats');
  await alice.see(/\*\s+1\. \S+ \(direct\) 🔇 muted c_\S+\n/, 'the marker for good', from);

  from = alice.output().length;
  alice.type('/mute 3 days');
  await alice.see('usage: /mute [8h|1w|forever]', 'a bad duration', from);
  from = alice.output().length;
  alice.type('/mute soon');
  await alice.see('usage: /mute [8h|1w|forever]', 'a bad duration', from);

  alice.type('/unmute');
  await alice.see(/Unmuted \S+\./, 'the unmute', from);
  from = alice.output().length;
  alice.type('/chats');
  await alice.see(/\*\s+1\. \S+ \(direct\) c_\S+\n/, 'no marker', from);

  from = alice.output().length;
  alice.type('/dnd forever');
  await alice.see('Do not disturb is on until you turn it off', 'do-not-disturb on', from);
  from = alice.output().length;
  alice.type('/dnd');
  await alice.see('Do not disturb is on until you turn it off', 'the setting shown', from);
  from = alice.output().length;
  alice.type('/dnd off');
  await alice.see('Do not disturb is off.', 'do-not-disturb off', from);
});
