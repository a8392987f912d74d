import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import type { Logger } from '../log.js';
import { addUser, T0 } from '../ports/store-fixtures.js';
import type { DeviceId } from '../ports/types.js';
import { DeviceTouches } from './device-touches.js';

/** A real store; the batches it was asked to write are recorded on the way through. */
function setup(failing = false) {
  const store = new SqliteStore({ path: ':memory:' });
  const batches: DeviceId[][] = [];
  const touchMany = store.devicesTouch.bind(store);
  store.devicesTouch = (ids, now) => {
    batches.push([...ids]);
    return failing ? Promise.reject(new Error('disk full')) : touchMany(ids, now);
  };
  const warnings: string[] = [];
  const log = { warn: (_o: unknown, msg: string) => warnings.push(msg) } as unknown as Logger;
  let now = T0 + 1000;
  const touches = new DeviceTouches(store, log, 20, () => now);
  const seen = async (id: DeviceId) => (await store.deviceByTokenHash(`token-${id}`))?.lastSeenAt;
  return { store, touches, batches, warnings, seen, setNow: (t: number) => (now = t) };
}

describe('DeviceTouches', () => {
  it('writes the touches of one interval in one batch, each device once', async () => {
    const { store, touches, batches, seen } = setup();
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    touches.touch(a.deviceId);
    touches.touch(b.deviceId);
    touches.touch(a.deviceId);
    assert.equal(batches.length, 0, 'nothing is written at once');
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(batches, [[a.deviceId, b.deviceId]]);
    assert.equal(await seen(a.deviceId), T0 + 1000);
    assert.equal(await seen(b.deviceId), T0 + 1000);
    store.close();
  });

  it('flush writes what is pending at once (shutdown), and nothing when nothing is', async () => {
    const { store, touches, batches, seen, setNow } = setup();
    const a = await addUser(store, 1);
    await touches.flush();
    assert.equal(batches.length, 0);
    setNow(T0 + 5000);
    touches.touch(a.deviceId);
    await touches.flush();
    assert.deepEqual(batches, [[a.deviceId]]);
    assert.equal(await seen(a.deviceId), T0 + 5000);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(batches.length, 1, 'the timer of a flushed batch writes nothing more');
    store.close();
  });

  it('a failed write is logged and the node goes on', async () => {
    const { store, touches, batches, warnings } = setup(true);
    const a = await addUser(store, 1);
    touches.touch(a.deviceId);
    await touches.flush();
    assert.equal(batches.length, 1);
    assert.deepEqual(warnings, ['recording last-seen times failed']);
    touches.touch(a.deviceId);
    await touches.flush();
    assert.equal(batches.length, 2, 'later touches are still written');
    store.close();
  });
});
