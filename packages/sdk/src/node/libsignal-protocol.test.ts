import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CiphertextMessageType } from '@signalapp/libsignal-client';
import { E2eError, type E2eErrorCode } from '../crypto/errors.js';
import { read, TestDevices, takeBundle, text } from './libsignal-fixtures.js';
import { Namespaces } from './libsignal-stores.js';

const devices = await TestDevices.create();
after(() => devices.remove());

const code = (expected: E2eErrorCode) => (err: unknown) => err instanceof E2eError && err.code === expected;

test('a session from a bundle with a one-time prekey carries messages both ways, out of order', async () => {
  const alice = await devices.device('alice', 'alice-phone');
  const bob = await devices.device('bob', 'bob-phone');
  const bundle = takeBundle(bob);
  assert.ok(bundle.oneTimePreKey);
  await alice.protocol.startSession(bundle);
  assert.equal(await alice.protocol.hasSession('bob-phone'), true);
  assert.equal(await bob.protocol.hasSession('alice-phone'), false);

  const sent = [];
  for (let i = 0; i < 3; i++) sent.push(await alice.protocol.encrypt('bob-phone', text(`hello ${i}`)));
  assert.ok(sent.every((c) => c[0] === CiphertextMessageType.PreKey));
  for (const i of [2, 0, 1])
    assert.equal(read(await bob.protocol.decrypt('alice-phone', sent[i]!)), `hello ${i}`);
  // The one-time prekey is consumed once the session exists.
  assert.equal(await bob.store.get(Namespaces.preKey, String(bundle.oneTimePreKey.id)), undefined);

  const replies = [];
  for (let i = 0; i < 3; i++) replies.push(await bob.protocol.encrypt('alice-phone', text(`reply ${i}`)));
  assert.ok(replies.every((c) => c[0] === CiphertextMessageType.Whisper));
  for (const i of [1, 2, 0])
    assert.equal(read(await alice.protocol.decrypt('bob-phone', replies[i]!)), `reply ${i}`);

  const next = await alice.protocol.encrypt('bob-phone', text('after the reply'));
  assert.equal(next[0], CiphertextMessageType.Whisper);
  assert.equal(read(await bob.protocol.decrypt('alice-phone', next)), 'after the reply');
});

test('a session from a bundle without one-time prekeys uses the last-resort Kyber key', async () => {
  const alice = await devices.device('alice', 'alice-laptop');
  const bob = await devices.device('bob', 'bob-laptop', { oneTimeCount: 0 });
  const bundle = takeBundle(bob);
  assert.equal(bundle.oneTimePreKey, undefined);
  await alice.protocol.startSession(bundle);
  const first = await alice.protocol.encrypt('bob-laptop', text('no one-time key'));
  const second = await alice.protocol.encrypt('bob-laptop', text('still none'));
  assert.equal(read(await bob.protocol.decrypt('alice-laptop', second)), 'still none');
  assert.equal(read(await bob.protocol.decrypt('alice-laptop', first)), 'no one-time key');
  const reply = await bob.protocol.encrypt('alice-laptop', text('got it'));
  assert.equal(read(await alice.protocol.decrypt('bob-laptop', reply)), 'got it');

  // The last-resort key stays usable for the next device.
  const carol = await devices.device('carol', 'carol-phone');
  await carol.protocol.startSession(takeBundle(bob));
  const fromCarol = await carol.protocol.encrypt('bob-laptop', text('me too'));
  assert.equal(read(await bob.protocol.decrypt('carol-phone', fromCarol)), 'me too');
});

test('a message decrypted twice is reported as a duplicate', async () => {
  const alice = await devices.device('alice', 'alice-dup');
  const bob = await devices.device('bob', 'bob-dup');
  await alice.protocol.startSession(takeBundle(bob));
  const first = await alice.protocol.encrypt('bob-dup', text('once'));
  await bob.protocol.decrypt('alice-dup', first);
  await assert.rejects(bob.protocol.decrypt('alice-dup', first), code('DUPLICATE_MESSAGE'));
  const reply = await bob.protocol.encrypt('alice-dup', text('whisper'));
  await alice.protocol.decrypt('bob-dup', reply);
  await assert.rejects(alice.protocol.decrypt('bob-dup', reply), code('DUPLICATE_MESSAGE'));
});

test('a bundle whose signed prekey or last-resort signature does not verify is refused', async () => {
  const alice = await devices.device('alice', 'alice-sig');
  const bob = await devices.device('bob', 'bob-sig');
  const good = takeBundle(bob);
  const flip = (bytes: Uint8Array) => {
    const copy = bytes.slice();
    copy[10]! ^= 0x01;
    return copy;
  };
  const badSigned = {
    ...good,
    signedPreKey: { ...good.signedPreKey, signature: flip(good.signedPreKey.signature) },
  };
  await assert.rejects(alice.protocol.startSession(badSigned), code('BAD_BUNDLE'));
  const badKyber = {
    ...good,
    lastResortKey: { ...good.lastResortKey, signature: flip(good.lastResortKey.signature) },
  };
  await assert.rejects(alice.protocol.startSession(badKyber), code('BAD_BUNDLE'));
  const swappedKey = {
    ...good,
    signedPreKey: { ...good.signedPreKey, publicKey: flip(good.signedPreKey.publicKey) },
  };
  await assert.rejects(alice.protocol.startSession(swappedKey), code('BAD_BUNDLE'));
  const otherIdentity = { ...good, identityKey: (await devices.device('eve', 'eve-sig')).upload.identityKey };
  await assert.rejects(alice.protocol.startSession(otherIdentity), code('BAD_BUNDLE'));
  assert.equal(await alice.protocol.hasSession('bob-sig'), false);
  await alice.protocol.startSession(good);
  assert.equal(await alice.protocol.hasSession('bob-sig'), true);
});

test('three devices talk pairwise, each pair with its own session', async () => {
  const all = [
    await devices.device('ann', 'ann-1'),
    await devices.device('ben', 'ben-1'),
    await devices.device('cat', 'cat-1'),
  ];
  for (const from of all) {
    for (const to of all) {
      if (from === to || (await from.protocol.hasSession(to.deviceId))) continue;
      await from.protocol.startSession(takeBundle(to));
    }
  }
  for (let round = 0; round < 2; round++) {
    for (const from of all) {
      for (const to of all) {
        if (from === to) continue;
        const message = `${from.deviceId} to ${to.deviceId} #${round}`;
        const ciphertext = await from.protocol.encrypt(to.deviceId, text(message));
        assert.equal(read(await to.protocol.decrypt(from.deviceId, ciphertext)), message);
      }
    }
  }
  // A message for one device cannot be read by another.
  const forBen = await all[0]!.protocol.encrypt('ben-1', text('for ben only'));
  await assert.rejects(all[2]!.protocol.decrypt('ann-1', forBen), code('DECRYPT_FAILED'));
});

test('malformed input is refused with a code: no session, bad bytes, bad ids, bad counts', async () => {
  const alice = await devices.device('alice', 'alice-bad');
  await assert.rejects(alice.protocol.encrypt('nobody', text('x')), code('NO_SESSION'));
  await assert.rejects(alice.protocol.decrypt('nobody', new Uint8Array([2, 1, 2, 3])), code('BAD_MESSAGE'));
  await assert.rejects(alice.protocol.decrypt('nobody', new Uint8Array([9, 1, 2, 3])), code('BAD_MESSAGE'));
  await assert.rejects(alice.protocol.decrypt('nobody', new Uint8Array([3])), code('BAD_MESSAGE'));
  await assert.rejects(alice.protocol.hasSession(''), code('INVALID_ARGUMENT'));
  await assert.rejects(alice.protocol.hasSession('x'.repeat(65)), code('INVALID_ARGUMENT'));
  await assert.rejects(alice.protocol.hasSession('tab\there'), code('INVALID_ARGUMENT'));
  await assert.rejects(alice.protocol.newOneTimePreKeys(-1), code('INVALID_ARGUMENT'));
  await assert.rejects(alice.protocol.newOneTimePreKeys(1.5), code('INVALID_ARGUMENT'));
});

test('initKeys again keeps the identity and registration id; key ids keep increasing', async () => {
  const alice = await devices.device('alice', 'alice-keys', { oneTimeCount: 3 });
  const { upload } = alice;
  assert.equal(upload.identityKey.length, 33);
  assert.equal(upload.signedPreKey.publicKey.length, 33);
  assert.equal(upload.lastResortKey.publicKey.length, 1569);
  assert.equal(upload.signedPreKey.signature.length, 64);
  assert.ok(upload.registrationId >= 1 && upload.registrationId <= 16380);
  assert.deepEqual(
    upload.oneTimePreKeys.map((k) => k.id),
    [1, 2, 3],
  );
  assert.deepEqual(await alice.protocol.identityKey(), upload.identityKey);

  const again = await alice.protocol.initKeys(2);
  assert.deepEqual(again.identityKey, upload.identityKey);
  assert.equal(again.registrationId, upload.registrationId);
  assert.ok(again.signedPreKey.id > upload.signedPreKey.id);
  assert.ok(again.lastResortKey.id > upload.lastResortKey.id);
  assert.deepEqual(
    again.oneTimePreKeys.map((k) => k.id),
    [4, 5],
  );
  const more = await alice.protocol.newOneTimePreKeys(2);
  assert.deepEqual(
    more.map((k) => k.id),
    [6, 7],
  );
  assert.deepEqual(await alice.protocol.newOneTimePreKeys(0), []);
});

test('a replayed first message of a last-resort session is refused even after the session is gone', async () => {
  const alice = await devices.device('alice', 'alice-replay');
  const bob = await devices.device('bob', 'bob-replay', { oneTimeCount: 0 });
  await alice.protocol.startSession(takeBundle(bob));
  const first = await alice.protocol.encrypt('bob-replay', text('first'));
  assert.equal(read(await bob.protocol.decrypt('alice-replay', first)), 'first');
  await bob.store.delete(Namespaces.session, 'alice-replay');
  await assert.rejects(bob.protocol.decrypt('alice-replay', first), code('DECRYPT_FAILED'));
});
