/**
 * Locks that keep two PATCHes from writing one resumable upload at once. On one node,
 * @tus/server's MemoryLocker: a new request asks the holder to stop (tus's takeover; the
 * holder ends its write where its bytes got to) and then checks its offset (409 when it is not
 * the server's). With Redis, every node also takes `parley:upload-lock:<id>` (SET NX PX with
 * a random token, renewed while held, deleted only by its holder), so a PATCH on another node
 * waits for the holder and, if it does not let go in time, is answered 423 Locked. A node that
 * dies holding a lock loses it after LOCK_TTL_MS.
 */
import { randomBytes } from 'node:crypto';
import { type Lock, type Locker, MemoryLocker, type RequestRelease } from '@tus/server';

/** What this needs of an ioredis client (or cluster). */
export interface RedisLockClient {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<'OK' | null>;
  eval(script: string, keys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** A held lock lapses this long after its last renewal (a node that died). */
export const LOCK_TTL_MS = 30_000;
/** How long a PATCH waits for another node's PATCH of the same upload before 423. */
export const LOCK_WAIT_MS = 10_000;

/** tus's answer to a PATCH that could not take the upload's lock in time. */
export const LOCKED = {
  status_code: 423,
  body: 'Locked: another request is writing this upload; ask HEAD for the offset and try again\n',
};

/**
 * Deletes the lock only while this holder has it.
 * KEYS[1]: the lock key; ARGV[1]: the holder's token. Returns 1 when deleted, else 0.
 */
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * Extends the lock only while this holder has it.
 * KEYS[1]: the lock key; ARGV[1]: the holder's token; ARGV[2]: the new TTL in ms.
 * Returns 1 when extended, else 0.
 */
const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

export const uploadLockKey = (id: string) => `parley:upload-lock:{${id}}`;

export class RedisUploadLocker implements Locker {
  private readonly local: MemoryLocker;

  constructor(
    private readonly redis: RedisLockClient,
    private readonly o: { ttlMs?: number; waitMs?: number } = {},
  ) {
    this.local = new MemoryLocker({ acquireLockTimeout: o.waitMs ?? LOCK_WAIT_MS });
  }

  newLock(id: string): Lock {
    const local = this.local.newLock(id);
    const key = uploadLockKey(id);
    const ttl = this.o.ttlMs ?? LOCK_TTL_MS;
    const wait = this.o.waitMs ?? LOCK_WAIT_MS;
    const token = randomBytes(16).toString('hex');
    const redis = this.redis;
    let renew: NodeJS.Timeout | undefined;
    let held = false;
    return {
      async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
        // This node's requests for the upload first: the newest takes over from the holder.
        await local.lock(signal, requestRelease);
        try {
          const until = Date.now() + wait;
          for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
            if ((await redis.set(key, token, 'PX', ttl, 'NX')) === 'OK') break;
            const left = until - Date.now();
            if (signal.aborted || left <= 0) throw LOCKED;
            await new Promise((r) => setTimeout(r, Math.min(pause, left)));
          }
        } catch (err) {
          await local.unlock();
          throw err;
        }
        held = true;
        renew = setInterval(() => void redis.eval(RENEW_LUA, 1, key, token, ttl).catch(() => {}), ttl / 3);
        renew.unref();
      },
      async unlock(): Promise<void> {
        // Once only: the local lock is by upload id, so a second release would free a later holder's.
        if (!held) return;
        held = false;
        clearInterval(renew);
        try {
          await redis.eval(RELEASE_LUA, 1, key, token);
        } finally {
          await local.unlock();
        }
      },
    };
  }
}
