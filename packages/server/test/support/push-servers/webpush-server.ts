/**
 * A local Web Push service (RFC 8030). `subscribe()` makes a browser-like subscription (a P-256
 * key pair and auth secret held here) with an endpoint on this server. A push must carry
 * `Content-Encoding: aes128gcm`, TTL, and a VAPID `Authorization: vapid t=<jwt>, k=<key>` whose
 * ES256 JWT verifies with k, names this origin as aud, expires within 24 h and has a subject; its
 * body must decrypt (RFC 8291) with the subscription's private key. The plaintext is recorded.
 */
import { createPublicKey, randomUUID, verify } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AnswerBook, decodeJwt, type PushTestAnswer, readBody, retryAfterHeader } from './answers.js';
import { decryptWebPush, newSubscriber, type Subscriber } from './ece.js';

export interface WebPushReceived {
  /** The subscription id (the endpoint's last segment). */
  token: string;
  headers: { ttl: string; urgency?: string; topic?: string; contentEncoding: string };
  /** The decrypted body, parsed. */
  payload: Record<string, unknown>;
  plaintextBytes: number;
  vapid: { aud: string; sub: string; exp: number; publicKey: string };
}

export interface WebPushTestServer {
  url: string;
  received: WebPushReceived[];
  problems: string[];
  /** A new subscription: what a browser hands the app (endpoint and keys). */
  subscribe(): { token: string; endpoint: string; p256dh: string; auth: string };
  setAnswer(token: string, answer: PushTestAnswer): void;
  close(): Promise<void>;
}

/** A raw uncompressed P-256 point (base64url) as a KeyObject. */
function p256PublicKey(raw: Buffer) {
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('not an uncompressed P-256 point');
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
}

export async function startWebPushServer(o: { vapidPublicKey?: string } = {}): Promise<WebPushTestServer> {
  const answers = new AnswerBook();
  const received: WebPushReceived[] = [];
  const problems: string[] = [];
  const subscribers = new Map<string, Subscriber>();
  let url = '';
  const refuse = (res: ServerResponse, status: number, problem: string) => {
    problems.push(problem);
    res.writeHead(status).end();
  };

  const http = createServer(async (req, res) => {
    const body = await readBody(req);
    const m = /^\/push\/([A-Za-z0-9-]+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return refuse(res, 404, `unexpected ${req.method} ${req.url}`);
    const token = m[1]!;
    const sub = subscribers.get(token);
    if (!sub) return refuse(res, 404, 'push to an unknown subscription');
    const auth = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(String(req.headers.authorization ?? ''));
    const jwt = auth ? decodeJwt(auth[1]!) : undefined;
    let vapidOk = false;
    if (auth && jwt) {
      try {
        const c = jwt.claims;
        const now = Date.now() / 1000;
        vapidOk =
          jwt.header.alg === 'ES256' &&
          c.aud === url &&
          typeof c.exp === 'number' &&
          c.exp > now &&
          c.exp <= now + 86_400 &&
          typeof c.sub === 'string' &&
          /^(mailto:|https:)/.test(c.sub) &&
          (o.vapidPublicKey === undefined || auth[2] === o.vapidPublicKey) &&
          verify(
            'sha256',
            Buffer.from(jwt.input),
            { key: p256PublicKey(Buffer.from(auth[2]!, 'base64url')), dsaEncoding: 'ieee-p1363' },
            jwt.signature,
          );
      } catch {
        vapidOk = false;
      }
    }
    if (!vapidOk) return refuse(res, 401, 'VAPID authorization does not verify');
    if (req.headers['content-encoding'] !== 'aes128gcm')
      return refuse(res, 415, 'content encoding is not aes128gcm');
    const ttl = req.headers.ttl;
    if (typeof ttl !== 'string' || !/^\d+$/.test(ttl)) return refuse(res, 400, 'no TTL header');
    if (body.length > 4096) return refuse(res, 413, `encrypted body of ${body.length} bytes`);
    let plaintext: Buffer;
    let payload: Record<string, unknown>;
    try {
      plaintext = decryptWebPush(body, sub);
      payload = JSON.parse(plaintext.toString('utf8'));
    } catch (err) {
      return refuse(res, 400, `body does not decrypt to JSON: ${(err as Error).message}`);
    }
    const c = jwt!.claims;
    received.push({
      token,
      headers: {
        ttl,
        contentEncoding: 'aes128gcm',
        ...(typeof req.headers.urgency === 'string' && { urgency: req.headers.urgency }),
        ...(typeof req.headers.topic === 'string' && { topic: req.headers.topic }),
      },
      payload,
      plaintextBytes: plaintext.length,
      vapid: { aud: c.aud as string, sub: c.sub as string, exp: c.exp as number, publicKey: auth![2]! },
    });
    const a = answers.take(token);
    switch (a.kind) {
      case 'ok':
      case 'auth-expired-once':
        res.writeHead(201, { location: `${url}/message/${randomUUID()}` });
        return res.end();
      case 'invalid-token':
        return res.writeHead(410).end();
      case 'bad-token':
        return res.writeHead(404).end();
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
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    received,
    problems,
    subscribe: () => {
      const token = randomUUID();
      const s = newSubscriber();
      subscribers.set(token, s);
      return { token, endpoint: `${url}/push/${token}`, p256dh: s.p256dh, auth: s.auth };
    },
    setAnswer: (t, a) => answers.set(t, a),
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
