/**
 * Signed media URLs: `/v1/media/<id>?expires=<unix ms>&signature=<base64url>`, where the
 * signature is HMAC-SHA256, under a key derived from the server secret, over the media id,
 * the device the URL was issued to and the expiry. Every node that shares the secret checks
 * one with no lookup. A URL is used with that device's own credentials (the bearer token):
 * the device comes from the token, never from the URL, so a URL copied to another device or
 * account fails its check, and one that leaks alone opens nothing. Changing the id, the
 * expiry or the signature fails it as well, so a URL can be neither forged nor extended.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ParleyError } from '@parley/protocol';
import type { Clock } from '../ports/clock.js';
import type { DeviceId } from '../ports/types.js';

const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
/** Unix ms, at most 15 digits (past the year 33000: no real expiry is longer). */
const EXPIRES = /^[0-9]{1,15}$/;

export interface SignedMediaUrl {
  /** Path and query, relative to the server's URL. */
  url: string;
  /** Unix ms after which the URL is refused (MEDIA_URL_EXPIRED). */
  expiresAt: number;
}

/** The query of a download that may carry a signature. */
export interface SignedQuery {
  expires?: string | undefined;
  signature?: string | undefined;
}

export class MediaUrlSigner {
  private readonly key: Buffer;

  constructor(
    serverSecret: Buffer,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {
    // A key of its own, so this MAC can never stand in for a socket ticket's or a code digest.
    this.key = createHmac('sha256', serverSecret).update('parley media urls v1').digest();
  }

  /** A URL for `mediaId`, valid for the configured lifetime, for `deviceId` only. */
  issue(mediaId: string, deviceId: DeviceId): SignedMediaUrl {
    const expiresAt = this.clock.now() + this.ttlMs;
    const signature = this.mac(mediaId, deviceId, String(expiresAt));
    return {
      url: `/v1/media/${mediaId}?expires=${expiresAt}&signature=${signature}`,
      expiresAt,
    };
  }

  /** True when the query carries a signature at all (else the plain access rule applies). */
  static isSigned(q: SignedQuery): boolean {
    return q.expires !== undefined || q.signature !== undefined;
  }

  /**
   * Throws MEDIA_URL_INVALID unless the signature matches (id, the calling device, expiry),
   * and MEDIA_URL_EXPIRED when it does but the expiry has passed.
   */
  verify(mediaId: string, deviceId: DeviceId, q: SignedQuery): void {
    const { expires, signature } = q;
    if (
      expires === undefined ||
      signature === undefined ||
      !EXPIRES.test(expires) ||
      !SIGNATURE.test(signature)
    )
      throw invalid();
    const expected = Buffer.from(this.mac(mediaId, deviceId, expires), 'base64url');
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    if (Number(expires) <= this.clock.now())
      throw new ParleyError('MEDIA_URL_EXPIRED', 'the media URL has expired; ask for a new one');
  }

  private mac(mediaId: string, deviceId: string, expires: string): string {
    return createHmac('sha256', this.key)
      .update(`${mediaId}\u0000${deviceId}\u0000${expires}`)
      .digest('base64url');
  }
}

const invalid = () =>
  new ParleyError(
    'MEDIA_URL_INVALID',
    'the media URL is not valid for this device (changed, or issued to another)',
  );
