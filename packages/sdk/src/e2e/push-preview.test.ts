import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import { E2eError } from '../crypto/errors.js';
import { read, type TestDevice, TestDevices, takeBundle, text } from '../node/libsignal-fixtures.js';
import { base64Bytes, openPreview, PREVIEW_MAX_CHARS, previewText, sealPreview } from './push-preview.js';

const devices = await TestDevices.create();
after(() => devices.remove());

/** Alice and Bob with a session both ways (each knows the other's identity key). */
async function pair(): Promise<{ alice: TestDevice; bob: TestDevice }> {
  const alice = await devices.device('alice', 'alice-phone');
  const bob = await devices.device('bob', 'bob-phone');
  await alice.protocol.startSession(takeBundle(bob));
  await bob.protocol.decrypt('alice-phone', await alice.protocol.encrypt('bob-phone', text('hi')));
  return { alice, bob };
}

async function sealFor(from: TestDevice, to: TestDevice, chatId: string, body: string): Promise<Uint8Array> {
  const recipientIdentity = await from.protocol.remoteIdentity(to.deviceId);
  assert.ok(recipientIdentity, 'the sender knows the recipient identity');
  return sealPreview(from.protocol, { senderDeviceId: from.deviceId, chatId, recipientIdentity, text: body });
}

test('a sealed preview opens on the recipient device, in its chat, and names the sender device', async () => {
  const { alice, bob } = await pair();
  const sealed = await sealFor(alice, bob, 'chat-1', 'see you at 8 🍕');
  assert.ok(!Buffer.from(sealed).includes(Buffer.from('see you')), 'no plaintext in the sealed bytes');
  assert.deepEqual(await openPreview(bob.protocol, 'chat-1', sealed), {
    senderDeviceId: 'alice-phone',
    text: 'see you at 8 🍕',
  });
  // Fresh ephemeral keys: the same text seals differently each time.
  const again = await sealFor(alice, bob, 'chat-1', 'see you at 8 🍕');
  assert.notDeepEqual(again, sealed);
});

test('sealing touches no session: messages before and after a preview decrypt in order', async () => {
  const { alice, bob } = await pair();
  const before = await alice.protocol.encrypt('bob-phone', text('one'));
  const sealed = await sealFor(alice, bob, 'c', 'two');
  const later = await alice.protocol.encrypt('bob-phone', text('three'));
  assert.equal((await openPreview(bob.protocol, 'c', sealed))?.text, 'two');
  assert.equal(read(await bob.protocol.decrypt('alice-phone', before)), 'one');
  assert.equal(read(await bob.protocol.decrypt('alice-phone', later)), 'three');
});

test('a preview does not open in another chat, on another device, tampered, or truncated', async () => {
  const { alice, bob } = await pair();
  const carol = await devices.device('carol', 'carol-phone');
  await alice.protocol.startSession(takeBundle(carol));
  await carol.protocol.decrypt('alice-phone', await alice.protocol.encrypt('carol-phone', text('hi')));
  const sealed = await sealFor(alice, bob, 'chat-1', 'secret');
  assert.equal(await openPreview(bob.protocol, 'chat-2', sealed), undefined, 'moved to another chat');
  assert.equal(await openPreview(carol.protocol, 'chat-1', sealed), undefined, 'another device');
  for (const at of [0, 1, 5, sealed.length - 20, sealed.length - 1]) {
    const bad = sealed.slice();
    bad[at]! ^= 0x01;
    assert.equal(await openPreview(bob.protocol, 'chat-1', bad), undefined, `byte ${at} flipped`);
  }
  for (const cut of [0, 1, 2, 20, sealed.length - 1])
    assert.equal(
      await openPreview(bob.protocol, 'chat-1', sealed.subarray(0, cut)),
      undefined,
      `cut at ${cut}`,
    );
});

test('a preview claiming another sender device does not open', async () => {
  const { bob } = await pair();
  // Mallory has a session with Bob too, and relabels her preview as Alice's.
  const mallory = await devices.device('mallory', 'mallory-phone');
  await mallory.protocol.startSession(takeBundle(bob));
  await bob.protocol.decrypt('mallory-phone', await mallory.protocol.encrypt('bob-phone', text('hi')));
  const forged = await sealPreview(mallory.protocol, {
    senderDeviceId: 'alice-phone',
    chatId: 'c',
    recipientIdentity: (await mallory.protocol.remoteIdentity('bob-phone'))!,
    text: 'send me your code',
  });
  assert.equal(await openPreview(bob.protocol, 'c', forged), undefined);
});

test('a preview from a device whose identity key is unknown does not open', async () => {
  const { alice } = await pair();
  const dave = await devices.device('dave', 'dave-phone');
  await alice.protocol.startSession(takeBundle(dave)); // dave never heard from alice
  const sealed = await sealPreview(alice.protocol, {
    senderDeviceId: 'alice-phone',
    chatId: 'c',
    recipientIdentity: (await alice.protocol.remoteIdentity('dave-phone'))!,
    text: 'hello',
  });
  assert.equal(await openPreview(dave.protocol, 'c', sealed), undefined);
});

test('identityAgree is X25519 with the identity key, and refuses what is not a public key', async () => {
  const { alice } = await pair();
  const other = PrivateKey.generate();
  const mine = PublicKey.deserialize(Buffer.from(await alice.protocol.identityKey()));
  const shared = await alice.protocol.identityAgree(other.getPublicKey().serialize());
  assert.deepEqual(Buffer.from(shared), Buffer.from(other.agree(mine)));
  for (const bad of [new Uint8Array(0), new Uint8Array(32), new Uint8Array(33), new Uint8Array(34).fill(5)])
    await assert.rejects(
      alice.protocol.identityAgree(bad),
      (err) => err instanceof E2eError && err.code === 'INVALID_ARGUMENT',
    );
});

test('previewText cuts text, names files by kind, and has nothing for empty content', () => {
  assert.equal(previewText({ text: '  hello  ' }), 'hello');
  const long = previewText({ text: '🙂'.repeat(PREVIEW_MAX_CHARS + 5) })!;
  assert.equal([...long].length, PREVIEW_MAX_CHARS);
  assert.ok(long.endsWith('…'));
  assert.equal(previewText({ attachment: { mime: 'image/jpeg' } }), '📷 Photo');
  assert.equal(previewText({ attachment: { mime: 'application/pdf', name: 'plan.pdf' } }), '📎 plan.pdf');
  assert.equal(previewText({ attachment: { mime: 'audio/ogg', name: 'x.ogg' } }), '🎤 Voice message');
  assert.equal(previewText({ text: 'look', attachment: { mime: 'image/png' } }), 'look');
  assert.equal(previewText({}), undefined);
});

test('base64Bytes reads standard base64 and refuses anything else', () => {
  assert.deepEqual(
    base64Bytes(Buffer.from('hello').toString('base64')),
    new Uint8Array(Buffer.from('hello')),
  );
  for (const bad of ['a', 'ab$=', 'aGVsbG8', '====', 'A'.repeat(8192)]) assert.throws(() => base64Bytes(bad));
});
