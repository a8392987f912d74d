/**
 * Argument checks every E2eProtocol implementation shares, so they refuse the same inputs
 * with the same INVALID_ARGUMENT errors.
 */
import { E2eError } from './errors.js';

/** Most one-time prekeys made in one call. */
export const MAX_ONE_TIME_BATCH = 1000;
const DEVICE_ID = /^[\x20-\x7e]{1,64}$/;

/** A Parley device id: 1 to 64 printable ASCII characters. */
export function checkDeviceId(deviceId: string): void {
  if (typeof deviceId !== 'string' || !DEVICE_ID.test(deviceId)) {
    throw new E2eError('INVALID_ARGUMENT', 'a device id is 1 to 64 printable ASCII characters');
  }
}

export function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > MAX_ONE_TIME_BATCH) {
    throw new E2eError('INVALID_ARGUMENT', `a prekey count is an integer from 0 to ${MAX_ONE_TIME_BATCH}`);
  }
}

export function checkChatId(chatId: string): void {
  if (typeof chatId !== 'string' || chatId.length === 0) {
    throw new E2eError('INVALID_ARGUMENT', 'a chat id is a non-empty string');
  }
}

export function checkAge(olderThanMs: number): void {
  if (typeof olderThanMs !== 'number' || !(olderThanMs >= 0)) {
    throw new E2eError('INVALID_ARGUMENT', 'a retirement age is a number of ms, 0 or more');
  }
}

/** Curve25519 public key as libsignal serializes it: 0x05 then 32 bytes. */
export function checkSerializedPublicKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== 33 || key[0] !== 0x05) {
    throw new E2eError('INVALID_ARGUMENT', 'a public key is 33 bytes starting with 0x05');
  }
}
