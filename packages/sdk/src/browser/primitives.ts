/**
 * Symmetric primitives of libsignal's wire format on WebCrypto (globalThis.crypto.subtle):
 * HMAC-SHA256, HKDF-SHA256 and AES-256-CBC with PKCS#7 padding. Works in browsers and Node 20.
 */
import { ownBytes } from '../crypto/bytes.js';

const subtle = () => globalThis.crypto.subtle;

export async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const k = await subtle().importKey('raw', ownBytes(key), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return new Uint8Array(await subtle().sign('HMAC', k, ownBytes(data)));
}

/** HKDF-SHA256; a missing salt is 32 zero bytes, as RFC 5869 and libsignal's `None` salt. */
export async function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array | undefined,
  info: Uint8Array,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const k = await subtle().importKey('raw', ownBytes(ikm), 'HKDF', false, ['deriveBits']);
  const bits = await subtle().deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: ownBytes(salt ?? new Uint8Array(32)), info: ownBytes(info) },
    k,
    length * 8,
  );
  return new Uint8Array(bits);
}

export async function aesCbcEncrypt(
  key: Uint8Array,
  iv: Uint8Array,
  plaintext: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const k = await subtle().importKey('raw', ownBytes(key), 'AES-CBC', false, ['encrypt']);
  return new Uint8Array(
    await subtle().encrypt({ name: 'AES-CBC', iv: ownBytes(iv) }, k, ownBytes(plaintext)),
  );
}

/** Rejects on a wrong key or bad padding (the caller maps that to DECRYPT_FAILED). */
export async function aesCbcDecrypt(
  key: Uint8Array,
  iv: Uint8Array,
  ciphertext: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const k = await subtle().importKey('raw', ownBytes(key), 'AES-CBC', false, ['decrypt']);
  return new Uint8Array(
    await subtle().decrypt({ name: 'AES-CBC', iv: ownBytes(iv) }, k, ownBytes(ciphertext)),
  );
}

export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

export const utf8 = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);
