/**
 * libsignal's pairwise wire messages, version 4 (PQXDH): SignalMessage (version byte 0x44,
 * protobuf, 8-byte HMAC-SHA256 over both identity keys and the message) and
 * PreKeySignalMessage (0x44, protobuf carrying the session's first SignalMessage).
 */
import { concatBytes } from '../crypto/bytes.js';
import { E2eError } from '../crypto/errors.js';
import { hmacSha256 } from './primitives.js';
import { decodeProto, encodeProto, protoBytes, protoUint } from './proto.js';

export const VERSION_BYTE = 0x44;
const MAC_LENGTH = 8;

export interface SignalMessageFields {
  ratchetKey: Uint8Array;
  counter: number;
  previousCounter: number;
  ciphertext: Uint8Array;
  pqRatchet: Uint8Array;
}

export interface PreKeyMessageFields {
  registrationId: number;
  preKeyId?: number;
  signedPreKeyId: number;
  kyberPreKeyId: number;
  kyberCiphertext: Uint8Array;
  baseKey: Uint8Array;
  identityKey: Uint8Array;
  message: Uint8Array;
}

export async function encodeSignalMessage(
  fields: SignalMessageFields,
  macKey: Uint8Array,
  senderIdentity: Uint8Array,
  receiverIdentity: Uint8Array,
): Promise<Uint8Array> {
  const body = concatBytes(
    Uint8Array.of(VERSION_BYTE),
    encodeProto([
      [1, fields.ratchetKey],
      [2, fields.counter],
      [3, fields.previousCounter],
      [4, fields.ciphertext],
      [5, fields.pqRatchet.length > 0 ? fields.pqRatchet : undefined],
    ]),
  );
  return concatBytes(body, await mac(macKey, senderIdentity, receiverIdentity, body));
}

/** Parses without checking the MAC (the keys come from the ratchet); see `checkMac`. */
export function decodeSignalMessage(bytes: Uint8Array): SignalMessageFields {
  if (bytes.length < 1 + MAC_LENGTH) throw bad('message too short');
  checkVersion(bytes[0]!);
  const f = decodeProto(bytes.subarray(1, bytes.length - MAC_LENGTH));
  const pq = f.get(5);
  return {
    ratchetKey: protoBytes(f, 1, 'ratchet key'),
    counter: protoUint(f, 2, 'counter'),
    previousCounter: (f.get(3) as number | undefined) ?? 0,
    ciphertext: protoBytes(f, 4, 'ciphertext'),
    pqRatchet: pq instanceof Uint8Array ? pq : new Uint8Array(0),
  };
}

export async function checkMac(
  bytes: Uint8Array,
  macKey: Uint8Array,
  senderIdentity: Uint8Array,
  receiverIdentity: Uint8Array,
): Promise<boolean> {
  const body = bytes.subarray(0, bytes.length - MAC_LENGTH);
  const expected = await mac(macKey, senderIdentity, receiverIdentity, body);
  let diff = 0;
  for (let i = 0; i < MAC_LENGTH; i++) diff |= expected[i]! ^ bytes[body.length + i]!;
  return diff === 0;
}

export function encodePreKeyMessage(fields: PreKeyMessageFields): Uint8Array {
  return concatBytes(
    Uint8Array.of(VERSION_BYTE),
    encodeProto([
      [1, fields.preKeyId],
      [2, fields.baseKey],
      [3, fields.identityKey],
      [4, fields.message],
      [5, fields.registrationId],
      [6, fields.signedPreKeyId],
      [7, fields.kyberPreKeyId],
      [8, fields.kyberCiphertext],
    ]),
  );
}

export function decodePreKeyMessage(bytes: Uint8Array): PreKeyMessageFields {
  if (bytes.length < 2) throw bad('message too short');
  checkVersion(bytes[0]!);
  const f = decodeProto(bytes.subarray(1));
  const preKeyId = f.get(1);
  if (!(f.get(8) instanceof Uint8Array)) {
    throw bad('a first message without a Kyber ciphertext (X3DH) is not accepted');
  }
  return {
    registrationId: (f.get(5) as number | undefined) ?? 0,
    ...(typeof preKeyId === 'number' && { preKeyId }),
    signedPreKeyId: protoUint(f, 6, 'signed prekey id'),
    kyberPreKeyId: protoUint(f, 7, 'Kyber prekey id'),
    kyberCiphertext: protoBytes(f, 8, 'Kyber ciphertext'),
    baseKey: protoBytes(f, 2, 'base key'),
    identityKey: protoBytes(f, 3, 'identity key'),
    message: protoBytes(f, 4, 'message'),
  };
}

async function mac(
  key: Uint8Array,
  sender: Uint8Array,
  receiver: Uint8Array,
  body: Uint8Array,
): Promise<Uint8Array> {
  return (await hmacSha256(key, concatBytes(sender, receiver, body))).slice(0, MAC_LENGTH);
}

function checkVersion(byte: number): void {
  if (byte >> 4 !== 4) throw bad(`message version ${byte >> 4}; only version 4 (PQXDH) is spoken`);
}

function bad(what: string): E2eError {
  return new E2eError('BAD_MESSAGE', `ciphertext cannot be parsed: ${what}`);
}
