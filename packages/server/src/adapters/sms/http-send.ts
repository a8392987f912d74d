/**
 * One SMS over HTTP with a per-try timeout, retries with doubling backoff on 5xx answers,
 * timeouts and network errors (never on a 4xx), and a deadline on the whole send so a code
 * request cannot hang. Logs statuses and reasons only: never the request, the body or the answer.
 */
import { ParleyError } from '@parley/protocol';
import type { Logger } from '../../log.js';

export interface SmsHttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export interface SmsRetryPolicy {
  /** Longest time one try may take, answer body included. */
  timeoutMs: number;
  /** Tries after the first. */
  retries: number;
  /** Wait before the first retry; doubled for each further one. */
  backoffMs: number;
  /** Longest time the whole send may take; the last try is cut short to fit. */
  deadlineMs: number;
}

/** How one answer is taken: accepted, refused (4xx), throttled (429), or failed (5xx: retry). */
export type SmsVerdict = 'sent' | 'refused' | 'throttled' | 'failed';

export interface HttpSendOptions {
  provider: string;
  policy: SmsRetryPolicy;
  log: Logger;
  /** The verdict for a status; default: 2xx sent, 429 throttled, 5xx failed, anything else refused. */
  judge?: (status: number) => SmsVerdict;
  /** A reason safe to log from a refused answer (never its text: it may quote the number or code). */
  reason?: (status: number, body: string) => Record<string, unknown>;
  /** Monotonic milliseconds. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export function defaultVerdict(status: number): SmsVerdict {
  if (status >= 200 && status < 300) return 'sent';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'failed';
  return 'refused';
}

// Errors that mean the request never left this host, so nothing can have been sent.
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Sends the request `build(try)` makes (built again per try, so a signature can be fresh)
 * until an answer decides. Resolves when the provider accepted the SMS; rejects with
 * SMS_DELIVERY_FAILED when it refused, UNAVAILABLE when it throttled, failed or timed out.
 */
export async function sendSmsOverHttp(
  build: (attempt: number) => SmsHttpRequest,
  o: HttpSendOptions,
): Promise<void> {
  const now = o.now ?? (() => performance.now());
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const judge = o.judge ?? defaultVerdict;
  const { policy, log, provider } = o;
  const started = now();
  let maybeSent = false;
  let last = 'no try fitted in the deadline';
  for (let attempt = 0; ; attempt++) {
    const timeoutMs = Math.floor(Math.min(policy.timeoutMs, policy.deadlineMs - (now() - started)));
    if (timeoutMs < 1) break;
    const req = build(attempt);
    let status: number;
    let body: string;
    let retryAfter: string | null = null;
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        ...(req.body !== undefined && { body: req.body }),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      // The status decides; an answer body cut off by the timeout only loses the log's reason.
      body = await res.text().catch(() => '');
    } catch (err) {
      const code = networkCode(err);
      if (code === 'TIMEOUT') {
        last = `no answer within ${timeoutMs} ms`;
        maybeSent = true;
      } else {
        last = `network error ${code}`;
        if (!NOT_CONNECTED.has(code)) maybeSent = true;
      }
      log.warn({ provider, attempt, error: last }, 'SMS provider request failed');
      status = 0;
      body = '';
    }
    if (status !== 0) {
      const verdict = judge(status);
      if (verdict === 'sent') return;
      const reason = { status, ...o.reason?.(status, body) };
      if (verdict === 'refused') {
        // 401/403: the provider does not accept this node's credentials; no user can register.
        const credentials = status === 401 || status === 403;
        log[credentials ? 'error' : 'warn'](
          { provider, ...reason },
          credentials
            ? 'SMS provider refused the credentials: check the sms* settings'
            : 'SMS provider refused a code',
        );
        throw new ParleyError(
          'SMS_DELIVERY_FAILED',
          `the SMS provider refused to send a code to this number (HTTP ${status})`,
          { details: { provider, status } },
        );
      }
      if (verdict === 'throttled') {
        log.warn({ provider, ...reason }, 'SMS provider is throttling this node');
        const retryAfterMs = retryAfterMsOf(retryAfter);
        throw new ParleyError('UNAVAILABLE', 'the SMS provider is busy; try again later', {
          details: { provider, status, maybeSent },
          ...(retryAfterMs !== undefined && { retryAfterMs }),
        });
      }
      last = `HTTP ${status}`;
      log.warn({ provider, attempt, ...reason }, 'SMS provider failed');
    }
    if (attempt >= policy.retries) break;
    const wait = policy.backoffMs * 2 ** attempt;
    if (now() - started + wait >= policy.deadlineMs) break;
    await sleep(wait);
  }
  throw new ParleyError('UNAVAILABLE', `the SMS provider did not take the code (${last}); try again later`, {
    details: { provider, maybeSent },
  });
}

function networkCode(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return 'TIMEOUT';
  return e?.cause?.code ?? e?.code ?? e?.name ?? 'error';
}

/** Retry-After in seconds (dates are ignored), as milliseconds within a day. */
function retryAfterMsOf(header: string | null): number | undefined {
  if (header === null || !/^\d{1,5}$/.test(header.trim())) return undefined;
  return Math.min(Number(header.trim()), 86_400) * 1000;
}

/** Fills `{phone}`, `{code}` and `{text}` in one pass (a value is never expanded again). */
export function fillTemplate(
  template: string,
  values: { phone: string; code: string; text: string },
  escapeValue: (v: string) => string,
): string {
  return template.replace(/\{(phone|code|text)\}/g, (_, k: 'phone' | 'code' | 'text') =>
    escapeValue(values[k]),
  );
}

/** The SMS text with its `{code}` filled in. */
export function smsText(template: string, code: string): string {
  return template.replace(/\{code\}/g, code);
}
