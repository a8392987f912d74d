/**
 * The OAuth2 access token FCM wants, from a service account: a signed RS256 JWT assertion
 * exchanged at the token URL (grant type jwt-bearer). One token is kept until five minutes before
 * it expires; concurrent sends share one exchange.
 */
import type { Clock } from '../../../ports/clock.js';
import { httpSend } from '../http.js';
import { signJwt } from '../jwt.js';
import type { ServiceAccount } from './service-account.js';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const EARLY_MS = 5 * 60_000;

/** Why no token could be had: `retry` (network, 429, 5xx) or `refused` (bad credentials). */
export class TokenError extends Error {
  constructor(
    readonly verdict: 'retry' | 'refused',
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export class FcmAccessToken {
  private token: { value: string; refreshAtMs: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly o: { account: ServiceAccount; tokenUrl: string; clock: Clock; timeoutMs: number },
  ) {}

  /** A valid token, exchanged anew when none is held or it is about to expire. Rejects with TokenError. */
  get(): Promise<string> {
    if (this.token && this.o.clock.now() < this.token.refreshAtMs) {
      return Promise.resolve(this.token.value);
    }
    this.pending ??= this.exchange().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets `value` (FCM answered 401 to it), so the next get() exchanges a new one. */
  invalidate(value: string): void {
    if (this.token?.value === value) this.token = undefined;
  }

  private async exchange(): Promise<string> {
    const { account, clock } = this.o;
    const iat = Math.floor(clock.now() / 1000);
    const assertion = signJwt(
      'RS256',
      { typ: 'JWT', ...(account.privateKeyId !== undefined && { kid: account.privateKeyId }) },
      { iss: account.clientEmail, scope: FCM_SCOPE, aud: this.o.tokenUrl, iat, exp: iat + 3600 },
      account.key,
    );
    const body = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
    }).toString();
    let answer: Awaited<ReturnType<typeof httpSend>>;
    try {
      answer = await httpSend({
        url: this.o.tokenUrl,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
        body,
        timeoutMs: this.o.timeoutMs,
      });
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ERROR';
      throw new TokenError('retry', 0, code === 'TIMEOUT' ? 'token timeout' : `token network error ${code}`);
    }
    if (answer.status === 429 || answer.status >= 500) {
      throw new TokenError('retry', answer.status, `token endpoint HTTP ${answer.status}`);
    }
    let parsed: { access_token?: unknown; expires_in?: unknown } = {};
    try {
      parsed = JSON.parse(answer.body);
    } catch {}
    if (answer.status !== 200 || typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new TokenError('refused', answer.status, `token endpoint refused (HTTP ${answer.status})`);
    }
    const expiresIn =
      typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 3600;
    // Renewed five minutes before it expires (halfway through a token shorter than ten minutes).
    const early = Math.min(EARLY_MS, expiresIn * 500);
    this.token = { value: parsed.access_token, refreshAtMs: clock.now() + expiresIn * 1000 - early };
    return parsed.access_token;
  }
}
