/**
 * Contact discovery helpers: phone numbers are normalized to E.164 and hashed with
 * SHA-256 (WebCrypto, so it runs in browsers too); only hashes go to the server.
 */
import { ParleyError } from '@parley/protocol';

/** The most hashes one discover request may carry (see the .proto). */
export const DISCOVER_BATCH = 1000;

/** "+1 (555) 123-4567" → "+15551234567"; throws INVALID_PHONE unless it is E.164-shaped. */
export function normalizePhone(phone: string): string {
  const compact = phone.replace(/[\s().-]/g, '');
  if (!/^\+[1-9]\d{6,14}$/.test(compact)) {
    throw new ParleyError('INVALID_PHONE', 'phone numbers must be in E.164 form, e.g. +15551234567');
  }
  return compact;
}

/** SHA-256 of the E.164 string's UTF-8 bytes. */
export async function hashPhone(e164: string): Promise<Uint8Array> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(e164));
  return new Uint8Array(digest);
}

/** Lower-case hex, used as a map key for hashes. */
export function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
