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

function rand(prefix: string, bytes: number): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

export const randomIds: Ids = {
  userId: () => rand('u_', 12) as UserId,
  deviceId: () => rand('d_', 12) as DeviceId,
  chatId: () => rand('c_', 12) as ChatId,
  secret: () => randomBytes(32).toString('base64url'),
  numericCode: (digits) => String(randomInt(0, 10 ** digits)).padStart(digits, '0'),
};
