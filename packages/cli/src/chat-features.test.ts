/**
 * `parley chat`'s message features through ChatRoom against a real node on loopback: ticks
 * go ✓ → ✓✓ → read (opening the chat and new messages in it mark it read), /chats shows
 * unread counts, /reply, /edit, /react, /delete, /forward show on the other side, and
 * /promote, /invite, /join and /readreceipts work, all end-to-end encrypted, with /history
 * shown from what the device read. The clients use the JSON encoding here;
 * `parley chat` itself and sdk-features.test.ts cover the binary one.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type Credentials, type KeyValueStore, MemoryLocalStore, type ParleyClient } from '@parley/sdk';
import { ChatRoom } from './chat-room.js';
import { Contacts } from './contacts.js';
import { useTestNode } from './testing/node.js';
import { secureDevice } from './testing/secure.js';

const open: { room: ChatRoom; client: ParleyClient }[] = [];

// Registered first, so the clients close before the node stops.
after(async () => {
  for (const p of open) {
    p.room.dispose();
    await p.client.close();
  }
});

const t = useTestNode('parley-chat-features-');

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), `timed out waiting for ${what}`);
}

/** A connected user with a ChatRoom whose output is recorded (`keys`: the same device again). */
async function person(phone: string, credentials?: Credentials, keys?: KeyValueStore) {
  let creds = credentials;
  if (!creds) {
    creds = await t.register(phone);
  }
  const device = secureDevice(creds, { encoding: 'json', ...(keys && { keys }) });
  const { client, secure } = device;
  const contacts = await Contacts.load(new MemoryLocalStore(), { userId: creds.userId, phone });
  const lines: string[] = [];
  const room = new ChatRoom(secure, contacts, (line) => lines.push(line));
  secure.on('message', (m) => room.onMessage(m));
  client.on('chatUpdate', (u) => room.onChatUpdate(u));
  await secure.start();
  await room.refresh();
  open.push({ room, client });
  const has = (s: string | RegExp) => lines.some((l) => (typeof s === 'string' ? l === s : s.test(l)));
  return { creds, client, room, lines, has, contacts, phone, keys: device.keys, close: () => client.close() };
}

/** Everyone knows everyone's phone number (as after discovery), so lines name them by it. */
async function introduce(...people: Awaited<ReturnType<typeof person>>[]): Promise<void> {
  const all = people.map((p) => ({ phone: p.phone, userId: p.creds.userId }));
  for (const p of people) await p.contacts.learn(all.filter((x) => x.userId !== p.creds.userId));
}

const A = '+14155554001';
const B = '+14155554002';
const C = '+14155554003';

test('ticks follow receipts; opening a chat and new messages in it mark it read', async () => {
  const alice = await person(A);
  const bob = await person(B);
  await introduce(alice, bob);
  await alice.room.run('new', [B]);
  // Bob is offline: ✓ only.
  await bob.close();
  await alice.room.sendText('one');
  assert.ok(alice.has(`[${B}] #2 you: one ✓`), alice.lines.join('\n'));

  // Bob connects: delivered. His /chats shows one unread.
  const bob2 = await person(B, bob.creds, bob.keys);
  await introduce(alice, bob2);
  await until(() => alice.has(`[${B}]   ✓✓ message 2`), 'delivered');
  await bob2.room.run('chats', []);
  assert.match(bob2.lines.at(-1)!, /^ {3}1\. \+14155554001 \(direct\) 1 unread c_/);

  // He opens the chat: read.
  await bob2.room.run('open', ['1']);
  await until(() => alice.has(`[${B}]   read message 2`), 'read');
  await bob2.room.run('chats', []);
  assert.match(bob2.lines.at(-1)!, /^\* {2}1\. \+14155554001 \(direct\) c_/);

  // A new message in the open chat is read as it arrives.
  await alice.room.sendText('two');
  await until(() => alice.has(`[${B}]   read message 3`), 'read on arrival');
  assert.ok(bob2.has(`[${A}] #3 ${A}: two`));
});

test('reply, edit, react, delete and forward show on the other side', async () => {
  const alice = await person('+14155554011');
  const bob = await person('+14155554012');
  await introduce(alice, bob);
  await alice.room.run('group', ['Club', '+14155554012']);
  await alice.room.sendText('first');
  await until(() => bob.has('[Club] #2 +14155554011: first'), 'first');
  await bob.room.run('open', ['1']);
  await bob.room.run('reply', ['2', 'a reply']);
  await until(() => alice.has('[Club] #3 +14155554012: (reply to #2) a reply'), 'the reply');
  await alice.room.run('edit', ['2', 'first!']);
  await until(() => bob.has('[Club] #2 +14155554011: first! (edited)'), 'the edit');
  await bob.room.run('react', ['2', '👍']);
  await until(() => alice.has('[Club]   #2 reactions: 👍 1'), 'the reaction');
  await bob.room.run('react', ['2']);
  await until(() => alice.has('[Club]   #2 reactions: no reactions'), 'the reaction removed');
  await bob.room.run('delete', ['3']);
  await until(() => alice.has('[Club] #3 +14155554012: [deleted]'), 'the delete');

  // Alice forwards #2 to her direct chat with bob, by its /chats number.
  await alice.room.run('new', ['+14155554012']);
  await alice.room.run('chats', []);
  const number = (what: string) => /^\S*\s*(\d+)\./.exec(alice.lines.findLast((l) => l.includes(what))!)![1]!;
  await alice.room.run('open', [number('Club')]);
  await alice.room.run('forward', ['2', number('(direct)')]);
  await until(() => bob.has(/^\[\+14155554011\] #\d+ \+14155554011: \(forwarded\) first!$/), 'the forward');

  // History applies the changes to the messages they name.
  bob.lines.length = 0;
  await bob.room.run('history', []);
  assert.ok(bob.has('[Club] #2 +14155554011: first! (edited)'), bob.lines.join('\n'));
  assert.ok(bob.has('[Club] #3 you: [deleted]'), bob.lines.join('\n'));
});

test('promote, invite, join and read receipts', async () => {
  const alice = await person('+14155554021');
  const bob = await person('+14155554022');
  const carol = await person(C);
  await introduce(alice, bob, carol);
  await alice.room.run('group', ['Team', '+14155554022']);
  await alice.room.run('promote', ['+14155554022']);
  assert.equal(alice.lines.at(-1), '+14155554022 is now an admin.');
  await alice.room.run('demote', ['+14155554022']);
  assert.equal(alice.lines.at(-1), '+14155554022 is now a member.');
  await until(() => bob.has('[Team] * +14155554021 made you an admin'), 'the role update');

  await alice.room.run('invite', []);
  const code = /^Invite code for Team: (\S+)$/.exec(alice.lines.at(-2)!)![1]!;
  await carol.room.run('join', [code]);
  assert.match(carol.lines.at(-1)!, /^Opened Team/);
  await until(() => alice.has(`[Team] * ${C} joined with an invite code`), 'the join update');
  await alice.room.run('invite', ['revoke']);
  assert.equal(alice.lines.at(-1), 'Invite code revoked.');

  await bob.room.run('readreceipts', ['off']);
  assert.match(bob.lines.at(-1)!, /^Read receipts are off/);
  await bob.room.run('readreceipts', []);
  assert.match(bob.lines.at(-1)!, /^Read receipts are off/);
  await bob.room.run('readreceipts', ['on']);
  assert.match(bob.lines.at(-1)!, /^Read receipts are on/);
});
