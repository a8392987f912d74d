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

export const randomIds: Ids = {
  userId: () => rand('u_', 12) as UserId,
  deviceId: () => rand('d_', 12) as DeviceId,
  chatId: () => rand('c_', 12) as ChatId,
  secret: () => randomBytes(32).toString('base64url'),
  numericCode: (digits) => String(randomInt(0, 10 ** digits)).padStart(digits, '0'),
};
