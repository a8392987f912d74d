/**
 * The key directory's rows as both SQL backends store them (the same columns), and their
 * mapping to port types: one place for the identity rule and the bundle shape.
 */
import { ParleyError } from '@parley/protocol';
import type { BundleTake, KeysUploadInput } from '../../ports/store.js';
import type { DeviceId, DeviceIdentity, PreKeyBundleRecord, UserId } from '../../ports/types.js';

export interface KeyRow {
  device_id: string;
  identity_key: Buffer;
  registration_id: number;
  signed_id: number;
  signed_key: Buffer;
  signed_sig: Buffer;
  last_resort_id: number;
  last_resort_key: Buffer;
  last_resort_sig: Buffer;
}

export const bytesOf = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** The keys a device's first upload must carry; INVALID_ARGUMENT when one is missing. */
export function firstUploadKeys(input: KeysUploadInput) {
  const { identityKey, registrationId, signedPreKey, lastResortKey } = input;
  if (!identityKey || registrationId === undefined || !signedPreKey || !lastResortKey) {
    throw new ParleyError(
      'INVALID_ARGUMENT',
      'the first upload needs the identity key, registration id, signed prekey and last-resort key',
    );
  }
  return { identityKey, registrationId, sp: signedPreKey, lr: lastResortKey };
}

/** IDENTITY_KEY_MISMATCH when a later upload names another identity or registration id. */
export function checkSameIdentity(
  row: Pick<KeyRow, 'identity_key' | 'registration_id'>,
  input: KeysUploadInput,
): void {
  const sameKey = !input.identityKey || Buffer.from(input.identityKey).equals(row.identity_key);
  const sameReg = input.registrationId === undefined || input.registrationId === row.registration_id;
  if (!sameKey || !sameReg) {
    throw new ParleyError(
      'IDENTITY_KEY_MISMATCH',
      'this device already has another identity key; a new identity needs a new device',
    );
  }
}

/** What a device's one-time prekey grants say about the requester of `take`. */
export interface GrantsSeen {
  /** The requester got one of the device's one-time prekeys within the repeat window. */
  mine: boolean | number;
  /** One-time prekeys the device handed out in the hour before `take.now`. */
  lastHour: number;
}

export const HOUR_MS = 3_600_000;

/** Grants older than this are forgotten (and pruned): they no longer limit anyone. */
export const grantsCutoff = (take: BundleTake) => take.now - Math.max(take.repeatWindowMs, HOUR_MS);

/** Whether the requester may be handed one of the device's one-time prekeys now. */
export const oneTimeAllowed = (take: BundleTake, seen: GrantsSeen) =>
  !seen.mine && seen.lastHour < take.oneTimePerDevicePerHour;

export function bundleOf(
  userId: UserId,
  r: KeyRow,
  oneTime: { key_id: number; public_key: Buffer } | undefined,
  remaining: number,
): PreKeyBundleRecord {
  return {
    userId,
    deviceId: r.device_id as DeviceId,
    registrationId: r.registration_id,
    identityKey: bytesOf(r.identity_key),
    signedPreKey: { id: r.signed_id, publicKey: bytesOf(r.signed_key), signature: bytesOf(r.signed_sig) },
    lastResortKey: {
      id: r.last_resort_id,
      publicKey: bytesOf(r.last_resort_key),
      signature: bytesOf(r.last_resort_sig),
    },
    ...(oneTime && { oneTimePreKey: { id: oneTime.key_id, publicKey: bytesOf(oneTime.public_key) } }),
    oneTimeRemaining: remaining,
  };
}

export function identityOf(userId: UserId, r: KeyRow): DeviceIdentity {
  return {
    userId,
    deviceId: r.device_id as DeviceId,
    registrationId: r.registration_id,
    identityKey: bytesOf(r.identity_key),
  };
}
