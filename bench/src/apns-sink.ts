/**
 * A local APNs for the push scenario: HTTP/2 over TLS (a self-signed certificate made at start)
 * that checks each request as Apple does and as the server's test APNs does (`POST
 * /3/device/<token>`, apns-topic, apns-push-type, apns-priority, apns-expiration, a JSON body
 * with an `aps` dictionary, and an ES256 provider token whose kid/iss are the configured key id
 * and team id and whose signature verifies), answers 200 with an apns-id, and keeps only what
 * the benchmark needs: when each token's pushes arrived. A failed check is answered as APNs
 * would (403 InvalidProviderToken, 400 with a reason) and counted in `problems`.
 *
 * A provider reuses one JWT for up to an hour, so each distinct JWT is verified once and its
 * verdict remembered: every request is still checked, without one signature check per push.
 */
import { type KeyObject, randomUUID, verify } from 'node:crypto';
import { createSecureServer, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { nowMs } from './util.js';

export interface ApnsSink {
  /** https://127.0.0.1:<port> */
  url: string;
  /** The server certificate (PEM) the node must trust. */
  cert: string;
  /** Every accepted push's arrival time (ms since the epoch, µs fraction), per device token. */
  readonly arrivals: ReadonlyMap<string, number[]>;
  /** Accepted pushes in all. */
  readonly accepted: number;
  /** Requests refused by a check, with why (at most 20 kept; `refused` counts all). */
  readonly problems: readonly string[];
  readonly refused: number;
  /** HTTP/2 sessions accepted. */
  readonly sessions: number;
  close(): Promise<void>;
}

interface Jwt {
  header: { alg?: unknown; kid?: unknown };
  claims: { iss?: unknown; iat?: unknown };
  input: string;
  signature: Buffer;
}

function decodeJwt(raw: string): Jwt | undefined {
  const parts = raw.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')),
      claims: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')),
      input: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

export async function startApnsSink(o: {
  keyId: string;
  teamId: string;
  /** The public half of the .p8 key the node signs with. */
  publicKey: KeyObject;
  /** The bundle id every registration names. */
  topic: string;
}): Promise<ApnsSink> {
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
  const arrivals = new Map<string, number[]>();
  const problems: string[] = [];
  const open = new Set<Http2Session>();
  let accepted = 0;
  let refused = 0;
  let sessions = 0;

  /** A JWT's issue time (ms) once its header, claims and signature check out; false if they do not. */
  const verdicts = new Map<string, number | false>();
  const jwtOk = (raw: string): boolean => {
    let iatMs = verdicts.get(raw);
    if (iatMs === undefined) {
      const jwt = decodeJwt(raw);
      const iat = jwt?.claims.iat;
      const ok =
        jwt !== undefined &&
        jwt.header.alg === 'ES256' &&
        jwt.header.kid === o.keyId &&
        jwt.claims.iss === o.teamId &&
        typeof iat === 'number' &&
        verify(
          'sha256',
          Buffer.from(jwt.input),
          { key: o.publicKey, dsaEncoding: 'ieee-p1363' },
          jwt.signature,
        );
      iatMs = ok ? (iat as number) * 1000 : false;
      verdicts.set(raw, iatMs);
    }
    // APNs refuses a token older than an hour, or one issued in the future.
    const now = Date.now();
    return iatMs !== false && iatMs <= now + 60_000 && now - iatMs < 3_600_000;
  };

  const refuse = (stream: ServerHttp2Stream, status: number, reason: string, why: string) => {
    refused++;
    if (problems.length < 20) problems.push(why);
    if (stream.destroyed) return;
    stream.respond({ ':status': status, 'apns-id': randomUUID() });
    stream.end(JSON.stringify({ reason }));
  };

  const server = createSecureServer({ key: pems.private, cert: pems.cert });
  server.on('session', (s) => {
    sessions++;
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const at = nowMs();
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 8192) chunks.push(c);
    });
    stream.on('error', () => {});
    stream.on('end', () => {
      const path = String(headers[':path'] ?? '');
      const m = /^\/3\/device\/([0-9a-f]{64,200})$/.exec(path);
      if (headers[':method'] !== 'POST' || !m)
        return refuse(stream, 404, 'BadPath', `bad request line ${headers[':method']} ${path}`);
      const auth = String(headers.authorization ?? '');
      if (!auth.startsWith('bearer ') || !jwtOk(auth.slice(7)))
        return refuse(stream, 403, 'InvalidProviderToken', 'provider token does not verify');
      const type = String(headers['apns-push-type'] ?? '');
      const wrong = [
        headers['apns-topic'] !== o.topic && 'apns-topic',
        !['alert', 'background'].includes(type) && 'apns-push-type',
        headers['apns-priority'] !== (type === 'background' ? '5' : '10') && 'apns-priority',
        !/^\d+$/.test(String(headers['apns-expiration'] ?? '')) && 'apns-expiration',
      ].filter(Boolean);
      if (wrong.length) return refuse(stream, 400, 'BadTopic', `bad headers: ${wrong.join(', ')}`);
      if (size > 4096) return refuse(stream, 413, 'PayloadTooLarge', `payload of ${size} bytes`);
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { aps?: unknown };
        if (typeof body.aps !== 'object' || body.aps === null) throw new Error('no aps');
      } catch {
        return refuse(stream, 400, 'PayloadEmpty', 'body is not JSON with an aps dictionary');
      }
      const token = m[1]!;
      const list = arrivals.get(token);
      if (list) list.push(at);
      else arrivals.set(token, [at]);
      accepted++;
      if (!stream.destroyed) {
        stream.respond({ ':status': 200, 'apns-id': randomUUID() });
        stream.end();
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    cert: pems.cert,
    arrivals,
    problems,
    get accepted() {
      return accepted;
    },
    get refused() {
      return refused;
    },
    get sessions() {
      return sessions;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
