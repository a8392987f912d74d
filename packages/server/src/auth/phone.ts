/** Phone numbers are validated with libphonenumber and kept only in E.164 form. */
import { createHash } from 'node:crypto';
import { ParleyError } from '@parley/protocol';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** Returns the E.164 form of `raw` or throws INVALID_PHONE. Input must be international (+...). */
export function normalizePhone(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > 32 || !raw.trim().startsWith('+')) {
    throw new ParleyError('INVALID_PHONE', 'phone must be an international number like +14155550123');
  }
  const parsed = parsePhoneNumberFromString(raw.trim());
  if (!parsed?.isValid()) throw new ParleyError('INVALID_PHONE', 'not a valid phone number');
  return parsed.number;
}

/** SHA-256 of the E.164 string, as used by contact discovery. */
export function phoneHash(e164: string): Uint8Array {
  return createHash('sha256').update(e164, 'utf8').digest();
}

/** "+14155550123" -> "+1415***0123", for logs. */
export function maskPhone(e164: string): string {
  return e164.length <= 8 ? '***' : `${e164.slice(0, 5)}***${e164.slice(-4)}`;
}
