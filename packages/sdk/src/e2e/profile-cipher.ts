/**
 * Profile encryption with WebCrypto only: AES-256-GCM under the owner's 32-byte profile key,
 * a random 96-bit IV, and the owner's user id and the version as associated data, so the
 * server can neither pass one user's profile off as another's nor an old version as a new one.
 * Layout: format byte (1) | IV (12) | ciphertext + tag. The plaintext (JSON) is padded with
 * zero bytes to a multiple of 1 KiB, so the ciphertext's length does not tell the name's.
 */
import { ParleyError } from '@parley/protocol';
import { concatBytes, ownBytes } from '../crypto/bytes.js';
import { type AttachmentPointer, PROFILE_KEY_BYTES, pointerFromJson, pointerToJson } from './content.js';

export const PROFILE_NAME_MAX = 64;
export const PROFILE_ABOUT_MAX = 140;
/** Plaintexts are padded to a multiple of this many bytes. */
export const PROFILE_PAD_BYTES = 1024;
/** The server's limit on a profile's ciphertext (protocol.md): a profile must fit. */
export const PROFILE_MAX_CIPHERTEXT = 4096;
const FORMAT = 1;
const IV_BYTES = 12;

/** What a profile says, in the clear (only the owner and holders of the profile key see it). */
export interface ProfileContent {
  /** 1-64 characters. */
  name: string;
  /** At most 140 characters ('' when none). */
  about: string;
  /** An image uploaded encrypted, like an attachment; absent when none. */
  avatar?: AttachmentPointer;
}

// Control characters (C0, DEL, C1) have no place in a name shown on one line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** INVALID_ARGUMENT unless the name and about text are within their limits. */
export function checkProfileContent(c: ProfileContent): void {
  const name = c.name.trim();
  if (name.length === 0 || [...name].length > PROFILE_NAME_MAX) {
    throw new ParleyError('INVALID_ARGUMENT', `a profile name is 1-${PROFILE_NAME_MAX} characters`);
  }
  if ([...c.about].length > PROFILE_ABOUT_MAX) {
    throw new ParleyError(
      'INVALID_ARGUMENT',
      `a profile's about text is at most ${PROFILE_ABOUT_MAX} characters`,
    );
  }
  if (CONTROL.test(c.name) || CONTROL.test(c.about)) {
    throw new ParleyError('INVALID_ARGUMENT', 'a profile name or about text has control characters');
  }
}

function associatedData(userId: string, version: number): Uint8Array<ArrayBuffer> {
  return ownBytes(new TextEncoder().encode(`parley-profile-v1\n${userId}\n${version}`));
}

/** WebCrypto's CryptoKey, named without relying on DOM or Node global type declarations. */
type WebCryptoKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>;

async function importKey(key: Uint8Array, use: 'encrypt' | 'decrypt'): Promise<WebCryptoKey> {
  if (key.length !== PROFILE_KEY_BYTES)
    throw new ParleyError('INVALID_ARGUMENT', 'a profile key is 32 bytes');
  return globalThis.crypto.subtle.importKey('raw', ownBytes(key), 'AES-GCM', false, [use]);
}

/** A new random profile key. */
export function newProfileKey(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(PROFILE_KEY_BYTES));
}

export async function sealProfile(
  key: Uint8Array,
  userId: string,
  version: number,
  content: ProfileContent,
): Promise<Uint8Array> {
  checkProfileContent(content);
  const json = new TextEncoder().encode(
    JSON.stringify({
      v: 1,
      n: content.name.trim(),
      ...(content.about !== '' && { a: content.about }),
      ...(content.avatar && { av: pointerToJson(content.avatar) }),
    }),
  );
  const padded = new Uint8Array(Math.ceil(json.length / PROFILE_PAD_BYTES) * PROFILE_PAD_BYTES);
  padded.set(json);
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const body = await globalThis.crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: associatedData(userId, version) },
    await importKey(key, 'encrypt'),
    padded,
  );
  const sealed = concatBytes(Uint8Array.of(FORMAT), iv, new Uint8Array(body));
  if (sealed.length > PROFILE_MAX_CIPHERTEXT)
    throw new ParleyError('PAYLOAD_TOO_LARGE', 'the profile is too large');
  return sealed;
}

/** Decrypts and checks a profile; PROFILE_UNREADABLE-style failures throw INVALID_ARGUMENT. */
export async function openProfile(
  key: Uint8Array,
  userId: string,
  version: number,
  sealed: Uint8Array,
): Promise<ProfileContent> {
  if (sealed.length < 1 + IV_BYTES + 16 || sealed[0] !== FORMAT) {
    throw new ParleyError('INVALID_ARGUMENT', 'the profile is not in a known format');
  }
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(
      await globalThis.crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: ownBytes(sealed.subarray(1, 1 + IV_BYTES)),
          additionalData: associatedData(userId, version),
        },
        await importKey(key, 'decrypt'),
        ownBytes(sealed.subarray(1 + IV_BYTES)),
      ),
    );
  } catch {
    throw new ParleyError('INVALID_ARGUMENT', 'the profile does not decrypt with this profile key');
  }
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain.subarray(0, end))) as Record<
      string,
      unknown
    >;
  } catch {
    throw new ParleyError('INVALID_ARGUMENT', 'the decrypted profile is not valid');
  }
  if (typeof j !== 'object' || j === null || typeof j.n !== 'string') {
    throw new ParleyError('INVALID_ARGUMENT', 'the decrypted profile is not valid');
  }
  const av = j.av as Record<string, unknown> | undefined;
  const content: ProfileContent = {
    name: j.n,
    about: typeof j.a === 'string' ? j.a : '',
    ...(av && typeof av === 'object' && { avatar: pointerFromJson(av) }),
  };
  checkProfileContent(content);
  return content;
}
