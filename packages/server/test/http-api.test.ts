/**
 * The HTTP API as a client sees it: the OpenAPI document is valid OpenAPI 3.1 and lists every
 * route the server serves; a battery of malformed requests to every route gets stable codes in
 * the `{error:{code,message}}` shape; CORS headers only for the configured origins.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { pino } from 'pino';
import { type HttpDeps, httpRoutes } from '../src/gateway/http.js';
import { createHttpApp } from '../src/gateway/http-app.js';
import { nextPhone, register, startNode, type TestNode } from './harness.js';
import { type RawAnswer, rawExchange, request } from './raw-http.js';

const portOf = (t: TestNode) => Number(new URL(t.url).port);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every route the app serves, as `METHOD /path/{param}` (the OpenAPI spelling). */
async function servedRoutes(): Promise<string[]> {
  const app = createHttpApp(
    { log: pino({ level: 'silent' }), corsOrigins: [], version: 'test' },
    httpRoutes({} as HttpDeps),
  );
  const routes: string[] = [];
  // Routes are all declared in plugins, which load at ready(): this hook sees every one.
  app.addHook('onRoute', (r) => {
    if (r.schema?.hide) return;
    for (const m of [r.method].flat()) routes.push(`${m} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
  });
  await app.ready();
  await app.close();
  return routes.sort();
}

describe('OpenAPI document', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  it('GET /v1/openapi.json is valid OpenAPI 3.1 and lists exactly the routes the server serves', async () => {
    const res = await fetch(`${t.url}/v1/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    const validator = new Validator();
    const result = await validator.validate(doc);
    assert.deepEqual(result.errors, undefined);
    assert.equal(result.valid, true);
    assert.equal(validator.version, '3.1');
    assert.equal(doc.openapi, '3.1.0');

    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const served = await servedRoutes();
    assert.ok(served.length >= 12, `routes found: ${served.join(', ')}`);
    assert.deepEqual(documented, served);
  });

  it('documents the error body, the bearer token and the field codes', async () => {
    const doc = (await (await fetch(`${t.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
    };
    const text = JSON.stringify(doc);
    assert.match(text, /"x-error-code":"INVALID_PHONE"/);
    assert.match(text, /"x-error-code":"CODE_INVALID"/);
    for (const [path, method] of [
      ['/v1/devices', 'get'],
      ['/v1/devices/{deviceId}', 'delete'],
      ['/v1/devices/link-code', 'post'],
      ['/v1/media/{mediaId}', 'get'],
      ['/v1/media/{mediaId}', 'put'],
      ['/v1/account/pin', 'get'],
      ['/v1/account/pin', 'put'],
      ['/v1/account/pin', 'delete'],
    ] as const) {
      const op = doc.paths[path]![method]!;
      assert.deepEqual(op.security, [{ bearer: [] }], `${method} ${path} needs a token`);
      assert.ok(op.responses.default, `${method} ${path} documents its errors`);
    }
    assert.equal(doc.paths['/v1/auth/code']!.post!.security, undefined);
  });
});

interface Case {
  name: string;
  method: string;
  path: string;
  /** A JSON value (sent as JSON), or raw text when `raw` is set. */
  body?: unknown;
  raw?: boolean;
  token?: 'valid' | string;
  headers?: string[];
  status: number;
  code: string;
}

/** Sends one case over a raw socket (exact bytes: no client fixes anything up). */
function send(port: number, c: Case, token: string): Promise<RawAnswer> {
  const headers = [...(c.headers ?? [])];
  if (c.token !== undefined)
    headers.push(`Authorization: ${c.token === 'valid' ? `Bearer ${token}` : c.token}`);
  if (c.raw) {
    const text = String(c.body ?? '');
    const head = [`${c.method} ${c.path} HTTP/1.1`, 'Host: parley.test', 'Connection: close', ...headers];
    head.push(`Content-Length: ${Buffer.byteLength(text)}`);
    return rawExchange(port, [`${head.join('\r\n')}\r\n\r\n${text}`]);
  }
  return rawExchange(port, [request(c.method, c.path, c.body, headers)]);
}

const phone = '+14152999001';
const hex = sha(Buffer.from('x'));
const bad = (
  name: string,
  method: string,
  path: string,
  rest: Partial<Case> & Pick<Case, 'status' | 'code'>,
) => ({
  name,
  method,
  path,
  ...rest,
});

const BATTERY: Case[] = [
  // POST /v1/auth/code
  bad('code: not JSON', 'POST', '/v1/auth/code', {
    body: '{"phone":',
    raw: true,
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('code: an array', 'POST', '/v1/auth/code', { body: [phone], status: 400, code: 'INVALID_ARGUMENT' }),
  bad('code: a string', 'POST', '/v1/auth/code', { body: phone, status: 400, code: 'INVALID_ARGUMENT' }),
  bad('code: null', 'POST', '/v1/auth/code', {
    body: 'null',
    raw: true,
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('code: no body', 'POST', '/v1/auth/code', { status: 400, code: 'INVALID_ARGUMENT' }),
  bad('code: __proto__ key', 'POST', '/v1/auth/code', {
    body: '{"phone":"+14152999001","__proto__":{"x":1}}',
    raw: true,
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('code: body over 16 KiB', 'POST', '/v1/auth/code', {
    body: { phone, pad: 'x'.repeat(17_000) },
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('code: no phone', 'POST', '/v1/auth/code', { body: {}, status: 400, code: 'INVALID_PHONE' }),
  bad('code: phone a number', 'POST', '/v1/auth/code', {
    body: { phone: 14152999001 },
    status: 400,
    code: 'INVALID_PHONE',
  }),
  bad('code: phone too long', 'POST', '/v1/auth/code', {
    body: { phone: `+1${'4'.repeat(40)}` },
    status: 400,
    code: 'INVALID_PHONE',
  }),
  bad('code: phone invalid', 'POST', '/v1/auth/code', {
    body: { phone: '+1415' },
    status: 400,
    code: 'INVALID_PHONE',
  }),
  // POST /v1/auth/verify
  bad('verify: not JSON', 'POST', '/v1/auth/verify', {
    body: '{',
    raw: true,
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('verify: no phone', 'POST', '/v1/auth/verify', {
    body: { code: '123456' },
    status: 400,
    code: 'INVALID_PHONE',
  }),
  bad('verify: code of 2 digits', 'POST', '/v1/auth/verify', {
    body: { phone, code: '12' },
    status: 400,
    code: 'CODE_INVALID',
  }),
  bad('verify: code a number', 'POST', '/v1/auth/verify', {
    body: { phone, code: 123456 },
    status: 400,
    code: 'CODE_INVALID',
  }),
  bad('verify: no code', 'POST', '/v1/auth/verify', { body: { phone }, status: 400, code: 'CODE_INVALID' }),
  bad('verify: deviceName a number', 'POST', '/v1/auth/verify', {
    body: { phone, code: '123456', deviceName: 7 },
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('verify: deviceName of 65 characters', 'POST', '/v1/auth/verify', {
    body: { phone, code: '123456', deviceName: 'n'.repeat(65) },
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('verify: pin of 5 digits', 'POST', '/v1/auth/verify', {
    body: { phone, code: '123456', pin: '12345' },
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('verify: pin a number', 'POST', '/v1/auth/verify', {
    body: { phone, code: '123456', pin: 12345678 },
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('verify: bad code and bad pin', 'POST', '/v1/auth/verify', {
    body: { phone, code: '12', pin: 'x' },
    status: 400,
    code: 'CODE_INVALID',
  }),
  // POST /v1/devices/link
  bad('link: not JSON', 'POST', '/v1/devices/link', {
    body: '{',
    raw: true,
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('link: no code', 'POST', '/v1/devices/link', { body: {}, status: 400, code: 'CODE_INVALID' }),
  bad('link: code too short', 'POST', '/v1/devices/link', {
    body: { code: 'short' },
    status: 400,
    code: 'CODE_INVALID',
  }),
  bad('link: code too long', 'POST', '/v1/devices/link', {
    body: { code: 'c'.repeat(65) },
    status: 400,
    code: 'CODE_INVALID',
  }),
  bad('link: deviceName a list', 'POST', '/v1/devices/link', {
    body: { code: 'abcdefgh', deviceName: [] },
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('link: unknown code', 'POST', '/v1/devices/link', {
    body: { code: 'abcdefgh' },
    status: 400,
    code: 'CODE_INVALID',
  }),
  // Routes that need a token: none, a bad one, another scheme
  ...(
    [
      ['POST', '/v1/devices/link-code'],
      ['GET', '/v1/devices'],
      ['DELETE', '/v1/devices/d_x'],
      ['GET', `/v1/media/${hex}`],
      ['PUT', `/v1/media/${hex}`],
      ['GET', '/v1/account/pin'],
      ['PUT', '/v1/account/pin'],
      ['DELETE', '/v1/account/pin'],
    ] as const
  ).flatMap(([method, path]) => [
    bad(`${method} ${path}: no token`, method, path, { status: 401, code: 'UNAUTHENTICATED' }),
    bad(`${method} ${path}: unknown token`, method, path, {
      token: 'Bearer nope',
      status: 401,
      code: 'UNAUTHENTICATED',
    }),
    bad(`${method} ${path}: Basic`, method, path, {
      token: 'Basic dTpw',
      status: 401,
      code: 'UNAUTHENTICATED',
    }),
    bad(`${method} ${path}: no token, bad body`, method, path, {
      body: '{',
      raw: true,
      status: 401,
      code: 'UNAUTHENTICATED',
    }),
  ]),
  // DELETE /v1/devices/:deviceId
  bad('delete: id with a dot', 'DELETE', '/v1/devices/d.x', {
    token: 'valid',
    status: 404,
    code: 'NOT_FOUND',
  }),
  bad('delete: id of 65 characters', 'DELETE', `/v1/devices/${'d'.repeat(65)}`, {
    token: 'valid',
    status: 404,
    code: 'NOT_FOUND',
  }),
  bad('delete: unknown id', 'DELETE', '/v1/devices/d_unknown', {
    token: 'valid',
    status: 404,
    code: 'NOT_FOUND',
  }),
  // PUT /v1/account/pin (the token is the primary's)
  bad('pin: not JSON', 'PUT', '/v1/account/pin', {
    token: 'valid',
    body: '{"pin":',
    raw: true,
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('pin: no body', 'PUT', '/v1/account/pin', { token: 'valid', status: 400, code: 'INVALID_ARGUMENT' }),
  bad('pin: no pin', 'PUT', '/v1/account/pin', {
    token: 'valid',
    body: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('pin: a number', 'PUT', '/v1/account/pin', {
    token: 'valid',
    body: { pin: 12345678 },
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('pin: of 21 digits', 'PUT', '/v1/account/pin', {
    token: 'valid',
    body: { pin: '1'.repeat(21) },
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('pin: another field', 'PUT', '/v1/account/pin', {
    token: 'valid',
    body: { pin: '123456', extra: 1 },
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('POST /v1/account/pin', 'POST', '/v1/account/pin', {
    token: 'valid',
    body: { pin: '123456' },
    status: 404,
    code: 'NOT_FOUND',
  }),
  // GET and PUT /v1/media/:mediaId
  bad('get media: not a hash', 'GET', '/v1/media/not-a-hash', {
    token: 'valid',
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('get media: upper-case hash', 'GET', `/v1/media/${hex.toUpperCase()}`, {
    token: 'valid',
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('get media: unknown', 'GET', `/v1/media/${hex}`, { token: 'valid', status: 404, code: 'NOT_FOUND' }),
  bad('put media: not a hash', 'PUT', '/v1/media/abc', {
    token: 'valid',
    body: 'abc',
    raw: true,
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('put media: empty body', 'PUT', `/v1/media/${hex}`, {
    token: 'valid',
    body: '',
    raw: true,
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('put media: no content-length', 'PUT', `/v1/media/${hex}`, {
    token: 'valid',
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
  bad('put media: wrong digest', 'PUT', `/v1/media/${hex}`, {
    token: 'valid',
    body: 'y',
    raw: true,
    status: 400,
    code: 'DIGEST_MISMATCH',
  }),
  // No such route or method
  bad('GET on a POST route', 'GET', '/v1/auth/code', { status: 404, code: 'NOT_FOUND' }),
  bad('PATCH /v1/devices', 'PATCH', '/v1/devices', { token: 'valid', status: 404, code: 'NOT_FOUND' }),
  bad('POST /healthz', 'POST', '/healthz', { body: {}, status: 404, code: 'NOT_FOUND' }),
  bad('HEAD /healthz', 'HEAD', '/healthz', { status: 404, code: 'NOT_FOUND' }),
  bad('trailing slash', 'GET', '/v1/devices/', { token: 'valid', status: 404, code: 'NOT_FOUND' }),
  bad('unknown route', 'GET', '/v2/anything?token=secret', { status: 404, code: 'NOT_FOUND' }),
  bad('bad percent-encoding', 'GET', '/v1/media/%zz', {
    token: 'valid',
    status: 400,
    code: 'INVALID_ARGUMENT',
  }),
];

describe('malformed requests to every route', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode({ codeRequestsPerHour: 1000 });
  });
  after(() => t.stop());

  it('each answers its stable code in the {error:{code,message}} shape, and the node keeps serving', async () => {
    const me = await register(t);
    const port = portOf(t);
    for (const c of BATTERY) {
      const r = await send(port, c, me.token);
      assert.equal(r.status, c.status, `${c.name}: ${r.body}`);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', c.name);
      if (c.method === 'HEAD') continue;
      assert.match(r.headers['content-type'] ?? '', /^application\/json/, c.name);
      const body = JSON.parse(r.body) as { error: Record<string, unknown> };
      assert.deepEqual(Object.keys(body), ['error'], c.name);
      assert.equal(body.error.code, c.code, `${c.name}: ${r.body}`);
      assert.equal(typeof body.error.message, 'string', c.name);
      assert.deepEqual(
        Object.keys(body.error).filter((k) => !['code', 'message', 'retryAfterMs'].includes(k)),
        [],
        c.name,
      );
      assert.doesNotMatch(
        r.body,
        /\bat .*\.js:\d+|secret|Bearer/,
        `${c.name}: no stack or token in the answer`,
      );
    }
    // Nothing above registered anyone or stored anything; a real registration still works.
    assert.equal(t.sms.codes.has('+14152999001'), false);
    const body = randomBytes(100);
    const put = await fetch(`${t.url}/v1/media/${sha(body)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${me.token}` },
      body,
    });
    assert.equal(put.status, 201);
    assert.ok((await register(t, nextPhone())).token);
  });
});

describe('CORS', () => {
  const origin = 'https://app.example.org';
  const preflight = (path: string, from: string) =>
    request('OPTIONS', path, undefined, [
      `Origin: ${from}`,
      'Access-Control-Request-Method: GET',
      'Access-Control-Request-Headers: authorization',
    ]);

  it('with --cors-origins, the listed origins get CORS headers on answers, errors and preflights', async () => {
    const t = await startNode({ corsOrigins: `${origin}, http://localhost:5173` });
    try {
      const port = portOf(t);
      const pre = await rawExchange(port, [preflight('/v1/devices', origin)]);
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], origin);
      assert.match(pre.headers['access-control-allow-headers'] ?? '', /authorization/);
      assert.match(pre.headers['access-control-allow-methods'] ?? '', /DELETE/);
      const ok = await rawExchange(port, [request('GET', '/healthz', undefined, [`Origin: ${origin}`])]);
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['access-control-allow-origin'], origin);
      const denied = await rawExchange(port, [
        request('GET', '/v1/devices', undefined, [`Origin: ${origin}`]),
      ]);
      assert.equal(denied.status, 401);
      assert.equal(denied.headers['access-control-allow-origin'], origin, 'a browser app can read the error');
      const other = await rawExchange(port, [
        request('GET', '/healthz', undefined, ['Origin: https://evil.test']),
      ]);
      assert.equal(other.status, 200);
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    } finally {
      await t.stop();
    }
  });

  it('by default no CORS headers are sent and a preflight is not answered', async () => {
    const t = await startNode();
    try {
      const port = portOf(t);
      const ok = await rawExchange(port, [request('GET', '/healthz', undefined, [`Origin: ${origin}`])]);
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['access-control-allow-origin'], undefined);
      const pre = await rawExchange(port, [preflight('/v1/devices', origin)]);
      assert.equal(pre.status, 404);
      assert.equal(pre.headers['access-control-allow-origin'], undefined);
    } finally {
      await t.stop();
    }
  });
});
