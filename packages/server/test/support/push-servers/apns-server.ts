/**
 * A local APNs: HTTP/2 over TLS (a self-signed certificate made at start) that checks what Apple
 * checks: `POST /3/device/<token>`, an ES256 provider token whose signature verifies with the
 * key's public half and whose kid/iss are the configured key id and team id, the apns-* headers
 * and a JSON body within 4 KB (5 KB VoIP). A failed check is answered as APNs would (403
 * InvalidProviderToken, 400 with a reason) and recorded in `problems`.
 */
import { type KeyObject, randomUUID, verify } from 'node:crypto';
import {
  createSecureServer,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { AnswerBook, decodeJwt, type PushTestAnswer, readBody, retryAfterHeader } from './answers.js';

export interface ApnsReceived {
  token: string;
  headers: Record<string, string>;
  body: { aps: Record<string, unknown>; [k: string]: unknown };
  bodyBytes: number;
  jwt: { kid: string; iss: string; iat: number; raw: string };
  /** Which HTTP/2 session (connection) carried it, counting from 1. */
  session: number;
}

export interface ApnsTestServer {
  /** https://127.0.0.1:<port> */
  url: string;
  /** The server certificate (PEM): pass it as the client's `ca`. */
  cert: string;
  received: ApnsReceived[];
  problems: string[];
  /** HTTP/2 sessions accepted so far. */
  readonly sessions: number;
  setAnswer(token: string, answer: PushTestAnswer): void;
  /** Sends GOAWAY on every open session (as APNs does before it drops a connection). */
  goaway(): void;
  close(): Promise<void>;
}

export async function startApnsServer(o: {
  keyId: string;
  teamId: string;
  /** The public half of the .p8 key. */
  publicKey: KeyObject;
}): Promise<ApnsTestServer> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  const answers = new AnswerBook();
  const received: ApnsReceived[] = [];
  const problems: string[] = [];
  const open = new Set<Http2Session>();
  let sessions = 0;
  const sessionNo = new WeakMap<Http2Session, number>();
  const server = createSecureServer({ key: pems.private, cert: pems.cert });
  server.on('session', (s) => {
    sessionNo.set(s, ++sessions);
    open.add(s);
    s.on('close', () => open.delete(s));
  });

  const reply = (
    stream: ServerHttp2Stream,
    status: number,
    reason?: string,
    extra: Record<string, string> = {},
  ) => {
    if (stream.destroyed) return;
    stream.respond({ ':status': status, 'apns-id': randomUUID(), ...extra });
    stream.end(reason === undefined ? undefined : JSON.stringify({ reason }));
  };

  server.on('stream', async (stream, headers: IncomingHttpHeaders) => {
    const body = await readBody(stream);
    const path = String(headers[':path'] ?? '');
    const m = /^\/3\/device\/([0-9A-Za-z_-]{1,200})$/.exec(path);
    if (headers[':method'] !== 'POST' || !m) {
      problems.push(`bad request line ${headers[':method']} ${path}`);
      return reply(stream, 404, 'BadPath');
    }
    const token = m[1]!;
    const auth = String(headers.authorization ?? '');
    const jwt = decodeJwt(auth.replace(/^bearer /, ''));
    const jwtOk =
      auth.startsWith('bearer ') &&
      jwt !== undefined &&
      jwt.header.alg === 'ES256' &&
      jwt.header.kid === o.keyId &&
      jwt.claims.iss === o.teamId &&
      typeof jwt.claims.iat === 'number' &&
      verify(
        'sha256',
        Buffer.from(jwt.input),
        { key: o.publicKey, dsaEncoding: 'ieee-p1363' },
        jwt.signature,
      );
    if (!jwtOk) {
      problems.push('provider token does not verify');
      return reply(stream, 403, 'InvalidProviderToken');
    }
    const type = String(headers['apns-push-type'] ?? '');
    const topic = String(headers['apns-topic'] ?? '');
    const priority = String(headers['apns-priority'] ?? '');
    const wrong: string[] = [];
    if (!['alert', 'background', 'voip'].includes(type)) wrong.push('apns-push-type');
    if (topic === '' || (type === 'voip') !== topic.endsWith('.voip')) wrong.push('apns-topic');
    if (priority !== (type === 'background' ? '5' : '10')) wrong.push('apns-priority');
    if (!/^\d+$/.test(String(headers['apns-expiration'] ?? ''))) wrong.push('apns-expiration');
    const collapse = headers['apns-collapse-id'];
    if (collapse !== undefined && Buffer.byteLength(String(collapse)) > 64) wrong.push('apns-collapse-id');
    if (wrong.length) {
      problems.push(`bad headers: ${wrong.join(', ')}`);
      return reply(stream, 400, 'BadTopic');
    }
    if (body.length > (type === 'voip' ? 5120 : 4096)) {
      problems.push(`payload of ${body.length} bytes`);
      return reply(stream, 413, 'PayloadTooLarge');
    }
    let parsed: ApnsReceived['body'];
    try {
      parsed = JSON.parse(body.toString('utf8'));
      if (typeof parsed.aps !== 'object' || parsed.aps === null) throw new Error('no aps');
    } catch {
      problems.push('body is not JSON with an aps dictionary');
      return reply(stream, 400, 'PayloadEmpty');
    }
    const apnsHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (k.startsWith('apns-')) apnsHeaders[k] = String(v);
    received.push({
      token,
      headers: apnsHeaders,
      body: parsed,
      bodyBytes: body.length,
      jwt: { kid: o.keyId, iss: o.teamId, iat: jwt!.claims.iat as number, raw: auth.slice(7) },
      session: sessionNo.get(stream.session!) ?? 0,
    });
    const a = answers.take(token);
    switch (a.kind) {
      case 'ok':
        return reply(stream, 200);
      case 'invalid-token':
        stream.respond({ ':status': 410, 'apns-id': randomUUID() });
        return stream.end(JSON.stringify({ reason: 'Unregistered', timestamp: Date.now() }));
      case 'bad-token':
        return reply(stream, 400, 'BadDeviceToken');
      case 'rate-limited':
        return reply(stream, 429, 'TooManyRequests', retryAfterHeader(a));
      case 'server-error':
        return reply(
          stream,
          a.status ?? 500,
          a.status === 503 ? 'ServiceUnavailable' : 'InternalServerError',
          retryAfterHeader(a),
        );
      case 'hang':
        return;
      case 'auth-expired-once':
        return reply(stream, 403, 'ExpiredProviderToken');
      case 'status':
        stream.respond({ ':status': a.status, ...a.headers });
        return stream.end(a.body);
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    cert: pems.cert,
    received,
    problems,
    get sessions() {
      return sessions;
    },
    setAnswer: (token, answer) => answers.set(token, answer),
    goaway: () => {
      for (const s of open) {
        s.goaway();
        s.close();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
