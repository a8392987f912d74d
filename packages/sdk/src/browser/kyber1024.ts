/**
 * Kyber-1024 as libsignal-client uses it for PQXDH (key type 0x08: the round-3 Kyber that
 * libcrux calls `kyber1024`, not FIPS 203 ML-KEM, whose type 0x0A libsignal-client 0.103
 * refuses). Built on @noble/post-quantum's ML-KEM-1024, which shares Kyber's key format and
 * K-PKE: round-3 Kyber hashes the encapsulation randomness first (m = SHA3-256(seed)) and
 * derives the shared secret as SHAKE256(K ‖ SHA3-256(ct)); both wrap ML-KEM exactly.
 */

import { sha3_256, shake256 } from '@noble/hashes/sha3.js';
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { concatBytes } from '../crypto/bytes.js';
import { E2eError } from '../crypto/errors.js';
import { randomBytes } from './primitives.js';

export const KYBER1024_TYPE = 0x08;
const PUBLIC_KEY_LENGTH = 1568;
const CIPHERTEXT_LENGTH = 1568;

export interface KemKeyPair {
  /** 1569 bytes: 0x08 then the key. */
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function generateKemKeyPair(): KemKeyPair {
  const { publicKey, secretKey } = ml_kem1024.keygen(randomBytes(64));
  return { publicKey: concatBytes(Uint8Array.of(KYBER1024_TYPE), publicKey), secretKey };
}

/** A shared secret and its serialized ciphertext (0x08 then 1568 bytes) for a serialized key. */
export function encapsulate(serializedPublicKey: Uint8Array): {
  sharedSecret: Uint8Array;
  ciphertext: Uint8Array;
} {
  const key = unwrap(serializedPublicKey, PUBLIC_KEY_LENGTH, 'Kyber public key');
  const { cipherText, sharedSecret } = ml_kem1024.encapsulate(key, sha3_256(randomBytes(32)));
  return {
    sharedSecret: kdf(sharedSecret, cipherText),
    ciphertext: concatBytes(Uint8Array.of(KYBER1024_TYPE), cipherText),
  };
}

export function decapsulate(serializedCiphertext: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const ct = unwrap(serializedCiphertext, CIPHERTEXT_LENGTH, 'Kyber ciphertext');
  return kdf(ml_kem1024.decapsulate(ct, secretKey), ct);
}

function kdf(k: Uint8Array, ct: Uint8Array): Uint8Array {
  return shake256(concatBytes(k, sha3_256(ct)), { dkLen: 32 });
}

function unwrap(serialized: Uint8Array, length: number, what: string): Uint8Array {
  if (serialized.length !== length + 1 || serialized[0] !== KYBER1024_TYPE) {
    throw new E2eError('BAD_MESSAGE', `a ${what} is 0x08 then ${length} bytes`);
  }
  return serialized.subarray(1);
}
