/**
 * Attachment encryption with WebCrypto only: AES-256-CBC with a random IV, then
 * HMAC-SHA256 over IV + ciphertext (encrypt-then-MAC). Blob layout: IV(16) | AES-CBC
 * ciphertext (PKCS#7 padded) | MAC(32). The digest (SHA-256 of the whole blob) travels in the
 * message beside the key, so a swapped blob is caught before any key is used.
 */
import { concatBytes, constantTimeEqual, ownBytes } from './bytes.js';
import { E2eError } from './errors.js';

/** AES-256 key (32 bytes) followed by the HMAC-SHA256 key (32 bytes). */
export const ATTACHMENT_KEY_BYTES = 64;
const IV_BYTES = 16;
const MAC_BYTES = 32;
const BLOCK_BYTES = 16;

export interface EncryptedAttachment {
  /** IV | ciphertext | MAC: what is uploaded. */
  ciphertext: Uint8Array;
  key: Uint8Array;
  /** SHA-256 of `ciphertext`. */
  digest: Uint8Array;
  /** Length of the plaintext in bytes. */
  size: number;
}

/**
 * Encrypts with a fresh random key and IV, or with `again` (a key and IV this device chose
 * for the same file before): the same file then gives the same ciphertext, so an upload cut
 * off in an earlier run can resume.
 */
export async function encryptAttachment(
  plain: Uint8Array,
  again?: { key: Uint8Array; iv: Uint8Array },
): Promise<EncryptedAttachment & { iv: Uint8Array }> {
  const subtle = globalThis.crypto.subtle;
  if (again && (again.key.length !== ATTACHMENT_KEY_BYTES || again.iv.length !== IV_BYTES))
    throw new E2eError('INVALID_ARGUMENT', `a key is ${ATTACHMENT_KEY_BYTES} bytes and an IV ${IV_BYTES}`);
  const key = again?.key ?? globalThis.crypto.getRandomValues(new Uint8Array(ATTACHMENT_KEY_BYTES));
  const iv = again?.iv ?? globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const { aesKey, macKey } = await importKeys(key, 'encrypt', 'sign');
  const body = new Uint8Array(await subtle.encrypt({ name: 'AES-CBC', iv }, aesKey, ownBytes(plain)));
  const signed = concatBytes(iv, body);
  const mac = new Uint8Array(await subtle.sign('HMAC', macKey, signed));
  const ciphertext = concatBytes(signed, mac);
  const digest = new Uint8Array(await subtle.digest('SHA-256', ciphertext));
  return { ciphertext, key, digest, size: plain.length, iv };
}

/**
 * Checks the digest, then the MAC, and only then decrypts. Throws ATTACHMENT_INVALID on a
 * wrong key length, a blob too short to hold IV + one block + MAC, or any mismatch.
 */
export async function decryptAttachment(
  ciphertext: Uint8Array,
  key: Uint8Array,
  digest: Uint8Array,
): Promise<Uint8Array> {
  const subtle = globalThis.crypto.subtle;
  if (key.length !== ATTACHMENT_KEY_BYTES) {
    throw new E2eError('ATTACHMENT_INVALID', `attachment key must be ${ATTACHMENT_KEY_BYTES} bytes`);
  }
  const bodyLength = ciphertext.length - IV_BYTES - MAC_BYTES;
  if (bodyLength < BLOCK_BYTES || bodyLength % BLOCK_BYTES !== 0) {
    throw new E2eError('ATTACHMENT_INVALID', 'attachment ciphertext has an impossible length');
  }
  const actualDigest = new Uint8Array(await subtle.digest('SHA-256', ownBytes(ciphertext)));
  if (!constantTimeEqual(actualDigest, digest)) {
    throw new E2eError('ATTACHMENT_INVALID', 'attachment digest mismatch');
  }
  const { aesKey, macKey } = await importKeys(key, 'decrypt', 'verify');
  const signed = ciphertext.subarray(0, ciphertext.length - MAC_BYTES);
  const mac = ciphertext.subarray(ciphertext.length - MAC_BYTES);
  // subtle.verify compares the MAC in constant time.
  if (!(await subtle.verify('HMAC', macKey, ownBytes(mac.slice()), ownBytes(signed.slice())))) {
    throw new E2eError('ATTACHMENT_INVALID', 'attachment MAC mismatch');
  }
  const iv = signed.slice(0, IV_BYTES);
  try {
    return new Uint8Array(await subtle.decrypt({ name: 'AES-CBC', iv }, aesKey, signed.slice(IV_BYTES)));
  } catch (err) {
    throw new E2eError('ATTACHMENT_INVALID', 'attachment padding is invalid', { cause: err });
  }
}

/** WebCrypto's CryptoKey, named without relying on DOM or Node global type declarations. */
type WebCryptoKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>;

async function importKeys(
  key: Uint8Array,
  aesUse: 'encrypt' | 'decrypt',
  macUse: 'sign' | 'verify',
): Promise<{ aesKey: WebCryptoKey; macKey: WebCryptoKey }> {
  const subtle = globalThis.crypto.subtle;
  const aesKey = await subtle.importKey('raw', key.slice(0, 32), { name: 'AES-CBC' }, false, [aesUse]);
  const macKey = await subtle.importKey('raw', key.slice(32), { name: 'HMAC', hash: 'SHA-256' }, false, [
    macUse,
  ]);
  return { aesKey, macKey };
}
