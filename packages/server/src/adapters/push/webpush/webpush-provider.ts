/**
 * PushProvider for browsers: Web Push (RFC 8030) with a VAPID-signed request (RFC 8292) and the
 * payload encrypted for the subscription (RFC 8291, aes128gcm), both done by the `web-push`
 * package; the request goes out here, with our time limit and address guard. Answers: 2xx sent,
 * 404/410 the subscription is gone, 429/5xx retry, 413 and other 4xx rejected.
 */
import { createECDH, createHash } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import webpush from 'web-push';
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
import { publicOnlyLookup, urlNamesPrivateAddress } from '../webhook/address-guard.js';
import type { VapidKeys } from './vapid.js';

/**
 * Plaintext cap: push services take 4096 bytes of encrypted body; aes128gcm adds 103 (header,
 * tag, padding delimiter). 3 KB leaves room for services that are stricter than the RFC.
 */
export const WEBPUSH_MAX_PLAINTEXT = 3072;

export interface WebPushOptions {
  vapid: VapidKeys;
  /** mailto: or https: URL of the operator. */
  subject: string;
  timeoutMs: number;
  ttlSeconds: number;
  /** Allow endpoints on loopback/private addresses (tests). */
  allowPrivate: boolean;
  clock: Clock;
  log: Logger;
}

/** The Topic header is at most 32 base64url characters: a longer or other id is hashed. */
function topicOf(id: string): string {
  if (/^[A-Za-z0-9_-]{1,32}$/.test(id)) return id;
  return createHash('sha256').update(id).digest('base64url').slice(0, 32);
}

export class WebPushProvider implements PushProvider {
  readonly platform = 'webpush' as const;
  private closed = false;
  private readonly agents = keepAliveAgents();

  constructor(private readonly o: WebPushOptions) {
    // Our own keys are checked here, so a send that cannot be prepared is the subscription's fault.
    webpush.getVapidHeaders(
      'https://push.example',
      o.subject,
      o.vapid.publicKey,
      o.vapid.privateKey,
      'aes128gcm',
    );
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(o.vapid.privateKey, 'base64url'));
    if (!ecdh.getPublicKey().equals(Buffer.from(o.vapid.publicKey, 'base64url'))) {
      throw new Error('the VAPID public key does not belong to the private key');
    }
  }

  /** The VAPID public key (base64url): browsers subscribe with it as their applicationServerKey. */
  get publicKey(): string {
    return this.o.vapid.publicKey;
  }

  async send(target: PushTarget, payload: PushPayload): Promise<PushOutcome> {
    try {
      return await this.sendOnce(target, payload);
    } catch (err) {
      // A bug, not an answer: the contract says send never throws, so the pipeline retries it.
      this.o.log.error({ error: (err as Error)?.name ?? 'error' }, 'Web Push push failed unexpectedly');
      return { kind: 'retry', status: 0, reason: 'internal error' };
    }
  }

  private async sendOnce(target: PushTarget, payload: PushPayload): Promise<PushOutcome> {
    if (target.platform !== 'webpush')
      return { kind: 'rejected', status: 0, reason: 'not a Web Push target' };
    if (this.closed) return { kind: 'retry', status: 0, reason: 'closed' };
    const tag = tokenTag(target.endpoint);
    if (!this.o.allowPrivate && urlNamesPrivateAddress(target.endpoint)) {
      return { kind: 'rejected', status: 0, reason: 'private address refused' };
    }
    const fitted = fitPreview(
      payload.preview,
      (preview) =>
        JSON.stringify({
          kind: payload.kind,
          ...(payload.chatId !== undefined && { chatId: payload.chatId }),
          count: payload.messageCount,
          badge: payload.badge,
          alert: payload.alert,
          ...(preview !== undefined && { preview }),
        }),
      (s) => Buffer.byteLength(s),
      WEBPUSH_MAX_PLAINTEXT,
    );
    if (fitted === undefined) return { kind: 'rejected', status: 0, reason: 'payload too large' };
    if (fitted.previewDropped) this.o.log.debug({ endpointHash: tag }, 'Web Push preview dropped: too large');
    let details: ReturnType<typeof webpush.generateRequestDetails>;
    try {
      details = webpush.generateRequestDetails(
        { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
        fitted.built,
        {
          vapidDetails: { subject: this.o.subject, ...this.o.vapid },
          TTL: this.o.ttlSeconds,
          urgency: payload.alert ? 'high' : 'low',
          contentEncoding: 'aes128gcm',
          ...(payload.collapseId !== undefined && { topic: topicOf(payload.collapseId) }),
        },
      );
    } catch {
      // Keys the browser would never produce: this subscription cannot be used.
      this.o.log.info({ endpointHash: tag }, 'Web Push subscription has unusable keys');
      return { kind: 'invalid-token', status: 0, reason: 'bad subscription keys' };
    }
    const headers: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(details.headers)) headers[k] = v as string | number;
    let answer: Awaited<ReturnType<typeof httpSend>>;
    try {
      answer = await httpSend({
        url: details.endpoint,
        headers,
        body: details.body ?? undefined,
        timeoutMs: this.o.timeoutMs,
        agents: this.agents,
        ...(!this.o.allowPrivate && { lookup: publicOnlyLookup as LookupFunction }),
      });
    } catch (err) {
      return networkOutcome(err);
    }
    const { status } = answer;
    if (status >= 200 && status < 300) {
      const location = answer.headers.location;
      return location ? { kind: 'sent', status, providerId: location } : { kind: 'sent', status };
    }
    if (status === 404 || status === 410) {
      this.o.log.info({ endpointHash: tag, status }, 'Web Push subscription is gone');
      return { kind: 'invalid-token', status, reason: status === 410 ? 'Gone' : 'Not Found' };
    }
    if (status === 429 || status >= 500) {
      return retryOutcome(
        status,
        `HTTP ${status}`,
        retryAfterMs(answer.headers['retry-after'], this.o.clock.now()),
      );
    }
    const reason = status === 413 ? 'payload too large' : `HTTP ${status}`;
    this.o.log.warn({ endpointHash: tag, status }, 'Web Push service rejected a push');
    return { kind: 'rejected', status, reason };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agents.destroy();
  }
}
