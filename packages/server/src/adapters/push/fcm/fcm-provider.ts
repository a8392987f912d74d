/**
 * PushProvider for FCM (HTTP v1) with a service account's OAuth2 token. Answers map to outcomes:
 * 200 sent (the message name), 404 UNREGISTERED, 403 SENDER_ID_MISMATCH and a 400
 * INVALID_ARGUMENT about the token remove the token, 401 renews the access token and tries once
 * more, 429/500/503 retry (Retry-After when given), anything else is rejected.
 */
import type { Logger } from '../../../log.js';
import type { Clock } from '../../../ports/clock.js';
import type { PushOutcome, PushPayload, PushProvider, PushTarget } from '../../../ports/push.js';
import {
  type HttpAnswer,
  httpSend,
  keepAliveAgents,
  networkOutcome,
  retryAfterMs,
  retryOutcome,
} from '../http.js';
import { tokenTag } from '../jwt.js';
import { buildFcmMessage } from './fcm-message.js';
import { FcmAccessToken, TokenError } from './oauth-token.js';
import { parseServiceAccount, type ServiceAccount } from './service-account.js';

export interface FcmOptions {
  /** The service-account JSON text. */
  serviceAccount: string;
  /** e.g. https://fcm.googleapis.com */
  baseUrl: string;
  /** Default: the service account's token_uri. */
  tokenUrl?: string;
  timeoutMs: number;
  ttlSeconds: number;
  clock: Clock;
  log: Logger;
}

interface FcmError {
  status?: string;
  errorCode?: string;
  tokenField: boolean;
}

export class FcmProvider implements PushProvider {
  readonly platform = 'fcm' as const;
  private readonly account: ServiceAccount;
  private readonly accessToken: FcmAccessToken;
  private closed = false;
  private readonly agents = keepAliveAgents();

  constructor(private readonly o: FcmOptions) {
    this.account = parseServiceAccount(o.serviceAccount);
    this.accessToken = new FcmAccessToken({
      account: this.account,
      tokenUrl: o.tokenUrl ?? this.account.tokenUri,
      clock: o.clock,
      timeoutMs: o.timeoutMs,
    });
  }

  async send(target: PushTarget, payload: PushPayload): Promise<PushOutcome> {
    try {
      return await this.sendOnce(target, payload);
    } catch (err) {
      // A bug, not an answer: the contract says send never throws, so the pipeline retries it.
      this.o.log.error({ error: (err as Error)?.name ?? 'error' }, 'FCM push failed unexpectedly');
      return { kind: 'retry', status: 0, reason: 'internal error' };
    }
  }

  private async sendOnce(target: PushTarget, payload: PushPayload): Promise<PushOutcome> {
    if (target.platform !== 'fcm') return { kind: 'rejected', status: 0, reason: 'not an FCM target' };
    if (this.closed) return { kind: 'retry', status: 0, reason: 'closed' };
    const msg = buildFcmMessage(target.token, payload, { ttlSeconds: this.o.ttlSeconds });
    if (msg === undefined) return { kind: 'rejected', status: 0, reason: 'payload too large' };
    if (msg.previewDropped)
      this.o.log.debug({ tokenHash: tokenTag(target.token) }, 'FCM preview dropped: too large');
    for (let attempt = 0; ; attempt++) {
      let bearer: string;
      try {
        bearer = await this.accessToken.get();
      } catch (err) {
        if (!(err instanceof TokenError)) throw err;
        if (err.verdict === 'retry') return { kind: 'retry', status: err.status, reason: err.reason };
        this.o.log.error({ status: err.status }, 'the FCM token endpoint refused the service account');
        return { kind: 'rejected', status: err.status, reason: err.reason };
      }
      let answer: HttpAnswer;
      try {
        answer = await httpSend({
          url: `${this.o.baseUrl}/v1/projects/${this.account.projectId}/messages:send`,
          headers: {
            authorization: `Bearer ${bearer}`,
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(msg.body),
          },
          body: msg.body,
          timeoutMs: this.o.timeoutMs,
          agents: this.agents,
        });
      } catch (err) {
        return networkOutcome(err);
      }
      if (answer.status === 401 && attempt === 0) {
        this.accessToken.invalidate(bearer);
        continue;
      }
      return this.outcomeOf(target.token, answer);
    }
  }

  private outcomeOf(token: string, answer: HttpAnswer): PushOutcome {
    const { status } = answer;
    if (status === 200) {
      let name: unknown;
      try {
        name = (JSON.parse(answer.body) as { name?: unknown }).name;
      } catch {}
      return typeof name === 'string' ? { kind: 'sent', status, providerId: name } : { kind: 'sent', status };
    }
    const e = errorOf(answer.body);
    const reason = e.errorCode ?? e.status ?? `HTTP ${status}`;
    const invalid =
      (status === 404 && e.errorCode === 'UNREGISTERED') ||
      (status === 403 && e.errorCode === 'SENDER_ID_MISMATCH') ||
      (status === 400 && (e.errorCode ?? e.status) === 'INVALID_ARGUMENT' && e.tokenField);
    if (invalid) {
      this.o.log.info(
        { tokenHash: tokenTag(token), status, reason },
        'FCM says the registration token is invalid',
      );
      return { kind: 'invalid-token', status, reason };
    }
    if (status === 429 || status >= 500) {
      return retryOutcome(status, reason, retryAfterMs(answer.headers['retry-after'], this.o.clock.now()));
    }
    if (status === 401 || status === 403) {
      this.o.log.error({ status, reason }, 'FCM refused the credentials: check pushFcmServiceAccount');
    } else this.o.log.warn({ tokenHash: tokenTag(token), status, reason }, 'FCM rejected a push');
    return { kind: 'rejected', status, reason };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agents.destroy();
  }
}

/** FCM's error body: google.rpc.Status with an FcmError code and field violations in details. */
function errorOf(body: string): FcmError {
  let error: { status?: unknown; details?: unknown } | undefined;
  try {
    error = (JSON.parse(body) as { error?: typeof error }).error;
  } catch {}
  const safe = (v: unknown) => (typeof v === 'string' && /^[A-Z_]{1,64}$/.test(v) ? v : undefined);
  const out: FcmError = { tokenField: false };
  const status = safe(error?.status);
  if (status !== undefined) out.status = status;
  for (const d of Array.isArray(error?.details) ? (error.details as Record<string, unknown>[]) : []) {
    const code = safe(d?.errorCode);
    if (code !== undefined) out.errorCode = code;
    const violations = Array.isArray(d?.fieldViolations) ? (d.fieldViolations as { field?: unknown }[]) : [];
    if (violations.some((v) => v?.field === 'message.token')) out.tokenField = true;
  }
  return out;
}
