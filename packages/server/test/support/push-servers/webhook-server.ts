/**
 * A local push relay: `POST /hook/<id>` with a JSON body, `Parley-Timestamp` within five minutes
 * of now and `Parley-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>` that
 * verifies (compared in constant time). A request that fails a check gets 401 and a `problems` line.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AnswerBook, type PushTestAnswer, readBody, retryAfterHeader } from './answers.js';

export interface WebhookReceived {
  /** The URL's last segment. */
  token: string;
  timestamp: number;
  body: Record<string, unknown>;
  bodyBytes: number;
}

export interface WebhookTestServer {
  url: string;
  received: WebhookReceived[];
  problems: string[];
  /** A URL a device may register: `<url>/hook/<id>`. */
  hookUrl(id: string): string;
  setAnswer(token: string, answer: PushTestAnswer): void;
  close(): Promise<void>;
}

export async function startWebhookServer(o: {
  secret: string;
  /** Unix milliseconds the timestamp is checked against (default Date.now). */
  now?: () => number;
}): Promise<WebhookTestServer> {
  const answers = new AnswerBook();
  const received: WebhookReceived[] = [];
  const problems: string[] = [];
  const now = o.now ?? Date.now;
  const http = createServer(async (req, res) => {
    const raw = await readBody(req);
    const m = /^\/hook\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) {
      problems.push(`unexpected ${req.method} ${req.url}`);
      return res.writeHead(404).end();
    }
    const ts = String(req.headers['parley-timestamp'] ?? '');
    const sig = String(req.headers['parley-signature'] ?? '');
    const expected = `v1=${createHmac('sha256', o.secret)
      .update(`${ts}.${raw.toString('utf8')}`)
      .digest('hex')}`;
    const fresh = /^\d+$/.test(ts) && Math.abs(now() / 1000 - Number(ts)) <= 300;
    const signed = sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
    if (!fresh || !signed) {
      problems.push(fresh ? 'signature does not verify' : 'stale or missing timestamp');
      return res.writeHead(401).end();
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      problems.push('body is not JSON');
      return res.writeHead(400).end();
    }
    const token = m[1]!;
    received.push({ token, timestamp: Number(ts), body, bodyBytes: raw.length });
    const a = answers.take(token);
    switch (a.kind) {
      case 'ok':
      case 'auth-expired-once':
        return res.writeHead(204).end();
      case 'invalid-token':
      case 'bad-token':
        return res.writeHead(410).end();
      case 'rate-limited':
        return res.writeHead(429, retryAfterHeader(a)).end();
      case 'server-error':
        return res.writeHead(a.status ?? 500, retryAfterHeader(a)).end();
      case 'hang':
        return;
      case 'status':
        res.writeHead(a.status, a.headers);
        return res.end(a.body);
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    received,
    problems,
    hookUrl: (id) => `${url}/hook/${id}`,
    setAnswer: (t, a) => answers.set(t, a),
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
