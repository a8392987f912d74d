/** Randomness for identifiers, secrets and codes. Injected so tests can be deterministic. */
import { randomBytes, randomInt } from 'node:crypto';
import type { ChatId, DeviceId, UserId } from './types.js';

export interface Ids {
  userId(): UserId;
  deviceId(): DeviceId;
  chatId(): ChatId;
  /** A 256-bit secret, base64url. */
  secret(): string;
  /** A numeric code of `digits` digits, uniformly random. */
  numericCode(digits: number): string;
}

/**
 * Identifiers are not secrets: their random bytes come from a pool filled 4 KiB at a time, so
 * an id costs no call into the system's generator (a chat creation made one each). No byte
 * of the pool is handed out twice.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;

export function pooledRandomBytes(n: number): Buffer {
  if (n > POOL_BYTES) return randomBytes(n);
  if (poolAt + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  const out = pool.subarray(poolAt, poolAt + n);
  poolAt += n;
  return out;
}

function rand(prefix: string, bytes: number): string {
  return prefix + pooledRandomBytes(bytes).toString('base64url');
}

/** base64url's 64 characters in ASCII order: text made of them sorts as the numbers it spells. */
const SORTED_DIGITS = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';

/** `ms` (under 2^48) as 8 characters of SORTED_DIGITS, most significant first. */
export function sortableTime(ms: number): string {
  let out = '';
  for (let i = 7; i >= 0; i--) out += SORTED_DIGITS[Math.floor(ms / 64 ** i) % 64];
  return out;
}

export const randomIds: Ids = {
  userId: () => rand('u_', 12) as UserId,
  deviceId: () => rand('d_', 12) as DeviceId,
  /**
   * The creation time (ms) in sortable form, then 48 random bits: a new chat's rows (the chat,
   * its members, its messages, keyed by chat id first) go next to other new chats' instead of
   * on a random page of each table. The time says no more than the chat's own creation time.
   */
  chatId: () => rand(`c_${sortableTime(Date.now())}`, 6) as ChatId,
  secret: () => randomBytes(32).toString('base64url'),
  numericCode: (digits) => String(randomInt(0, 10 ** digits)).padStart(digits, '0'),
};
