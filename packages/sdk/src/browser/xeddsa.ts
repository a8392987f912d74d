/**
 * Curve25519 keys as libsignal uses them: X25519 agreement, and XEdDSA signatures made and
 * checked with the same Montgomery key (libsignal's variant: the Edwards sign bit travels in
 * the top bit of the signature's last byte). Public keys are serialized with libsignal's
 * type byte 0x05. On @noble/curves (audited, pure JS): WebCrypto has no XEdDSA.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../crypto/bytes.js';
import { E2eError } from '../crypto/errors.js';
import { randomBytes } from './primitives.js';

export const DJB_TYPE = 0x05;
const Point = ed25519.Point;
const Fp = Point.Fp;
const L = Point.Fn.ORDER;
const HASH_PREFIX = Uint8Array.from([0xfe, ...new Array<number>(31).fill(0xff)]);

export interface CurveKeyPair {
  /** 32 bytes, clamped. */
  privateKey: Uint8Array;
  /** 33 bytes: 0x05 then the Montgomery u coordinate. */
  publicKey: Uint8Array;
}

export function generateKeyPair(): CurveKeyPair {
  const privateKey = randomBytes(32);
  privateKey[0]! &= 248;
  privateKey[31]! &= 127;
  privateKey[31]! |= 64;
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}

export function publicKeyOf(privateKey: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(Uint8Array.of(DJB_TYPE), x25519.getPublicKey(privateKey));
}

/** The 32-byte key of a serialized (0x05-prefixed) public key; INVALID_ARGUMENT otherwise. */
export function rawPublicKey(serialized: Uint8Array): Uint8Array {
  if (serialized.length !== 33 || serialized[0] !== DJB_TYPE) {
    throw new E2eError('INVALID_ARGUMENT', 'a public key is 33 bytes starting with 0x05');
  }
  return serialized.subarray(1);
}

/** X25519 shared secret; rejects a low-order public key (all-zero result). */
export function agree(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return x25519.getSharedSecret(privateKey, rawPublicKey(publicKey));
}

export function sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array<ArrayBuffer> {
  const a = leInt(privateKey) % L;
  const capA = Point.BASE.multiply(a).toBytes();
  const signBit = capA[31]! & 0x80;
  const r = leInt(sha512(concatBytes(HASH_PREFIX, privateKey, message, randomBytes(64)))) % L;
  const capR = Point.BASE.multiply(r).toBytes();
  const h = leInt(sha512(concatBytes(capR, capA, message))) % L;
  const s = (h * a + r) % L;
  const signature = concatBytes(capR, leBytes(s));
  signature[63] = (signature[63]! & 0x7f) | signBit;
  return signature;
}

/** Checks an XEdDSA signature against a serialized public key; false on any malformed input. */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 33 || publicKey[0] !== DJB_TYPE) return false;
  const u = leInt(publicKey.subarray(1)) & ((1n << 255n) - 1n);
  if (u === Fp.ORDER - 1n) return false;
  const y = Fp.div(Fp.sub(Fp.create(u), 1n), Fp.add(Fp.create(u), 1n));
  const yBytes = leBytes(y);
  yBytes[31] = (yBytes[31]! & 0x7f) | (signature[63]! & 0x80);
  let capA: InstanceType<typeof Point>;
  try {
    capA = Point.fromBytes(yBytes);
  } catch {
    return false;
  }
  const sBytes = signature.slice(32);
  sBytes[31]! &= 0x7f;
  if ((sBytes[31]! & 0xe0) !== 0) return false;
  const capR = signature.subarray(0, 32);
  const h = leInt(sha512(concatBytes(capR, capA.toBytes(), message))) % L;
  const check = Point.BASE.multiplyUnsafe(leInt(sBytes) % L).add(capA.negate().multiplyUnsafe(h));
  const bytes = check.toBytes();
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= bytes[i]! ^ capR[i]!;
  return diff === 0;
}

function leInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function leBytes(n: bigint): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}
