/**
 * Conversions between Parley's wire shapes and libsignal's: addresses, prekey bundles, the
 * one-byte ciphertext framing, and libsignal failures as E2eError codes.
 */
import {
  ErrorCode,
  KEMPublicKey,
  LibSignalErrorBase,
  PreKeyBundle as LibsignalBundle,
  ProtocolAddress,
  PublicKey,
} from '@signalapp/libsignal-client';
import { concatBytes, ownBytes } from '../crypto/bytes.js';
import { checkDeviceId } from '../crypto/checks.js';
import { E2eError } from '../crypto/errors.js';
import type { PreKeyBundle } from '../crypto/types.js';

/** libsignal's device id inside every address: Parley device ids are globally unique. */
export const SIGNAL_DEVICE_ID = 1;

export function address(deviceId: string): ProtocolAddress {
  checkDeviceId(deviceId);
  return ProtocolAddress.new(deviceId, SIGNAL_DEVICE_ID);
}

/** Deserializes the bundle's keys and checks both signatures against its identity key. */
export function parseBundle(bundle: PreKeyBundle): LibsignalBundle {
  let identity: PublicKey;
  let signed: PublicKey;
  let kyber: KEMPublicKey;
  let oneTime: PublicKey | null = null;
  try {
    identity = PublicKey.deserialize(ownBytes(bundle.identityKey));
    signed = PublicKey.deserialize(ownBytes(bundle.signedPreKey.publicKey));
    kyber = KEMPublicKey.deserialize(ownBytes(bundle.lastResortKey.publicKey));
    if (bundle.oneTimePreKey) oneTime = PublicKey.deserialize(ownBytes(bundle.oneTimePreKey.publicKey));
  } catch (err) {
    throw new E2eError('BAD_BUNDLE', `a key in the bundle of ${bundle.deviceId} is malformed`, {
      cause: err,
    });
  }
  for (const [name, key] of [
    ['signed prekey', bundle.signedPreKey],
    ['last-resort key', bundle.lastResortKey],
  ] as const) {
    if (!identity.verify(ownBytes(key.publicKey), ownBytes(key.signature))) {
      throw new E2eError('BAD_BUNDLE', `the ${name} signature of ${bundle.deviceId} does not verify`);
    }
  }
  return LibsignalBundle.new(
    bundle.registrationId,
    SIGNAL_DEVICE_ID,
    bundle.oneTimePreKey?.id ?? null,
    oneTime,
    bundle.signedPreKey.id,
    signed,
    ownBytes(bundle.signedPreKey.signature),
    identity,
    bundle.lastResortKey.id,
    kyber,
    ownBytes(bundle.lastResortKey.signature),
  );
}

/** One type byte (libsignal's CiphertextMessageType), then libsignal's serialized message. */
export function frame(type: number, body: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([type]), body);
}

export function unframe(ciphertext: Uint8Array): { type: number; body: Uint8Array<ArrayBuffer> } {
  if (ciphertext.length < 2) throw new E2eError('BAD_MESSAGE', 'ciphertext too short');
  return { type: ciphertext[0]!, body: ciphertext.slice(1) };
}

/** Runs a libsignal deserializer; a failure is BAD_MESSAGE. */
export function parse<T>(deserialize: () => T): T {
  try {
    return deserialize();
  } catch (err) {
    throw new E2eError('BAD_MESSAGE', 'ciphertext cannot be parsed', { cause: err });
  }
}

/** Runs a libsignal decryption; a failure is DUPLICATE_MESSAGE or DECRYPT_FAILED. */
export async function decryptOrFail(
  deviceId: string,
  decrypt: () => Promise<Uint8Array>,
): Promise<Uint8Array> {
  try {
    return await decrypt();
  } catch (err) {
    if (err instanceof E2eError) throw err;
    if (LibSignalErrorBase.is(err, ErrorCode.DuplicatedMessage)) {
      throw new E2eError('DUPLICATE_MESSAGE', `message from ${deviceId} was already decrypted`, {
        cause: err,
      });
    }
    throw new E2eError('DECRYPT_FAILED', `cannot decrypt a message from ${deviceId}`, { cause: err });
  }
}
