/**
 * One HTTP/1.1 request with a hard time limit (connect, answer and body together), for the FCM,
 * Web Push and webhook providers. Network failures reject with a `code` (`TIMEOUT`,
 * `ECONNREFUSED`, `EPRIVATEADDRESS`…); answers of any status resolve. The answer body is read up
 * to a cap, so a provider cannot grow the node's memory.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { PushOutcome } from '../../ports/push.js';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as text, cut at `maxBodyBytes`. */
  body: string;
}

export interface HttpRequest {
  url: string;
  method?: string;
  headers: Record<string, string | number>;
  body?: string | Buffer;
  timeoutMs: number;
  /** Name resolution to use instead of the system's (the SSRF guard). */
  lookup?: LookupFunction;
  maxBodyBytes?: number;
  /** Connections to reuse (keep-alive); without, one connection per request. */
  agents?: Agents;
}

export interface Agents {
  http: HttpAgent;
  https: HttpsAgent;
}

/** Keep-alive connection pools for one provider; `destroy()` them when it closes. */
export function keepAliveAgents(): Agents & { destroy(): void } {
  const options = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 60_000 };
  const http = new HttpAgent(options);
  const https = new HttpsAgent(options);
  return {
    http,
    https,
    destroy: () => {
      http.destroy();
      https.destroy();
    },
  };
}

export class NetworkError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function httpSend(r: HttpRequest): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(r.url);
    } catch {
      reject(new NetworkError('EBADURL', 'not a URL'));
      return;
    }
    const tls = url.protocol === 'https:';
    const send = tls ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
    if (send === undefined) {
      reject(new NetworkError('EBADURL', 'not an http(s) URL'));
      return;
    }
    const cap = r.maxBodyBytes ?? 16_384;
    let settled = false;
    const finish = (err: NetworkError | undefined, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(answer!);
    };
    const req = send(url, {
      method: r.method ?? 'POST',
      headers: r.headers,
      ...(r.lookup && { lookup: r.lookup }),
      agent: r.agents ? (tls ? r.agents.https : r.agents.http) : false,
    });
    const timer = setTimeout(
      () => finish(new NetworkError('TIMEOUT', `no answer within ${r.timeoutMs} ms`)),
      r.timeoutMs,
    );
    req.on('error', (e: NodeJS.ErrnoException) => finish(new NetworkError(e.code ?? 'ERROR', e.message)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < cap) chunks.push(c.subarray(0, cap - size));
        size += c.length;
      });
      res.on('error', (e: NodeJS.ErrnoException) => finish(new NetworkError(e.code ?? 'ERROR', e.message)));
      res.on('end', () =>
        finish(undefined, {
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.end(r.body);
  });
}

/** The outcome of a request that got no answer: retry, status 0. */
export function networkOutcome(err: unknown): PushOutcome {
  const code = err instanceof NetworkError ? err.code : ((err as { code?: string })?.code ?? 'ERROR');
  if (code === 'EPRIVATEADDRESS') {
    return { kind: 'rejected', status: 0, reason: 'private address refused' };
  }
  if (code === 'EBADURL') return { kind: 'invalid-token', status: 0, reason: 'bad URL' };
  return { kind: 'retry', status: 0, reason: code === 'TIMEOUT' ? 'timeout' : `network error ${code}` };
}

/** Retry-After as milliseconds (delta seconds or an HTTP date), at most a day; undefined if absent or bad. */
export function retryAfterMs(header: string | string[] | undefined, nowMs: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  let ms: number;
  if (/^\d{1,9}$/.test(value)) ms = Number(value) * 1000;
  else {
    // An HTTP date (IMF-fixdate ends in GMT); anything else is junk.
    if (!/^[A-Za-z]{3}, .+ GMT$/.test(value)) return undefined;
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - nowMs);
  }
  return Math.min(ms, 86_400_000);
}

/** A retry outcome for a 429/5xx answer, with the provider's Retry-After when it gave one. */
export function retryOutcome(status: number, reason: string, retryAfter: number | undefined): PushOutcome {
  return retryAfter === undefined
    ? { kind: 'retry', status, reason }
    : { kind: 'retry', status, reason, retryAfterMs: retryAfter };
}

/**
 * The body `build` makes with the preview, or without it when that is over `capBytes`
 * (a preview is a bonus: the push goes out without it). `undefined` when even that is too big.
 */
export function fitPreview<T>(
  preview: string | undefined,
  build: (preview: string | undefined) => T,
  size: (built: T) => number,
  capBytes: number,
): { built: T; previewDropped: boolean } | undefined {
  if (preview !== undefined) {
    const withPreview = build(preview);
    if (size(withPreview) <= capBytes) return { built: withPreview, previewDropped: false };
  }
  const without = build(undefined);
  if (size(without) > capBytes) return undefined;
  return { built: without, previewDropped: preview !== undefined };
}
