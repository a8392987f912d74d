/** What only the libsignal protocol's store layout shows: adopting an old store, crash leftovers. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ManualTimers } from '../testing/manual-timers.js';
import { TestDevices } from './libsignal-fixtures.js';
import { Namespaces } from './libsignal-stores.js';

const devices = await TestDevices.create();
after(() => devices.remove());

const DAY = 24 * 60 * 60 * 1000;
const GRACE = 30 * DAY;

/** A device whose protocol runs on a clock the test moves. */
async function clocked(userId: string, deviceId: string, oneTimeCount = 2) {
  const clock = new ManualTimers(Date.now());
  const device = await devices.device(userId, deviceId, { now: clock.now, oneTimeCount });
  return { device, clock };
}

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
