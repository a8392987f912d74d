import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { E2eError, type E2eErrorCode } from '../crypto/errors.js';
import { ManualTimers } from '../testing/manual-timers.js';
import { publish, read, type TestDevice, TestDevices, takeBundle, text } from './libsignal-fixtures.js';
import { LibsignalProtocol } from './libsignal-protocol.js';
import { Namespaces, parseUsedKyberKey } from './libsignal-stores.js';
import { SqliteKeyValueStore } from './sqlite-key-store.js';

const devices = await TestDevices.create();
after(() => devices.remove());

const DAY = 24 * 60 * 60 * 1000;
const GRACE = 30 * DAY;
const code = (expected: E2eErrorCode) => (err: unknown) => err instanceof E2eError && err.code === expected;

/** A device whose protocol runs on a clock the test moves. */
async function clocked(userId: string, deviceId: string, oneTimeCount = 2) {
  const clock = new ManualTimers(Date.now());
  const device = await devices.device(userId, deviceId, { now: clock.now, oneTimeCount });
  return { device, clock };
}

async function rotate(device: TestDevice) {
  const keys = await device.protocol.rotateSignedKeys();
  await device.protocol.commitSignedKeys(keys);
  publish(device, keys);
  return keys;
}

async function firstMessage(from: TestDevice, to: TestDevice, bundle = takeBundle(to), body = 'hello') {
  await from.protocol.startSession(bundle);
  return from.protocol.encrypt(to.deviceId, text(body));
}

test('after a rotation, a session started from the bundle fetched before it still decrypts', async () => {
  const { device: bob, clock } = await clocked('bob', 'rot-bob');
  const alice = await devices.device('alice', 'rot-alice');
  const carol = await devices.device('carol', 'rot-carol');
  const oldBundle = takeBundle(bob, false);
  const made = clock.t;

  clock.advance(8 * DAY);
  const keys = await rotate(bob);
  assert.ok(keys.signedPreKey.id > oldBundle.signedPreKey.id);
  assert.ok(keys.lastResortKey.id > oldBundle.lastResortKey.id);
  assert.deepEqual(await bob.protocol.currentSignedKeys(), {
    signedPreKeyId: keys.signedPreKey.id,
    lastResortKeyId: keys.lastResortKey.id,
    createdAt: clock.t,
    oldestRetiredAt: clock.t,
  });
  assert.ok(clock.t > made);

  // Within the grace period the old keys are kept: a late first message to them decrypts.
  clock.advance(GRACE - 1);
  assert.deepEqual(await bob.protocol.pruneRetiredKeys(GRACE), {
    signedPreKeyIds: [],
    lastResortKeyIds: [],
    usedKyberRecords: 0,
  });
  const late = await firstMessage(alice, bob, oldBundle, 'sent to the old bundle');
  assert.equal(read(await bob.protocol.decrypt('rot-alice', late)), 'sent to the old bundle');
  const fresh = await firstMessage(carol, bob, takeBundle(bob), 'sent to the new bundle');
  assert.equal(read(await bob.protocol.decrypt('rot-carol', fresh)), 'sent to the new bundle');
});

test('after pruning, a first message to a pruned signed prekey fails with UNKNOWN_PREKEY; sessions and new keys work', async () => {
  const { device: bob, clock } = await clocked('bob', 'prune-bob');
  const alice = await devices.device('alice', 'prune-alice');
  const carol = await devices.device('carol', 'prune-carol');
  const dave = await devices.device('dave', 'prune-dave');
  const oldForAlice = takeBundle(bob, false);
  // Carol's session starts before the rotation and bob reads it; bob never replies, so her
  // later messages still name the old keys (libsignal matches them to the session).
  const carolFirst = await firstMessage(carol, bob, takeBundle(bob, false), 'carol 1');
  assert.equal(read(await bob.protocol.decrypt('prune-carol', carolFirst)), 'carol 1');

  const keys = await rotate(bob);
  clock.advance(GRACE);
  const pruned = await bob.protocol.pruneRetiredKeys(GRACE);
  assert.deepEqual(pruned.signedPreKeyIds, [oldForAlice.signedPreKey.id]);
  assert.deepEqual(pruned.lastResortKeyIds, [oldForAlice.lastResortKey.id]);
  assert.equal(await bob.store.get(Namespaces.signedPreKey, String(oldForAlice.signedPreKey.id)), undefined);
  assert.equal((await bob.protocol.currentSignedKeys())?.oldestRetiredAt, undefined);

  const toPruned = await firstMessage(alice, bob, oldForAlice, 'too late');
  await assert.rejects(bob.protocol.decrypt('prune-alice', toPruned), code('UNKNOWN_PREKEY'));

  const carolSecond = await carol.protocol.encrypt('prune-bob', text('carol 2'));
  assert.equal(read(await bob.protocol.decrypt('prune-carol', carolSecond)), 'carol 2');
  const toNew = await firstMessage(dave, bob, takeBundle(bob), 'on the new keys');
  assert.equal(read(await bob.protocol.decrypt('prune-dave', toNew)), 'on the new keys');
  assert.equal((await bob.protocol.currentSignedKeys())?.signedPreKeyId, keys.signedPreKey.id);
});

test('pruning deletes the used-Kyber records of the keys it deletes and keeps those of kept keys', async () => {
  const { device: bob, clock } = await clocked('bob', 'used-bob', 0);
  const alice = await devices.device('alice', 'used-alice');
  const carol = await devices.device('carol', 'used-carol');
  const first = await firstMessage(alice, bob);
  await bob.protocol.decrypt('used-alice', first);
  const old = bob.upload;
  const keys = await rotate(bob);
  const second = await firstMessage(carol, bob);
  await bob.protocol.decrypt('used-carol', second);
  const used = async () => (await bob.store.keys(Namespaces.kyberUsed)).map(parseUsedKyberKey);
  assert.deepEqual(
    (await used()).map((u) => u.kyberId).sort(),
    [old.lastResortKey.id, keys.lastResortKey.id].sort(),
  );

  clock.advance(GRACE);
  const pruned = await bob.protocol.pruneRetiredKeys(GRACE);
  assert.equal(pruned.usedKyberRecords, 1);
  assert.deepEqual(await used(), [{ kyberId: keys.lastResortKey.id, signedPreKeyId: keys.signedPreKey.id }]);
  // The kept record still refuses a replay of carol's first message.
  await bob.store.delete(Namespaces.session, 'used-carol');
  await assert.rejects(bob.protocol.decrypt('used-carol', second), code('DECRYPT_FAILED'));
});

test('an unconfirmed rotation returns the same keys until committed, decrypts, and is never pruned', async () => {
  const { device: bob, clock } = await clocked('bob', 'pend-bob');
  const alice = await devices.device('alice', 'pend-alice');
  const before = await bob.protocol.currentSignedKeys();
  clock.advance(DAY);
  const pendingMade = clock.t;
  const pending = await bob.protocol.rotateSignedKeys();
  assert.deepEqual(await bob.protocol.rotateSignedKeys(), pending, 'a retried upload sends the same keys');
  assert.deepEqual(await bob.protocol.currentSignedKeys(), before, 'not current before the server accepts');

  // The server may have stored them even though the answer was lost: messages to them work.
  clock.advance(GRACE);
  await bob.protocol.pruneRetiredKeys(0);
  const early = await firstMessage(alice, bob, { ...takeBundle(bob), ...pending }, 'to the pending keys');
  assert.equal(read(await bob.protocol.decrypt('pend-alice', early)), 'to the pending keys');

  const wrong = { ...pending, signedPreKey: { ...pending.signedPreKey, id: pending.signedPreKey.id + 7 } };
  await assert.rejects(bob.protocol.commitSignedKeys(wrong), code('INVALID_ARGUMENT'));
  await bob.protocol.commitSignedKeys(pending);
  await bob.protocol.commitSignedKeys(pending);
  const status = await bob.protocol.currentSignedKeys();
  assert.equal(status?.signedPreKeyId, pending.signedPreKey.id);
  assert.equal(status?.createdAt, pendingMade, 'made when rotateSignedKeys made it');
  assert.equal(status?.oldestRetiredAt, clock.t);
  const next = await bob.protocol.rotateSignedKeys();
  assert.ok(next.signedPreKey.id > pending.signedPreKey.id, 'a new rotation after the commit');
});

test('key ids keep increasing across rotations, pruning and restarts; the key age survives a restart', async () => {
  const { device, clock } = await clocked('bob', 'ids-bob');
  let bob = device;
  const seen = [bob.upload.signedPreKey.id];
  const seenKyber = [bob.upload.lastResortKey.id];
  for (let i = 0; i < 2; i++) {
    clock.advance(DAY);
    const keys = await rotate(bob);
    seen.push(keys.signedPreKey.id);
    seenKyber.push(keys.lastResortKey.id);
  }
  const pruned = await bob.protocol.pruneRetiredKeys(0);
  assert.deepEqual(pruned.signedPreKeyIds, seen.slice(0, 2));
  assert.deepEqual(pruned.lastResortKeyIds, seenKyber.slice(0, 2));
  const status = await bob.protocol.currentSignedKeys();

  bob = await devices.reopen(bob);
  assert.deepEqual(await bob.protocol.currentSignedKeys(), status);
  const again = await bob.protocol.initKeys(1);
  assert.ok(again.signedPreKey.id > Math.max(...seen));
  assert.ok(again.lastResortKey.id > Math.max(...seenKyber));
  assert.equal(again.oneTimePreKeys[0]?.id, bob.upload.oneTimePreKeys.length + 1);
  const rotated = await bob.protocol.rotateSignedKeys();
  assert.ok(rotated.signedPreKey.id > again.signedPreKey.id);
  assert.ok(seen.every((id) => id < rotated.signedPreKey.id));
  await bob.store.close();
});

test('a key store from before rotation tracking adopts its newest keys as current and retires the rest', async () => {
  const { device: bob, clock } = await clocked('bob', 'legacy-bob');
  const firstMade = clock.t;
  clock.advance(DAY);
  const second = await bob.protocol.initKeys(0);
  await bob.store.delete(Namespaces.meta, 'signed-keys');
  clock.advance(DAY);
  const status = await bob.protocol.currentSignedKeys();
  assert.deepEqual(status, {
    signedPreKeyId: second.signedPreKey.id,
    lastResortKeyId: second.lastResortKey.id,
    createdAt: firstMade + DAY,
    oldestRetiredAt: clock.t,
  });
  const pruned = await bob.protocol.pruneRetiredKeys(0);
  assert.deepEqual(pruned.signedPreKeyIds, [bob.upload.signedPreKey.id]);
  assert.deepEqual(pruned.lastResortKeyIds, [bob.upload.lastResortKey.id]);
});

test('rotation before initKeys and a negative pruning age are refused', async () => {
  const store = await SqliteKeyValueStore.open(join(devices.root, 'fresh', 'keys.db'));
  const protocol = new LibsignalProtocol({ store, deviceId: 'fresh' });
  assert.equal(await protocol.currentSignedKeys(), undefined);
  await assert.rejects(protocol.rotateSignedKeys(), code('INVALID_ARGUMENT'));
  await assert.rejects(protocol.pruneRetiredKeys(-1), code('INVALID_ARGUMENT'));
  await assert.rejects(protocol.pruneRetiredKeys(Number.NaN), code('INVALID_ARGUMENT'));
  await protocol.initKeys(0);
  assert.ok(await protocol.currentSignedKeys());
  await store.close();
});

test('a signed key saved by a crash before it was handed out is deleted once older than the grace period', async () => {
  const { device: bob, clock } = await clocked('bob', 'crash-bob');
  // As if the process died between saving a new key and recording it: no step names id 999.
  const record = await bob.store.get(Namespaces.signedPreKey, String(bob.upload.signedPreKey.id));
  await bob.store.put(Namespaces.signedPreKey, '999', record!);
  assert.deepEqual((await bob.protocol.pruneRetiredKeys(GRACE)).signedPreKeyIds, [], 'too new to tell');
  clock.advance(GRACE);
  const pruned = await bob.protocol.pruneRetiredKeys(GRACE);
  assert.deepEqual(pruned.signedPreKeyIds, [999]);
  assert.deepEqual(await bob.store.keys(Namespaces.signedPreKey), [String(bob.upload.signedPreKey.id)]);
});
