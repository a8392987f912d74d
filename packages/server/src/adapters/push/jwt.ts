/**
 * Compact JWS (JWT) signing with node:crypto for the providers' token auth: ES256 for APNs
 * (raw r||s signatures, as JOSE wants) and RS256 for Google's OAuth assertion.
 */
import { createHash, type KeyObject, sign } from 'node:crypto';

export function base64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/** `<header>.<claims>.<signature>`, each base64url. */
export function signJwt(
  alg: 'ES256' | 'RS256',
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${base64url(JSON.stringify({ alg, ...header }))}.${base64url(JSON.stringify(claims))}`;
  const signature =
    alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', Buffer.from(input), key);
  return `${input}.${base64url(signature)}`;
}

/** A short, stable tag of a push token for logs: the first 12 hex digits of its SHA-256. */
export function tokenTag(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}
