/**
 * PushProvider for Apple devices: APNs over HTTP/2 with token auth (an ES256 JWT). Answers map
 * to outcomes: 200 sent (apns-id), 400 BadDeviceToken / DeviceTokenNotForTopic and 410
 * Unregistered remove the token, 403 ExpiredProviderToken renews the JWT and tries once more,
 * 429/500/503 retry (Retry-After when given), any other 4xx is rejected. Logs a token's hash only.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { Logger } from '../../../log.js';
import type { Clock } from '../../../ports/clock.js';
import type { PushOutcome, PushPayload, PushProvider, PushTarget } from '../../../ports/push.js';
import { networkOutcome, retryAfterMs, retryOutcome } from '../http.js';
import { tokenTag } from '../jwt.js';
import { buildApnsRequest } from './apns-request.js';
import { ApnsTokenCache } from './apns-token.js';
import { Http2Pool } from './http2-pool.js';

export interface ApnsOptions {
  keyId: string;
  teamId: string;
  /** The .p8 key (PEM text or a KeyObject). */
  key: string | KeyObject;
  /** Origins, e.g. https://api.push.apple.com. */
  host: string;
  sandboxHost: string;
  timeoutMs: number;
  ttlSeconds: number;
  alertLocKey?: string;
  clock: Clock;
  log: Logger;
  /** Extra CA certificates to trust (a local test server's). */
  ca?: string | Buffer;
}

const INVALID_TOKEN_REASONS = new Set(['BadDeviceToken', 'Unregistered', 'DeviceTokenNotForTopic']);

/** Loads a .p8 key and checks it is an EC P-256 key (ES256), or throws naming the problem. */
export function loadApnsKey(key: string | KeyObject): KeyObject {
  // A PEM put in one environment variable often has its line breaks written as \n.
  const pem = typeof key === 'string' && !key.includes('\n') ? key.replace(/\\n/g, '\n') : key;
  const k = typeof pem === 'string' ? createPrivateKey(pem) : pem;
  if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('the APNs key must be an EC P-256 private key (.p8)');
  }
  return k;
}

export class ApnsProvider implements PushProvider {
  readonly platform = 'apns' as const;
  private readonly tokens: ApnsTokenCache;
  private readonly pool: Http2Pool;

  constructor(private readonly o: ApnsOptions) {
    this.tokens = new ApnsTokenCache({
      keyId: o.keyId,
      teamId: o.teamId,
      key: loadApnsKey(o.key),
      clock: o.clock,
    });
    this.pool = new Http2Pool({ ...(o.ca !== undefined && { ca: o.ca }) });
  }

  /** Open HTTP/2 sessions (one per origin in use). */
  get sessions(): number {
    return this.pool.size;
  }

  async send(target: PushTarget, payload: PushPayload): Promise<PushOutcome> {
    try {
      return await this.sendOnce(target, payload);
    } catch (err) {
      // A bug, not an answer: the contract says send never throws, so the pipeline retries it.
      this.o.log.error({ error: (err as Error)?.name ?? 'error' }, 'APNs push failed unexpectedly');
      return { kind: 'retry', status: 0, reason: 'internal error' };
    }
  }

  private async sendOnce(target: PushTarget, payload: PushPayload): Promise<PushOutcome> {
    if (target.platform !== 'apns') return { kind: 'rejected', status: 0, reason: 'not an APNs target' };
    const req = buildApnsRequest(target, payload, {
      nowMs: this.o.clock.now(),
      ttlSeconds: this.o.ttlSeconds,
      ...(this.o.alertLocKey !== undefined && { alertLocKey: this.o.alertLocKey }),
    });
    if (req === undefined) return { kind: 'rejected', status: 0, reason: 'payload too large' };
    if (req.previewDropped)
      this.o.log.debug({ tokenHash: tokenTag(req.token) }, 'APNs preview dropped: too large');
    const origin = target.sandbox ? this.o.sandboxHost : this.o.host;
    let outcome = await this.post(origin, req.token, req.headers, req.body);
    if (outcome === 'renew') {
      const wait = this.tokens.renew();
      if (wait > 0) {
        this.o.log.warn('APNs says the provider token expired though it is young: check the clock');
        return { kind: 'retry', status: 403, reason: 'ExpiredProviderToken', retryAfterMs: wait };
      }
      outcome = await this.post(origin, req.token, req.headers, req.body);
      if (outcome === 'renew') return { kind: 'retry', status: 403, reason: 'ExpiredProviderToken' };
    }
    return outcome;
  }

  private async post(
    origin: string,
    token: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<PushOutcome | 'renew'> {
    let answer: Awaited<ReturnType<Http2Pool['request']>>;
    try {
      answer = await this.pool.request(
        origin,
        {
          ':path': `/3/device/${encodeURIComponent(token)}`,
          authorization: `bearer ${this.tokens.current()}`,
          'content-type': 'application/json',
          ...headers,
        },
        body,
        this.o.timeoutMs,
      );
    } catch (err) {
      return networkOutcome(err);
    }
    const { status } = answer;
    if (status === 200) {
      const id = answer.headers['apns-id'];
      return typeof id === 'string' ? { kind: 'sent', status, providerId: id } : { kind: 'sent', status };
    }
    const reason = reasonOf(answer.body) ?? `HTTP ${status}`;
    if (status === 410 || (status === 400 && INVALID_TOKEN_REASONS.has(reason))) {
      this.o.log.info(
        { tokenHash: tokenTag(token), status, reason },
        'APNs says the device token is invalid',
      );
      return { kind: 'invalid-token', status, reason };
    }
    if (status === 403 && reason === 'ExpiredProviderToken') return 'renew';
    if (status === 429 || status >= 500) {
      return retryOutcome(status, reason, retryAfterMs(answer.headers['retry-after'], this.o.clock.now()));
    }
    if (status === 403)
      this.o.log.error({ status, reason }, 'APNs refused the provider token: check pushApns*');
    else this.o.log.warn({ tokenHash: tokenTag(token), status, reason }, 'APNs rejected a push');
    return { kind: 'rejected', status, reason };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** APNs' `{"reason":"..."}`, as a short safe word. */
function reasonOf(body: string): string | undefined {
  try {
    const r = (JSON.parse(body) as { reason?: unknown }).reason;
    return typeof r === 'string' && /^[A-Za-z]{1,64}$/.test(r) ? r : undefined;
  } catch {
    return undefined;
  }
}
