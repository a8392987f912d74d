/**
 * Names instead of ids, through real `parley` processes against a node on loopback: each user
 * sets an end-to-end encrypted profile (`parley profile`, `/profile`), and from the first
 * message on the other side shows them by name in message lines, the chat name, /chats,
 * /info, /safety and the prompt; a name change reaches the running chat of the contact.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { useTestNode } from './testing/node.js';
import { saveTestProfile, useParleyProcesses } from './testing/processes.js';

// First, so the processes end before the node stops.
const { chat: chatOf, parley } = useParleyProcesses();
const t = useTestNode('parley-names-');
const chat = (name: string) => chatOf(t, name);

const A = '+14155557001';
const B = '+14155557002';
const C = '+14155557003';

test('people show by their profile name in chat lines, /chats, /info and /safety; a rename reaches a running chat', async () => {
  await saveTestProfile(t, 'alice', A);
  await saveTestProfile(t, 'bob', B);
  await saveTestProfile(t, 'carol', C);

  // `parley profile` sets and shows the profile; bad input is one clear line.
  const set = parley(t, ['profile', '--profile', 'alice', '--name', 'Alice Liddell', '--about', 'curious']);
  assert.equal(await set.exited, 0, set.output());
  assert.match(set.output(), /Name: Alice Liddell\nAbout: curious\nAvatar: -\n/);
  const tooLong = parley(t, ['profile', '--profile', 'alice', '--name', 'x'.repeat(65)]);
  assert.equal(await tooLong.exited, 1);
  assert.match(tooLong.output(), /a profile name is 1-64 characters/);
  const notImage = join(t.dir, 'notes.txt');
  await writeFile(notImage, 'hello');
  const badAvatar = parley(t, ['profile', '--profile', 'alice', '--avatar', notImage]);
  assert.equal(await badAvatar.exited, 1);
  assert.match(badAvatar.output(), /is not an image/);
  const avatarFile = join(t.dir, 'me.png');
  await writeFile(avatarFile, Buffer.from('89504e470d0a1a0a0000', 'hex'));
  const withAvatar = parley(t, ['profile', '--profile', 'alice', '--avatar', avatarFile]);
  assert.equal(await withAvatar.exited, 0, withAvatar.output());
  assert.match(withAvatar.output(), /Name: Alice Liddell\n.*\nAvatar: image\/png, 10 B\n/);
  const shown = parley(t, ['profile', '--profile', 'alice']);
  assert.equal(await shown.exited, 0);
  assert.match(shown.output(), /Name: Alice Liddell/);

  const alice = chat('alice');
  await alice.see('Connected as Alice Liddell (+14155557001)');
  const bob = chat('bob');
  await bob.see('Set your name with /profile name NAME');
  bob.type('/profile name Bob Builder');
  await bob.see('Name: Bob Builder');

  alice.type(`/new ${B}`);
  await alice.see(`Opened ${B}`);
  alice.type('hello bob');
  // Bob never discovered alice's number: without her profile she would be a user id.
  await bob.see('[Alice Liddell] #2 Alice Liddell: hello bob', "bob sees alice's name");
  bob.type(`/new ${A}`);
  await bob.see('Opened Alice Liddell');
  bob.type('hi alice');
  await alice.see('[Bob Builder] #3 Bob Builder: hi alice', "alice sees bob's name");
  let from = alice.output().length;
  alice.type('/chats');
  await alice.see(/1\. Bob Builder/, '/chats by name', from);
  alice.type('/info');
  await alice.see(`Bob Builder ${B}`, '/info lists members by name', from);
  from = bob.output().length;
  bob.type('/safety');
  await bob.see('Safety number for you and Alice Liddell:', '/safety by name', from);
  await bob.see(`/safety on their side`, 'the safety lines', from);

  // A rename in alice's running chat reaches bob's running chat.
  alice.type('/profile name Alice Pleasance');
  await alice.see('Name: Alice Pleasance');
  from = bob.output().length;
  for (let i = 0; i < 100; i++) {
    bob.type('/chats');
    await new Promise((r) => setTimeout(r, 100));
    if (bob.output().slice(from).includes('Alice Pleasance')) break;
  }
  await bob.see(/\d\. Alice Pleasance/, "bob's /chats has the new name", from);
  alice.type('hello again');
  await bob.see('[Alice Pleasance] #4 Alice Pleasance: hello again');

  // A group: carol (no profile of her own) sees alice by name from her first group message.
  alice.type(`/group Tea ${B} ${C}`);
  await alice.see('Opened Tea');
  alice.type('/describe mad hatters only');
  await alice.see('Description of Tea set.');
  const carol = chat('carol');
  await carol.see('Connected as');
  alice.type('tea time');
  await carol.see(/\[Tea\] #\d+ Alice Pleasance: tea time/, "carol sees alice's name in the group");
  from = alice.output().length;
  alice.type('/info');
  await alice.see('Description: mad hatters only', '/info shows the description', from);
  await alice.see(/ {2}you \+14155557001 \(creator\)/, '/info lists alice', from);
  await alice.see(`Bob Builder ${B}`, '/info lists bob by name', from);
  // Carol has no profile: her number, as alice typed it.
  await alice.see(`  ${C}\n`, '/info falls back to the number', from);

  assert.equal(await carol.quit(), 0);
  assert.equal(await bob.quit(), 0);
  assert.equal(await alice.quit(), 0);
});
