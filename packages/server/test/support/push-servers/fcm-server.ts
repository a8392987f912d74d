/**
 * A local FCM HTTP v1 with its OAuth2 token endpoint. `POST /token` takes a jwt-bearer grant
 * whose RS256 assertion must verify with the service account's public key (iss = client_email,
 * scope = firebase.messaging, aud = the token URL) and answers `{access_token, expires_in}`.
 * `POST /v1/projects/<project>/messages:send` takes only a Bearer token it issued (and has not
 * revoked) and a message with a token and string-valued data.
 */
import { generateKeyPairSync, randomUUID, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AnswerBook, decodeJwt, type PushTestAnswer, readBody, retryAfterHeader } from './answers.js';

export interface FcmReceived {
  token: string;
  message: {
    token: string;
    data: Record<string, string>;
    android: { priority: string; collapse_key?: string; ttl?: string };
    apns?: { headers: Record<string, string>; payload: { aps: Record<string, unknown> } };
    [k: string]: unknown;
  };
  bearer: string;
}

export interface FcmTestServer {
  url: string;
  /** A service-account JSON whose token_uri is this server's `/token`. */
  serviceAccountJson: string;
  projectId: string;
  received: FcmReceived[];
  problems: string[];
  /** Access tokens handed out so far. */
  readonly tokensIssued: number;
  /** expires_in of the next tokens (default 3600). */
  expiresIn: number;
  setAnswer(token: string, answer: PushTestAnswer): void;
  /** Forgets every access token issued (as if they expired): sends get 401 until a new one is fetched. */
  revokeAccessTokens(): void;
  close(): Promise<void>;
}

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

function fcmError(
  res: ServerResponse,
  status: number,
  rpcStatus: string,
  extra: object[] = [],
  headers = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { code: status, message: rpcStatus, status: rpcStatus, details: extra } }));
}
const fcmCode = (errorCode: string) => ({
  '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError',
  errorCode,
});

export async function startFcmServer(o: { projectId?: string } = {}): Promise<FcmTestServer> {
  const projectId = o.projectId ?? 'parley-test';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = `push@${projectId}.iam.gserviceaccount.com`;
  const answers = new AnswerBook();
  const received: FcmReceived[] = [];
  const problems: string[] = [];
  const issued = new Set<string>();
  let tokensIssued = 0;
  let url = '';

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const jwt = decodeJwt(form.get('assertion') ?? '');
    const c = jwt?.claims;
    const ok =
      form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' &&
      jwt !== undefined &&
      jwt.header.alg === 'RS256' &&
      c!.iss === clientEmail &&
      c!.scope === SCOPE &&
      c!.aud === `${url}/token` &&
      typeof c!.iat === 'number' &&
      typeof c!.exp === 'number' &&
      (c!.exp as number) > (c!.iat as number) &&
      (c!.exp as number) - (c!.iat as number) <= 3600 &&
      verify('sha256', Buffer.from(jwt.input), publicKey, jwt.signature);
    if (!ok) {
      problems.push('token request: the assertion does not verify');
      res.writeHead(400, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: 'invalid_grant' }));
    }
    const access = `ya29.${randomUUID()}`;
    issued.add(access);
    tokensIssued++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: access, expires_in: server.expiresIn, token_type: 'Bearer' }));
  };

  const send = async (req: IncomingMessage, res: ServerResponse) => {
    const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    const raw = await readBody(req);
    if (!issued.has(bearer)) return fcmError(res, 401, 'UNAUTHENTICATED');
    let message: FcmReceived['message'];
    try {
      message = (JSON.parse(raw.toString('utf8')) as { message: FcmReceived['message'] }).message;
      const data = Object.values(message.data ?? {});
      if (typeof message.token !== 'string' || data.some((v) => typeof v !== 'string')) throw new Error();
      if (!['high', 'normal'].includes(message.android?.priority)) throw new Error();
    } catch {
      problems.push('send: not a v1 message with a token, string data and an android priority');
      return fcmError(res, 400, 'INVALID_ARGUMENT');
    }
    received.push({ token: message.token, message, bearer });
    const a = answers.take(message.token);
    switch (a.kind) {
      case 'ok':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ name: `projects/${projectId}/messages/${randomUUID()}` }));
      case 'invalid-token':
        return fcmError(res, 404, 'NOT_FOUND', [fcmCode('UNREGISTERED')]);
      case 'bad-token':
        return fcmError(res, 400, 'INVALID_ARGUMENT', [
          fcmCode('INVALID_ARGUMENT'),
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [{ field: 'message.token', description: 'Invalid registration token' }],
          },
        ]);
      case 'rate-limited':
        return fcmError(res, 429, 'RESOURCE_EXHAUSTED', [fcmCode('QUOTA_EXCEEDED')], retryAfterHeader(a));
      case 'server-error':
        return a.status === 503
          ? fcmError(res, 503, 'UNAVAILABLE', [fcmCode('UNAVAILABLE')], retryAfterHeader(a))
          : fcmError(res, 500, 'INTERNAL', [fcmCode('INTERNAL')], retryAfterHeader(a));
      case 'hang':
        return;
      case 'auth-expired-once':
        issued.delete(bearer);
        return fcmError(res, 401, 'UNAUTHENTICATED');
      case 'status':
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
        return res.end(a.body);
    }
  };

  const http = createServer((req, res) => {
    const path = req.url ?? '';
    if (req.method === 'POST' && path === '/token') return void token(req, res);
    if (req.method === 'POST' && path === `/v1/projects/${projectId}/messages:send`)
      return void send(req, res);
    problems.push(`unexpected ${req.method} ${path}`);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const serviceAccountJson = JSON.stringify({
    type: 'service_account',
    project_id: projectId,
    private_key_id: 'test-key-1',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: clientEmail,
    token_uri: `${url}/token`,
  });
  const server: FcmTestServer = {
    url,
    serviceAccountJson,
    projectId,
    received,
    problems,
    get tokensIssued() {
      return tokensIssued;
    },
    expiresIn: 3600,
    setAnswer: (t, a) => answers.set(t, a),
    revokeAccessTokens: () => issued.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
  return server;
}
