/**
 * PushProvider for an operator's own relay: a JSON POST of
 * `{type, deviceId, userId, chatId, count, badge, alert, preview, token}` to the URL the device
 * registered, signed like the SMS webhook: `Parley-Timestamp: <unix seconds>` and
 * `Parley-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`. Answers: 2xx sent,
 * 410 the registration is gone, 429/5xx/network retry (Retry-After), other 4xx rejected.
 */
import { createHmac } from 'node:crypto';
import type { Logger } from '../../../log.js';
import type { Clock } from '../../../ports/clock.js';
import type { PushOutcome, PushPayload, PushProvider, PushTarget } from '../../../ports/push.js';
import {
  fitPreview,
  httpSend,
  keepAliveAgents,
  networkOutcome,
  retryAfterMs,
  retryOutcome,
} from '../http.js';
import { tokenTag } from '../jwt.js';
import { publicOnlyLookup, urlNamesPrivateAddress } from './address-guard.js';

export const WEBHOOK_MAX_BODY = 4096;

export interface WebhookPushOptions {
  secret: string;
  timeoutMs: number;
  /** Allow URLs on loopback/private addresses (tests, a relay on the same network). */
  allowPrivate: boolean;
  clock: Clock;
  log: Logger;
}

/** The `Parley-Signature` value for a body sent at `timestamp` (unix seconds). */
export function pushWebhookSignature(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookPushProvider implements PushProvider {
  readonly platform = 'webhook' as const;
  private closed = false;
  private readonly agents = keepAliveAgents();

  constructor(private readonly o: WebhookPushOptions) {}

  async send(target: PushTarget, p: PushPayload): Promise<PushOutcome> {
    try {
      return await this.sendOnce(target, p);
    } catch (err) {
      // A bug, not an answer: the contract says send never throws, so the pipeline retries it.
      this.o.log.error({ error: (err as Error)?.name ?? 'error' }, 'webhook push failed unexpectedly');
      return { kind: 'retry', status: 0, reason: 'internal error' };
    }
  }

  private async sendOnce(target: PushTarget, p: PushPayload): Promise<PushOutcome> {
    if (target.platform !== 'webhook') return { kind: 'rejected', status: 0, reason: 'not a webhook target' };
    if (this.closed) return { kind: 'retry', status: 0, reason: 'closed' };
    const tag = tokenTag(target.url);
    if (!/^https?:\/\//.test(target.url)) return { kind: 'invalid-token', status: 0, reason: 'bad URL' };
    if (!this.o.allowPrivate && urlNamesPrivateAddress(target.url)) {
      return { kind: 'rejected', status: 0, reason: 'private address refused' };
    }
    const fitted = fitPreview(
      p.preview,
      (preview) =>
        JSON.stringify({
          type: p.kind,
          deviceId: p.deviceId,
          userId: p.userId,
          chatId: p.chatId ?? null,
          count: p.messageCount,
          badge: p.badge,
          alert: p.alert,
          preview: preview ?? null,
          token: target.token ?? null,
        }),
      (s) => Buffer.byteLength(s),
      WEBHOOK_MAX_BODY,
    );
    if (fitted === undefined) return { kind: 'rejected', status: 0, reason: 'payload too large' };
    if (fitted.previewDropped) this.o.log.debug({ urlHash: tag }, 'webhook preview dropped: too large');
    const body = fitted.built;
    const timestamp = Math.floor(this.o.clock.now() / 1000);
    let answer: Awaited<ReturnType<typeof httpSend>>;
    try {
      answer = await httpSend({
        url: target.url,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'parley-timestamp': String(timestamp),
          'parley-signature': pushWebhookSignature(this.o.secret, timestamp, body),
        },
        body,
        timeoutMs: this.o.timeoutMs,
        agents: this.agents,
        ...(!this.o.allowPrivate && { lookup: publicOnlyLookup }),
      });
    } catch (err) {
      return networkOutcome(err);
    }
    const { status } = answer;
    if (status >= 200 && status < 300) return { kind: 'sent', status };
    if (status === 410) {
      this.o.log.info({ urlHash: tag }, 'the push relay says the registration is gone');
      return { kind: 'invalid-token', status, reason: 'Gone' };
    }
    if (status === 429 || status >= 500) {
      return retryOutcome(
        status,
        `HTTP ${status}`,
        retryAfterMs(answer.headers['retry-after'], this.o.clock.now()),
      );
    }
    this.o.log.warn({ urlHash: tag, status }, 'the push relay rejected a push');
    return { kind: 'rejected', status, reason: `HTTP ${status}` };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agents.destroy();
  }
}
