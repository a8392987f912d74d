/**
 * Phone numbers are validated with libphonenumber and kept only in E.164 form. Number types
 * that cost money to text and reach no person's phone (premium rate, satellite...) can be
 * refused before any code is sent: they are what SMS-pumping fraud sends codes to.
 */
import { createHash } from 'node:crypto';
import { ParleyError } from '@parley/protocol';
import { type NumberType, parsePhoneNumberFromString } from 'libphonenumber-js/max';

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

/**
 * Number types as libphonenumber names them, plus INTERNATIONAL_NETWORK (country calling codes
 * +881 satellite, +882 and +883 international networks, e.g. Thuraya +88216, which the library
 * reports as VOIP or MOBILE) and UNKNOWN (a valid number of no known type).
 */
export const PHONE_NUMBER_TYPES = [
  'MOBILE',
  'FIXED_LINE',
  'FIXED_LINE_OR_MOBILE',
  'TOLL_FREE',
  'PREMIUM_RATE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
  'INTERNATIONAL_NETWORK',
  'UNKNOWN',
] as const satisfies readonly (NonNullable<NumberType> | 'INTERNATIONAL_NETWORK' | 'UNKNOWN')[];

export type PhoneNumberType = (typeof PHONE_NUMBER_TYPES)[number];

const INTERNATIONAL_NETWORKS = new Set(['881', '882', '883']);

/** The type of an E.164 number (one that normalizePhone returned). */
export function phoneNumberType(e164: string): PhoneNumberType {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return 'UNKNOWN';
  if (INTERNATIONAL_NETWORKS.has(parsed.countryCallingCode)) return 'INTERNATIONAL_NETWORK';
  return parsed.getType() ?? 'UNKNOWN';
}

/** Throws PHONE_TYPE_NOT_ALLOWED, naming the type, when the number's type is in `blocked`. */
export function checkPhoneTypeAllowed(e164: string, blocked: readonly PhoneNumberType[]): void {
  const type = phoneNumberType(e164);
  if (blocked.includes(type)) {
    throw new ParleyError(
      'PHONE_TYPE_NOT_ALLOWED',
      `codes are not sent to ${type.toLowerCase().replaceAll('_', ' ')} numbers on this server`,
      { details: { numberType: type } },
    );
  }
}
