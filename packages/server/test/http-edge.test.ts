/**
 * The HTTP edge over raw sockets: nosniff on every response, /readyz answering 503 while a node
 * drains, connection caps, the PROXY protocol and X-Forwarded-For deciding whose rate-limit
 * bucket a request counts against.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { offeredSubprotocols } from '@parley/protocol';
import { pino } from 'pino';
import WebSocket from 'ws';
import { loadConfig } from '../src/config/load.js';
import type { ConfigInput } from '../src/config/schema.js';
import { createEdge } from '../src/gateway/edge.js';
import { nextPhone, RawClient, register, startNode, type TestNode } from './harness.js';
import { cancelDownload, proxyV2, rawExchange, request, uploadMedia } from './raw-http.js';

const portOf = (t: TestNode) => Number(new URL(t.url).port);

async function withNode(config: ConfigInput, fn: (t: TestNode, port: number) => Promise<void>) {
  const t = await startNode(config);
  try {
    await fn(t, portOf(t));
  } finally {
    await t.stop();
  }
}

/** Idle connections held open (counted by the node) until closed. */
async function holdConnections(port: number, n: number): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((res, rej) => {
          const s = connect(port, '127.0.0.1', () => res(s));
          s.on('error', rej);
        }),
    ),
  );
}

/** A code request for a fresh phone, from `source` (PROXY v2) and/or with X-Forwarded-For. */
function codeRequest(port: number, opts: { source?: string; forwardedFor?: string }) {
  const req = request(
    'POST',
    '/v1/auth/code',
    { phone: nextPhone() },
    opts.forwardedFor ? [`X-Forwarded-For: ${opts.forwardedFor}`] : [],
  );
  return rawExchange(port, opts.source ? [Buffer.concat([proxyV2(opts.source), Buffer.from(req)])] : [req]);
}

/** Registers over raw `Connection: close` requests (fetch would keep connections open, and counted). */
async function registerRaw(t: TestNode, port: number, source?: string) {
  const phone = nextPhone();
  const send = (target: string, body: unknown) => {
    const req = Buffer.from(request('POST', target, body));
    return rawExchange(port, [source ? Buffer.concat([proxyV2(source), req]) : req]);
  };
  assert.equal((await send('/v1/auth/code', { phone })).status, 200);
  const verified = await send('/v1/auth/verify', { phone, code: t.sms.codes.get(phone) });
  assert.equal(verified.status, 200);
  return JSON.parse(verified.body) as { userId: string; deviceId: string; token: string };
}

/** Code requests per client address per hour (codeRequestsPerIpPerHour) in these tests. */
const PER_IP_CODES = 10;

describe('HTTP edge', () => {
  it('every response says X-Content-Type-Options: nosniff (JSON, errors, media, upgrade refusals)', async () => {
    await withNode({}, async (t, port) => {
      for (const target of ['/healthz', '/readyz', '/no-such-route', '/metrics']) {
        const r = await rawExchange(port, [request('GET', target)]);
        assert.equal(r.headers['x-content-type-options'], 'nosniff', target);
      }
      const me = await register(t);
      const body = randomBytes(1000);
      const id = createHash('sha256').update(body).digest('hex');
      const put = await fetch(`${t.url}/v1/media/${id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${me.token}` },
        body,
      });
      assert.equal(put.headers.get('x-content-type-options'), 'nosniff');
      const get = await fetch(`${t.url}/v1/media/${id}`, {
        headers: { authorization: `Bearer ${me.token}` },
      });
      assert.equal(get.status, 200);
      assert.equal(get.headers.get('x-content-type-options'), 'nosniff');
      await get.arrayBuffer();
      const upgrade = await rawExchange(port, [
        'GET /v1/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      ]);
      assert.equal(upgrade.status, 426);
      assert.equal(upgrade.headers['x-content-type-options'], 'nosniff');
    });
  });

  it('a download the client cancels is logged at debug, without a stack, and never as an error', async () => {
    const lines: Array<{ level: number; msg: string; err?: unknown }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
        done();
      },
    });
    const t = await startNode({}, { log: pino({ level: 'debug' }, sink) });
    try {
      const port = portOf(t);
      const me = await registerRaw(t, port);
      const id = await uploadMedia(t.url, me.token, 4 * 1024 * 1024);
      for (let i = 0; i < 5; i++) await cancelDownload(port, id, me.token);
      await new Promise((r) => setTimeout(r, 300));
      const gone = lines.filter((l) => l.msg === 'client went away');
      assert.ok(gone.length >= 1, 'the cancel is logged');
      assert.ok(
        gone.every((l) => l.level === 20 && l.err === undefined),
        'at debug, without an error object',
      );
      assert.deepEqual(
        lines.filter((l) => l.level >= 50).map((l) => l.msg),
        [],
      );
    } finally {
      await t.stop();
    }
  });

  it('while a node stops, /readyz answers 503 on new connections for the drain time', async () => {
    const t = await startNode({ shutdownDrainMs: 1500 });
    const port = portOf(t);
    assert.equal((await rawExchange(port, [request('GET', '/readyz')])).status, 200);
    const stopped = t.stop();
    const during = await rawExchange(port, [request('GET', '/readyz')]);
    assert.equal(during.status, 503, 'a new connection during the drain is answered, not refused');
    assert.equal(JSON.parse(during.body).status, 'not ready');
    assert.equal((await rawExchange(port, [request('GET', '/healthz')])).status, 200);
    await stopped;
    const after = await rawExchange(port, [request('GET', '/readyz')], { waitMs: 1000 });
    assert.equal(after.status, undefined, 'the port is closed once the node stopped');
  });

  it('connections over maxConnections are answered 503 with Connection: close', async () => {
    await withNode({ maxConnections: 3 }, async (_t, port) => {
      const held = await holdConnections(port, 3);
      const refused = await rawExchange(port, [request('GET', '/healthz')]);
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.connection, 'close');
      assert.equal(JSON.parse(refused.body).error.code, 'UNAVAILABLE');
      for (const s of held) s.destroy();
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await rawExchange(port, [request('GET', '/healthz')])).status, 200);
    });
  });

  it('unauthenticated connections per address are capped; an authenticated WebSocket no longer counts', async () => {
    await withNode({ maxConnectionsPerIp: 2 }, async (t, port) => {
      const me = await registerRaw(t, port);
      const other = await registerRaw(t, port);
      const held = await holdConnections(port, 2);
      const refused = await rawExchange(port, [request('GET', '/healthz')]);
      assert.equal(refused.status, 503);
      assert.equal(JSON.parse(refused.body).error.code, 'UNAVAILABLE');
      for (const s of held) s.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const a = await RawClient.connect(t, me);
      const b = await RawClient.connect(t, other);
      const r1 = await rawExchange(port, [request('GET', '/healthz')]);
      assert.equal(r1.status, 200, 'two authenticated WebSockets leave the address its slots');
      await a.close();
      await b.close();
    });
    await withNode({ maxConnectionsPerIp: 2 }, async (t, port) => {
      // A WebSocket stops counting once, when it authenticates: its close must not take a
      // slot off the count of connections from the same address that are still unauthenticated.
      const a = await RawClient.connect(t, await registerRaw(t, port));
      const first = await holdConnections(port, 1);
      await a.close();
      await new Promise((r) => setTimeout(r, 200));
      const second = await holdConnections(port, 1);
      const refused = await rawExchange(port, [request('GET', '/healthz')]);
      assert.equal(refused.status, 503, 'two unauthenticated connections still fill the address');
      for (const s of [...first, ...second]) s.destroy();
    });
    await withNode({ maxConnectionsPerIp: 2, trustedProxies: '127.0.0.1' }, async (_t, port) => {
      const held = await holdConnections(port, 3);
      const r = await rawExchange(port, [request('GET', '/healthz')]);
      assert.equal(r.status, 200, 'a trusted proxy is not held to the per-address cap');
      for (const s of held) s.destroy();
    });
  });
});

describe('listen backlog', () => {
  /** The queue length the kernel gives the listening socket (`ss` shows it as Send-Q). */
  const backlogOf = (port: number) => {
    const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
    const [state, , sendQ] = line.split(/\s+/);
    assert.equal(state, 'LISTEN', line);
    return Number(sendQ);
  };
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));

  it('queues --listen-backlog connections (4096 by default, at most net.core.somaxconn), not the 511 Node asks for', async () => {
    await withNode({}, async (_t, port) => {
      assert.equal(backlogOf(port), Math.min(4096, somaxconn));
    });
    await withNode({ listenBacklog: 1000 }, async (_t, port) => {
      assert.equal(backlogOf(port), Math.min(1000, somaxconn));
    });
  });
});

describe('client address: PROXY protocol and X-Forwarded-For', () => {
  // All test numbers share one prefix: its budget must not be what refuses them.
  const proxied: ConfigInput = {
    proxyProtocol: true,
    trustedProxies: '127.0.0.1',
    codeRequestsPerIpPerHour: PER_IP_CODES,
    codeRequestsPerPrefixPerHour: 10_000,
  };

  it('per-IP limits count each PROXY source address separately', async () => {
    await withNode(proxied, async (_t, port) => {
      for (let i = 0; i < PER_IP_CODES; i++) {
        assert.equal((await codeRequest(port, { source: '203.0.113.1' })).status, 200);
      }
      const limited = await codeRequest(port, { source: '203.0.113.1' });
      assert.equal(limited.status, 429);
      assert.equal(JSON.parse(limited.body).error.code, 'RATE_LIMITED');
      assert.equal((await codeRequest(port, { source: '203.0.113.2' })).status, 200);
    });
  });

  it('a malformed PROXY header, or none, is refused without harm to the node', async () => {
    await withNode(proxied, async (_t, port) => {
      const bad = [
        Buffer.from(request('GET', '/healthz')),
        Buffer.concat([
          Buffer.from('PROXY TCP4 1.2.3 4.5.6.7 1 2\r\n'),
          Buffer.from(request('GET', '/healthz')),
        ]),
        Buffer.concat([proxyV2('1.2.3.4').subarray(0, 12), Buffer.from([0x21, 0x11, 0, 4, 1, 2, 3, 4])]),
        Buffer.from([
          0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x31, 0x11, 0, 0,
        ]),
      ];
      for (const b of bad) {
        const r = await rawExchange(port, [b]);
        assert.deepEqual([r.status, r.closed], [undefined, true], b.toString('latin1'));
      }
      const ok = await rawExchange(port, [
        Buffer.concat([proxyV2('203.0.113.9'), Buffer.from(request('GET', '/healthz'))]),
      ]);
      assert.equal(ok.status, 200);
    });
  });

  it('a PROXY header split over several packets, then a WebSocket upgrade, works', async () => {
    await withNode(proxied, async (t, port) => {
      const me = await register(t, nextPhone()).catch(() => undefined);
      assert.equal(me, undefined, 'plain HTTP without a PROXY header is refused');
      const header = proxyV2('198.51.100.20');
      const split = await rawExchange(
        port,
        [header.subarray(0, 5), header.subarray(5), request('GET', '/healthz')],
        {
          gapMs: 50,
        },
      );
      assert.equal(split.status, 200);
    });
    await withNode(proxied, async (t, port) => {
      const source = '198.51.100.21';
      const { token } = await registerRaw(t, port, source);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`, offeredSubprotocols('json'), {
        headers: { authorization: `Bearer ${token}` },
        createConnection: () => {
          const s = connect(port, '127.0.0.1');
          s.write(proxyV2(source));
          return s;
        },
      });
      const first = await new Promise<string>((res, rej) => {
        ws.once('message', (d) => res(d.toString()));
        ws.once('error', rej);
      });
      assert.match(first, /welcome/);
      ws.close();
    });
  });

  it('proxyProtocol without trustedProxies stops the node at start, naming the setting', async () => {
    const config = loadConfig({ overrides: { proxyProtocol: true } });
    const handlers = { request: async () => {}, upgrade: async () => {} };
    assert.throws(
      () => createEdge(config, pino({ level: 'silent' }), handlers),
      /proxyProtocol.*--trusted-proxies/,
    );
  });

  it('a PROXY header from a peer outside trustedProxies is refused', async () => {
    await withNode({ proxyProtocol: true, trustedProxies: '192.0.2.0/24' }, async (_t, port) => {
      const r = await rawExchange(port, [
        Buffer.concat([proxyV2('203.0.113.1'), Buffer.from(request('GET', '/healthz'))]),
      ]);
      assert.deepEqual([r.status, r.closed], [undefined, true]);
    });
  });

  it('X-Forwarded-For is ignored from an untrusted peer and believed from a trusted one', async () => {
    await withNode(
      { codeRequestsPerIpPerHour: PER_IP_CODES, codeRequestsPerPrefixPerHour: 10_000 },
      async (_t, port) => {
        for (let i = 0; i < PER_IP_CODES; i++) {
          assert.equal((await codeRequest(port, { forwardedFor: `198.51.100.${i + 1}` })).status, 200);
        }
        const r = await codeRequest(port, { forwardedFor: '198.51.100.99' });
        assert.equal(r.status, 429, 'a forged X-Forwarded-For does not buy a fresh bucket');
      },
    );
    await withNode(
      {
        codeRequestsPerIpPerHour: PER_IP_CODES,
        codeRequestsPerPrefixPerHour: 10_000,
        trustedProxies: '127.0.0.0/8',
      },
      async (_t, port) => {
        for (let i = 0; i < PER_IP_CODES; i++) {
          assert.equal((await codeRequest(port, { forwardedFor: '6.6.6.6, 198.51.100.1' })).status, 200);
        }
        assert.equal((await codeRequest(port, { forwardedFor: '198.51.100.1' })).status, 429);
        assert.equal((await codeRequest(port, { forwardedFor: '198.51.100.1, 198.51.100.2' })).status, 200);
      },
    );
  });
});
