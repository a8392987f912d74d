/**
 * Digests of the secrets the store keeps, compared in constant time. Device tokens are random
 * 256-bit values: a plain SHA-256 cannot be reversed, and it stays as it always was so no device
 * is logged out. Registration codes have only a million values, so their digests (and those of
 * link codes) are HMAC-SHA256 under the server secret: a copy of the database alone does not
 * give away a pending code.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The stored digest of a device token: SHA-256 of "\0" + token, base64url (unchanged format). */
export function tokenDigest(token: string): string {
  return createHash('sha256').update('\0').update(token).digest('base64url');
}

/** Keyed digests of one-time codes; the key is the server secret (server-secret.ts). */
export class CodeDigests {
  constructor(private readonly key: Buffer) {}

  /** A registration code for a phone number. */
  code(phone: string, code: string): string {
    return this.hmac('code', phone, code);
  }

  /** A link code (it is not tied to a phone number). */
  linkCode(code: string): string {
    return this.hmac('link', code);
  }

  private hmac(...parts: string[]): string {
    // NUL-separated: none of the parts can contain it (phones are E.164, codes are checked).
    return createHmac('sha256', this.key).update(parts.join('\0')).digest('base64url');
  }
}

/** Whether two digests are equal, in time independent of where they differ. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
