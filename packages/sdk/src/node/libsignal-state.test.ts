import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { E2eError, type E2eErrorCode } from '../crypto/errors.js';
import { read, type TestDevice, TestDevices, takeBundle, text } from './libsignal-fixtures.js';

const devices = await TestDevices.create();
after(() => devices.remove());

const code = (expected: E2eErrorCode) => (err: unknown) => err instanceof E2eError && err.code === expected;

async function connect(a: TestDevice, b: TestDevice): Promise<void> {
  await a.protocol.startSession(takeBundle(b));
  await b.protocol.decrypt(a.deviceId, await a.protocol.encrypt(b.deviceId, text('hi')));
}

/** Sends the sender key over the pairwise session, as the client will. */
async function distribute(chatId: string, from: TestDevice, to: TestDevice): Promise<void> {
  const sealed = await from.protocol.encrypt(to.deviceId, await from.protocol.senderKeyDistribution(chatId));
  await to.protocol.processSenderKeyDistribution(
    from.deviceId,
    await to.protocol.decrypt(from.deviceId, sealed),
  );
}

test('group: a sender key given to two members lets both decrypt, in any order', async () => {
  const ann = await devices.device('ann', 'g-ann');
  const ben = await devices.device('ben', 'g-ben');
  const cat = await devices.device('cat', 'g-cat');
  await connect(ann, ben);
  await connect(ann, cat);
  await assert.rejects(ann.protocol.groupEncrypt('chat-1', text('too early')), code('NO_SENDER_KEY'));
  await distribute('chat-1', ann, ben);
  await distribute('chat-1', ann, cat);
  const first = await ann.protocol.groupEncrypt('chat-1', text('hello group'));
  const second = await ann.protocol.groupEncrypt('chat-1', text('second'));
  assert.equal(read(await ben.protocol.groupDecrypt('g-ann', first)), 'hello group');
  assert.equal(read(await ben.protocol.groupDecrypt('g-ann', second)), 'second');
  assert.equal(read(await cat.protocol.groupDecrypt('g-ann', second)), 'second');
  assert.equal(read(await cat.protocol.groupDecrypt('g-ann', first)), 'hello group');
  await assert.rejects(cat.protocol.groupDecrypt('g-ann', first), code('DUPLICATE_MESSAGE'));
  // The key is per sender: nobody else's messages can be read with it.
  await assert.rejects(cat.protocol.groupDecrypt('g-ben', first), code('NO_SENDER_KEY'));
  // Distributing again hands out the same key, so earlier holders are not disturbed.
  await distribute('chat-1', ann, ben);
  const third = await ann.protocol.groupEncrypt('chat-1', text('third'));
  assert.equal(read(await cat.protocol.groupDecrypt('g-ann', third)), 'third');
});

test('group: after rotation, a removed member holding the old key cannot read new messages', async () => {
  const ann = await devices.device('ann', 'r-ann');
  const ben = await devices.device('ben', 'r-ben');
  const cat = await devices.device('cat', 'r-cat');
  await connect(ann, ben);
  await connect(ann, cat);
  await distribute('chat-2', ann, ben);
  await distribute('chat-2', ann, cat);
  const before = await ann.protocol.groupEncrypt('chat-2', text('before removal'));
  assert.equal(read(await cat.protocol.groupDecrypt('r-ann', before)), 'before removal');

  await ann.protocol.rotateSenderKey('chat-2');
  await distribute('chat-2', ann, ben);
  const afterRemoval = await ann.protocol.groupEncrypt('chat-2', text('cat was removed'));
  assert.equal(read(await ben.protocol.groupDecrypt('r-ann', afterRemoval)), 'cat was removed');
  await assert.rejects(cat.protocol.groupDecrypt('r-ann', afterRemoval), code('NO_SENDER_KEY'));
  assert.equal(read(await ben.protocol.groupDecrypt('r-ann', before)), 'before removal');
});

test('group: a non-group ciphertext or a garbled distribution message is refused', async () => {
  const ann = await devices.device('ann', 'x-ann');
  const ben = await devices.device('ben', 'x-ben');
  await connect(ann, ben);
  const pairwise = await ann.protocol.encrypt('x-ben', text('pairwise'));
  await assert.rejects(ben.protocol.groupDecrypt('x-ann', pairwise), code('BAD_MESSAGE'));
  await assert.rejects(
    ben.protocol.processSenderKeyDistribution('x-ann', text('garbage')),
    code('BAD_MESSAGE'),
  );
});

test('persistence: after closing and reopening both SQLite files, the sessions and sender keys continue', async () => {
  let ann = await devices.device('ann', 'p-ann');
  let ben = await devices.device('ben', 'p-ben');
  await connect(ann, ben);
  await distribute('chat-3', ann, ben);
  const pending = await ann.protocol.encrypt('p-ben', text('sent before the restart'));

  ann = await devices.reopen(ann);
  ben = await devices.reopen(ben);
  assert.deepEqual(await ann.protocol.identityKey(), ann.upload.identityKey);
  assert.equal(await ann.protocol.hasSession('p-ben'), true);
  assert.equal(read(await ben.protocol.decrypt('p-ann', pending)), 'sent before the restart');
  const reply = await ben.protocol.encrypt('p-ann', text('after the restart'));
  assert.equal(read(await ann.protocol.decrypt('p-ben', reply)), 'after the restart');
  const group = await ann.protocol.groupEncrypt('chat-3', text('group after restart'));
  assert.equal(read(await ben.protocol.groupDecrypt('p-ann', group)), 'group after restart');
  const more = await ann.protocol.newOneTimePreKeys(1);
  assert.equal(more[0]!.id, ann.upload.oneTimePreKeys.length + 1);
  await ann.store.close();
  await ben.store.close();
});

test('identity change: a re-registered device is accepted and reported through onIdentityChange', async () => {
  const changes: { deviceId: string; oldKey: Uint8Array; newKey: Uint8Array }[] = [];
  const ann = await devices.device('ann', 'i-ann', {
    onIdentityChange: (deviceId, oldKey, newKey) => {
      changes.push({ deviceId, oldKey, newKey });
    },
  });
  const ben = await devices.device('ben', 'i-ben');
  await connect(ann, ben);
  assert.deepEqual(await ann.protocol.remoteIdentity('i-ben'), ben.upload.identityKey);
  assert.equal(await ann.protocol.remoteIdentity('i-nobody'), undefined);
  assert.equal(changes.length, 0);

  // Ben reinstalls: same device id, new keys. Ann learns it from his new bundle.
  const ben2 = await devices.device('ben', 'i-ben');
  await ann.protocol.startSession(takeBundle(ben2));
  assert.equal(changes.length, 1);
  assert.equal(changes[0]!.deviceId, 'i-ben');
  assert.deepEqual(changes[0]!.oldKey, ben.upload.identityKey);
  assert.deepEqual(changes[0]!.newKey, ben2.upload.identityKey);
  assert.deepEqual(await ann.protocol.remoteIdentity('i-ben'), ben2.upload.identityKey);
  const hello = await ann.protocol.encrypt('i-ben', text('welcome back'));
  assert.equal(read(await ben2.protocol.decrypt('i-ann', hello)), 'welcome back');

  // Ben reinstalls again and writes first: Ann learns it from his first message.
  const ben3 = await devices.device('ben', 'i-ben');
  await ben3.protocol.startSession(takeBundle(ann));
  const first = await ben3.protocol.encrypt('i-ann', text('new phone'));
  assert.equal(read(await ann.protocol.decrypt('i-ben', first)), 'new phone');
  assert.equal(changes.length, 2);
  assert.deepEqual(changes[1]!.newKey, ben3.upload.identityKey);
});

test('identity change: a throwing listener does not lose the decrypted message', async (t) => {
  const logged = t.mock.method(console, 'error', () => {});
  const ann = await devices.device('ann', 'l-ann', {
    onIdentityChange: () => {
      throw new Error('listener bug');
    },
  });
  const ben = await devices.device('ben', 'l-ben');
  await connect(ann, ben);
  const ben2 = await devices.device('ben', 'l-ben');
  await ben2.protocol.startSession(takeBundle(ann));
  const first = await ben2.protocol.encrypt('l-ann', text('still delivered'));
  assert.equal(read(await ann.protocol.decrypt('l-ben', first)), 'still delivered');
  assert.equal(logged.mock.callCount(), 1);
});
