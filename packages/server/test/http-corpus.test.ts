/**
 * Malformed HTTP against a node in its own process, so a crash shows as an exit: bad request
 * targets, methods, headers and bodies, slow headers and bodies, and downloads cancelled
 * mid-body. Each gets a 4xx or a closed connection; afterwards the node still serves.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, kill, startChild } from './crash/crash-run.js';
import { nextPhone } from './harness.js';
import { cancelDownload, type RawAnswer, rawExchange, request, uploadMedia } from './raw-http.js';
import { registerViaLog } from './register-via-log.js';

const HEAD = 'Host: parley.test\r\nConnection: close\r\n';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A request line and headers; `extra` ends in the body (or nothing). */
const raw = (line: string, extra = '\r\n') => `${line}\r\n${HEAD}${extra}`;
const post = (headers: string, body: string) => raw('POST /v1/auth/code HTTP/1.1', `${headers}\r\n${body}`);

const BAD_TARGETS = [
  '//%',
  '//a:b@',
  'http://[',
  '//[::1',
  '//%zz',
  '//a%00b',
  'http://a:99999/',
  '//xn--/',
  '//@',
  '//1.2.3.4.5',
];

/** name, bytes to send, and (optionally) the status the node must answer with. */
const CORPUS: Array<{ name: string; send: Array<string | Buffer>; status?: number }> = [
  ...BAD_TARGETS.map((t) => ({ name: `target ${t}`, send: [raw(`GET ${t} HTTP/1.1`)], status: 400 })),
  {
    name: 'bad target on a route with a body',
    send: [raw('POST //% HTTP/1.1', 'Content-Length: 2\r\n\r\n{}')],
    status: 400,
  },
  {
    name: 'bad target as a WebSocket upgrade',
    send: [raw('GET //% HTTP/1.1', 'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n')],
  },
  {
    name: 'WebSocket upgrade with a mangled query',
    send: [raw('GET /v1/ws?token=%%%&x HTTP/1.1', 'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n')],
  },
  { name: 'very long target', send: [raw(`GET /${'a'.repeat(40_000)} HTTP/1.1`)] },
  { name: 'absolute-form target', send: [raw('GET http://elsewhere.test/nope HTTP/1.1')], status: 404 },
  { name: 'asterisk target', send: [raw('OPTIONS * HTTP/1.1')], status: 404 },
  { name: 'control character in target', send: [raw('GET /a\x01b HTTP/1.1')] },
  { name: 'DEL in target', send: [raw('GET /a\x7fb HTTP/1.1')] },
  { name: 'HTTP/9.9', send: [raw('GET /healthz HTTP/9.9')] },
  { name: 'unknown method', send: [raw('FROB /healthz HTTP/1.1')] },
  { name: 'lowercase method', send: [raw('get /healthz HTTP/1.1')] },
  { name: 'huge method', send: [raw(`${'A'.repeat(20_000)} /healthz HTTP/1.1`)] },
  { name: 'binary garbage', send: [randomBytes(4096)] },
  { name: 'TLS hello on the plain port', send: [Buffer.from('16030100a5010000a103030000', 'hex')] },
  { name: 'duplicate content-length', send: [post('Content-Length: 2\r\nContent-Length: 3\r\n', '{}')] },
  { name: 'invalid header name', send: [raw('GET /healthz HTTP/1.1', 'X-A\x01: b\r\n\r\n')] },
  { name: 'NUL in header value', send: [raw('GET /healthz HTTP/1.1', 'X-A: b\x00c\r\n\r\n')] },
  { name: 'header without colon', send: [raw('GET /healthz HTTP/1.1', 'NoColonHere\r\n\r\n')] },
  { name: 'oversized header', send: [raw('GET /healthz HTTP/1.1', `X-Big: ${'b'.repeat(40_000)}\r\n\r\n`)] },
  { name: 'many headers', send: [raw('GET /healthz HTTP/1.1', `${'X-N: 1\r\n'.repeat(8000)}\r\n`)] },
  { name: 'missing Host', send: ['GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'] },
  { name: 'obsolete line folding', send: [raw('GET /healthz HTTP/1.1', 'X-A: b\r\n c\r\n\r\n')] },
  { name: 'unknown transfer-encoding', send: [post('Transfer-Encoding: bogus\r\n', '{}')] },
  { name: 'chunked not last', send: [post('Transfer-Encoding: chunked, gzip\r\n', '2\r\n{}\r\n0\r\n\r\n')] },
  {
    name: 'chunked and content-length',
    send: [post('Transfer-Encoding: chunked\r\nContent-Length: 2\r\n', '2\r\n{}\r\n0\r\n\r\n')],
  },
  { name: 'chunk size not hex', send: [post('Transfer-Encoding: chunked\r\n', 'zz\r\n{}\r\n0\r\n\r\n')] },
  {
    name: 'chunk size overflow',
    send: [post('Transfer-Encoding: chunked\r\n', 'ffffffffffffffffffff\r\n{}\r\n')],
  },
  {
    name: 'chunk longer than its size',
    send: [post('Transfer-Encoding: chunked\r\n', '1\r\n{}\r\n0\r\n\r\n')],
  },
  { name: 'invalid JSON', send: [post('Content-Length: 5\r\n', '{"a":')], status: 400 },
  { name: 'JSON array', send: [post('Content-Length: 2\r\n', '[]')], status: 400 },
  {
    name: 'huge JSON body',
    send: [post(`Content-Length: ${40_000}\r\n`, `{"a":"${'x'.repeat(39_992)}"}`)],
    status: 400,
  },
  {
    name: 'chunked JSON body over 16 KiB',
    send: [post('Transfer-Encoding: chunked\r\n', `4e20\r\n{"a":"${'x'.repeat(19_992)}"}\r\n0\r\n\r\n`)],
    status: 400,
  },
  {
    name: 'chunked JSON body over 16 KiB that then stalls',
    send: [post('Transfer-Encoding: chunked\r\n', `4e20\r\n{"a":"${'x'.repeat(19_992)}"}\r\n`)],
    status: 400,
  },
  { name: 'negative content-length', send: [post('Content-Length: -1\r\n', '{}')] },
  { name: 'content-length not a number', send: [post('Content-Length: 2x\r\n', '{}')] },
  {
    name: 'body longer than content-length',
    send: [post('Content-Length: 2\r\n', '{}GARBAGE / HTTP/1.1\r\n\r\n')],
  },
  { name: 'truncated body (stalls)', send: [post('Content-Length: 100\r\n', '{"phone":')], status: 408 },
  {
    name: 'media upload without a token',
    send: [raw('PUT /v1/media/abc HTTP/1.1', 'Content-Length: 3\r\n\r\nabc')],
    status: 401,
  },
];

function isRefusal(r: RawAnswer): boolean {
  return (
    (r.status !== undefined && r.status >= 400 && r.status < 500) || (r.status === undefined && r.closed)
  );
}

describe('malformed HTTP against a node process', () => {
  let dataDir: string;
  let port: number;
  let url: string;
  let child: ChildProcess;
  const alive = () => child.exitCode === null && child.signalCode === null;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-http-corpus-'));
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = await startChild(dataDir, port, [
      ...['--http-headers-timeout-ms', '1000', '--http-body-timeout-ms', '1000'],
      ...['--shutdown-drain-ms', '0', '--code-requests-per-hour', '1000'],
    ]);
  });
  after(async () => {
    await kill(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers every malformed request with a 4xx or a closed connection, and keeps serving', async () => {
    for (const c of CORPUS) {
      const r = await rawExchange(port, c.send, { waitMs: 4000 });
      if (c.status !== undefined) assert.equal(r.status, c.status, `${c.name}: ${r.body}`);
      else assert.ok(isRefusal(r), `${c.name}: got ${r.status} (closed=${r.closed})`);
      if (c.status === 400 && c.name.startsWith('target')) {
        assert.equal(JSON.parse(r.body).error.code, 'INVALID_ARGUMENT', c.name);
      }
      assert.ok(alive(), `the node is still running after: ${c.name}`);
    }
    assert.equal((await rawExchange(port, [request('GET', '/healthz')])).status, 200);
    const user = await registerViaLog(url, dataDir, nextPhone());
    assert.ok(user.token, 'a real registration still works');
  });

  it('cuts off slow headers (a byte every 200 ms), idle connections and slow bodies', async () => {
    const line = Buffer.from(`GET /healthz HTTP/1.1\r\n${'X-Slow: drip\r\n'.repeat(20)}\r\n`);
    const drip = [...line].map((b) => Buffer.from([b]));
    const slowloris = await rawExchange(port, drip, { gapMs: 200, stopWhenClosed: true, waitMs: 3000 });
    assert.ok(
      slowloris.closed && slowloris.elapsedMs < 8000,
      `slow headers cut off (${slowloris.elapsedMs} ms)`,
    );
    assert.notEqual(slowloris.status, 200);

    const idle = await rawExchange(port, [], { waitMs: 8000 });
    assert.ok(idle.closed && idle.elapsedMs < 8000, `a silent connection is closed (${idle.elapsedMs} ms)`);

    // Within the idle timeout between bytes, but not whole within the body timeout.
    const body = JSON.stringify({ phone: nextPhone() });
    const head = `POST /v1/auth/code HTTP/1.1\r\n${HEAD}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const trickle = await rawExchange(port, [head, ...body], {
      gapMs: 200,
      stopWhenClosed: true,
      waitMs: 3000,
    });
    assert.equal(trickle.status, 408);
    assert.equal(JSON.parse(trickle.body).error.code, 'REQUEST_TIMEOUT');
    assert.ok(trickle.closed);

    const user = await registerViaLog(url, dataDir, nextPhone());
    const stalled = await rawExchange(
      port,
      [
        raw(
          `PUT /v1/media/${sha(randomBytes(8))} HTTP/1.1`,
          `Authorization: Bearer ${user.token}\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`,
        ),
      ],
      { waitMs: 5000 },
    );
    assert.equal(stalled.status, 408, 'a stalled media upload is answered 408');
    assert.ok(alive());

    // A slow but steady upload, longer in all than the body timeout, is not cut off.
    const media = randomBytes(12_000);
    const pieces = Array.from({ length: 12 }, (_, i) => media.subarray(i * 1000, (i + 1) * 1000));
    const steady = await rawExchange(
      port,
      [
        raw(
          `PUT /v1/media/${sha(media)} HTTP/1.1`,
          `Authorization: Bearer ${user.token}\r\nContent-Length: ${media.length}\r\n\r\n`,
        ),
        ...pieces,
      ],
      { gapMs: 300, waitMs: 5000 },
    );
    assert.equal(steady.status, 201, `a steady 3.6 s upload is stored: ${steady.body}`);
  });

  it('downloads cancelled mid-body leave the node serving', async () => {
    const user = await registerViaLog(url, dataDir, nextPhone());
    const id = await uploadMedia(url, user.token, 4 * 1024 * 1024);
    for (let i = 0; i < 20; i++) await cancelDownload(port, id, user.token);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(alive(), 'the node survived 20 cancelled downloads');
    assert.equal((await rawExchange(port, [request('GET', '/healthz')])).status, 200);
    const whole = await fetch(`${url}/v1/media/${id}`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    assert.equal(whole.status, 200);
    assert.equal(sha(new Uint8Array(await whole.arrayBuffer())), id);
  });
});
