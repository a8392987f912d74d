/**
 * `parley chat`'s ChatRoom against a real node on loopback: the prompt shows the other
 * person's presence, typing shows once per start in the open chat, the draft being typed is
 * announced (and paused when the line is entered), and /privacy sets and shows the setting.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Credentials, type KeyValueStore, MemoryLocalStore } from '@parley/sdk';
import { ChatRoom } from './chat-room.js';
import { Contacts } from './contacts.js';
import { CliError } from './errors.js';
import { useTestNode } from './testing/node.js';
import { secureDevice } from './testing/secure.js';

const t = useTestNode('parley-chat-room-');

function register(phone: string): Promise<Credentials> {
  return t.register(phone);
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), `timed out waiting for ${what}`);
}

/** A connected user with a ChatRoom whose output is recorded (`keys`: the same device again). */
async function person(phone: string, credentials?: Credentials, keys?: KeyValueStore) {
  const creds = credentials ?? (await register(phone));
  const device = secureDevice(creds, keys ? { keys } : {});
  const { client, secure } = device;
  const contacts = await Contacts.load(new MemoryLocalStore(), { userId: creds.userId, phone });
  const lines: string[] = [];
  let redraws = 0;
  const room = new ChatRoom(secure, contacts, (line) => lines.push(line), {
    promptChanged: () => {
      redraws++;
    },
  });
  secure.on('message', (m) => room.onMessage(m));
  await secure.start();
  await room.refresh();
  return { creds, client, room, lines, redraws: () => redraws, keys: device.keys };
}

test('the prompt shows presence, typing shows once per start, and /privacy works', async () => {
  const alicePhone = '+14155553001';
  const bobPhone = '+14155553002';
  const alice = await person(alicePhone);
  const bob = await person(bobPhone);
  await alice.room.run('new', [bobPhone]);
  await bob.room.run('new', [alicePhone]);
  assert.equal(bob.lines.at(-1), `Opened ${alicePhone} (online).`);
  assert.equal(bob.room.prompt(), `${alicePhone} (online)> `);

  // Alice types: bob sees one line, however many keystrokes.
  for (const draft of ['h', 'he', 'hel', 'hell', 'hello']) alice.room.draftChanged(draft);
  const typing = `[${alicePhone}] ${alicePhone} is typing...`;
  await until(() => bob.lines.includes(typing), 'the typing line');
  // The line is entered and sent: paused, then the message; the next draft starts again.
  alice.room.lineEntered();
  await alice.room.sendText('hello');
  const hello = new RegExp(`^\\[\\${alicePhone}\\] #\\d+ \\${alicePhone}: hello$`);
  await until(() => bob.lines.some((l) => hello.test(l)), 'the message');
  alice.room.draftChanged('again');
  await until(() => bob.lines.filter((l) => l === typing).length === 2, 'a second typing line');
  // Commands being typed are not announced.
  alice.room.lineEntered();
  alice.room.draftChanged('/chats');
  await alice.client.ping();
  await bob.client.ping();
  assert.equal(bob.lines.filter((l) => l === typing).length, 2);

  // Privacy: shown, set, refused when unknown.
  await alice.room.run('privacy', []);
  assert.match(alice.lines.at(-1)!, /visible to everyone you share a chat with/);
  await alice.room.run('privacy', ['NOBODY']);
  assert.match(alice.lines.at(-1)!, /hidden from everyone/);
  await assert.rejects(alice.room.run('privacy', ['friends']), CliError);

  // Alice leaves: bob's prompt drops "online"; her last seen is hidden (NOBODY).
  alice.room.dispose();
  await alice.client.close();
  await until(() => bob.room.prompt() === `${alicePhone}> `, 'alice offline');
  assert.ok(bob.redraws() > 0);

  // Back with EVERYONE: bob sees her come online, then her last-seen time when she leaves.
  const again = await person(alicePhone, alice.creds, alice.keys);
  await until(() => bob.room.prompt() === `${alicePhone} (online)> `, 'alice online again');
  await again.room.run('privacy', ['everyone']);
  again.room.dispose();
  await again.client.close();
  await until(
    () => /^\+14155553001 \(last seen today at \d\d:\d\d\)> $/.test(bob.room.prompt()),
    'last seen',
  );

  bob.room.dispose();
  await bob.client.close();
});
