/**
 * The upload locks against a real Redis (PARLEY_TEST_REDIS_URL): two lockers stand for two
 * nodes. One holds an upload's lock and the other waits, then gets 423; once released, the
 * other takes it; a lock whose node died lapses after its TTL; a lock is renewed while held;
 * only the holder's token releases it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { LOCKED, RedisUploadLocker, uploadLockKey } from './upload-locks.js';

const redisUrl = process.env.PARLEY_TEST_REDIS_URL;
if (!redisUrl) console.log('# skipping the upload locks in Redis: PARLEY_TEST_REDIS_URL is not set');

describe('upload locks in Redis', { skip: redisUrl ? false : 'PARLEY_TEST_REDIS_URL is not set' }, () => {
  const redis = redisUrl ? new Redis(redisUrl) : undefined;
  after(() => redis?.disconnect());
  const id = () => randomBytes(16).toString('hex');
  const noRelease = () => {};

  it('a second node waits for the holder, gets 423 in time, and takes the lock once released', async () => {
    const n1 = new RedisUploadLocker(redis!, { waitMs: 300 });
    const n2 = new RedisUploadLocker(redis!, { waitMs: 300 });
    const upload = id();
    const held = n1.newLock(upload);
    await held.lock(new AbortController().signal, noRelease);
    const started = Date.now();
    await assert.rejects(n2.newLock(upload).lock(new AbortController().signal, noRelease), (err) => {
      assert.deepEqual(err, LOCKED);
      return true;
    });
    assert.ok(Date.now() - started >= 200, 'it waited before giving up');
    // Waiting while the holder lets go: the waiter gets it.
    const waiter = n2.newLock(upload);
    const waiting = waiter.lock(new AbortController().signal, noRelease);
    setTimeout(() => void held.unlock(), 50);
    await waiting;
    assert.ok(await redis!.get(uploadLockKey(upload)), 'the waiter holds it now');
    await waiter.unlock();
    assert.equal(await redis!.get(uploadLockKey(upload)), null, 'released');
  });

  it('a lock left by a node that died lapses after its TTL; a held one is renewed', async () => {
    const upload = id();
    await redis!.set(uploadLockKey(upload), 'a-dead-node', 'PX', 200);
    const n2 = new RedisUploadLocker(redis!, { waitMs: 2000, ttlMs: 300 });
    const lock = n2.newLock(upload);
    await lock.lock(new AbortController().signal, noRelease);
    // Held past three TTLs: the renewal keeps it.
    await new Promise((r) => setTimeout(r, 900));
    const other = new RedisUploadLocker(redis!, { waitMs: 100 });
    await assert.rejects(other.newLock(upload).lock(new AbortController().signal, noRelease));
    await lock.unlock();
  });

  it('on one node the newest request asks the holder to let go (tus takeover)', async () => {
    const n1 = new RedisUploadLocker(redis!, { waitMs: 1000 });
    const upload = id();
    const first = n1.newLock(upload);
    let asked = 0;
    await first.lock(new AbortController().signal, () => {
      // As tus's request cancel: asked again while the holder is letting go, it lets go once.
      if (asked++ === 0) void first.unlock();
    });
    const second = n1.newLock(upload);
    await second.lock(new AbortController().signal, noRelease);
    assert.ok(asked >= 1, 'the holder was asked to let go');
    await second.unlock();
  });

  it('only the holder releases: a stale holder does not free a lock another node took', async () => {
    const upload = id();
    const n1 = new RedisUploadLocker(redis!, { waitMs: 100, ttlMs: 150 });
    const stale = n1.newLock(upload);
    await stale.lock(new AbortController().signal, noRelease);
    // The holder's node stalls (no renewals reach Redis): simulate by deleting and retaking.
    await redis!.set(uploadLockKey(upload), 'another-node', 'PX', 5000);
    await stale.unlock();
    assert.equal(await redis!.get(uploadLockKey(upload)), 'another-node');
    await redis!.del(uploadLockKey(upload));
  });
});
