/** Hashing of tokens and codes: the store keeps only SHA-256 digests, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';

export function hashSecret(secret: string, salt = ''): string {
  return createHash('sha256').update(salt).update('\0').update(secret).digest('base64url');
}

export function secretMatches(secret: string, salt: string, expectedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret, salt));
  const b = Buffer.from(expectedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
