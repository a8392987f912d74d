/**
 * The APNs provider token: an ES256 JWT (kid = key id, iss = team id, iat) that APNs accepts for
 * an hour. One token is reused for every request; it is replaced after 50 minutes, and never
 * sooner than 20 minutes after the last (APNs answers TooManyProviderTokenUpdates to faster churn).
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../../ports/clock.js';
import { signJwt } from '../jwt.js';

export const APNS_TOKEN_REFRESH_MS = 50 * 60_000;
export const APNS_TOKEN_MIN_AGE_MS = 20 * 60_000;

export class ApnsTokenCache {
  private token: { jwt: string; issuedAtMs: number } | undefined;

  constructor(private readonly o: { keyId: string; teamId: string; key: KeyObject; clock: Clock }) {}

  /** The token to send now, signed anew when the current one is 50 minutes old. */
  current(): string {
    const now = this.o.clock.now();
    if (this.token === undefined || now - this.token.issuedAtMs >= APNS_TOKEN_REFRESH_MS) this.sign(now);
    return this.token!.jwt;
  }

  /**
   * After ExpiredProviderToken: signs a new token unless the current one is younger than
   * 20 minutes. Returns the wait before a new one may be signed (0 when it was signed).
   */
  renew(): number {
    const now = this.o.clock.now();
    const age = this.token === undefined ? Number.POSITIVE_INFINITY : now - this.token.issuedAtMs;
    if (age < APNS_TOKEN_MIN_AGE_MS) return APNS_TOKEN_MIN_AGE_MS - age;
    this.sign(now);
    return 0;
  }

  private sign(now: number): void {
    const iat = Math.floor(now / 1000);
    const jwt = signJwt('ES256', { kid: this.o.keyId }, { iss: this.o.teamId, iat }, this.o.key);
    this.token = { jwt, issuedAtMs: now };
  }
}
