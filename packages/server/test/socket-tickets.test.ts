/**
 * Socket tickets over real sockets: POST /v1/socket-tickets (bearer) gives a ticket that opens
 * one WebSocket as /v1/ws?ticket=…; a used, expired, forged or revoked device's ticket gets the
 * same 401 as a bad token. With several nodes (sharing a store, a bus and Redis) a ticket issued
 * on one opens a socket on another, once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { offeredSubprotocols } from '@parley/protocol';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import WebSocket from 'ws';
import { LocalBus, LocalBusNetwork } from '../src/adapters/bus/local/local-bus.js';
import { SqliteStore } from '../src/adapters/store/sqlite/sqlite-store.js';
import { ManualClock } from '../src/ports/clock.js';
import { http, register, sharedByNodes, startNode, type TestNode } from './harness.js';

type Upgrade = { status: 101 } | { status: number; body: unknown };

/** Opens /v1/ws with this query (no Authorization header): 101, or the refusal's status and body. */
function upgrade(url: string, query: string): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/ws?${query}`, offeredSubprotocols('json'));
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101 });
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.once('error', (err) => reject(err));
  });
}

async function ticketFor(url: string, token: string): Promise<string> {
  const r = await http(`${url}/v1/socket-tickets`, 'POST', undefined, token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.ticket as string;
}

const ticketQuery = (ticket: string) => `ticket=${encodeURIComponent(ticket)}`;

describe('socket tickets on one node', () => {
  const clock = new ManualClock(Date.now());
  let t: TestNode;
  let badToken: Upgrade;

  before(async () => {
    t = await startNode({}, { clock });
    badToken = await upgrade(t.url, 'token=not-a-token');
  });
  after(() => t.stop());

  it('a ticket is issued only for a bearer token, and says when it expires', async () => {
    const none = await http(`${t.url}/v1/socket-tickets`, 'POST');
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'UNAUTHENTICATED');
    const alice = await register(t);
    const r = await http(`${t.url}/v1/socket-tickets`, 'POST', undefined, alice.token);
    assert.equal(r.status, 200);
    assert.match(r.body.ticket, /^[A-Za-z0-9_-]{60,}$/);
    assert.equal(r.body.expiresAt, clock.now() + 30_000);
  });

  it('a ticket opens one socket; its reuse gets the same 401 as a bad token', async () => {
    assert.equal(badToken.status, 401);
    const alice = await register(t);
    const ticket = await ticketFor(t.url, alice.token);
    assert.deepEqual(await upgrade(t.url, ticketQuery(ticket)), { status: 101 });
    assert.deepEqual(await upgrade(t.url, ticketQuery(ticket)), badToken);
  });

  it('an expired, unknown or forged ticket gets the same 401 as a bad token', async () => {
    const alice = await register(t);
    const early = await ticketFor(t.url, alice.token);
    const late = await ticketFor(t.url, alice.token);
    const other = await ticketFor(t.url, alice.token);
    clock.advance(29_999);
    assert.deepEqual(await upgrade(t.url, ticketQuery(early)), { status: 101 });
    clock.advance(1);
    assert.deepEqual(await upgrade(t.url, ticketQuery(late)), badToken);
    const forged = Buffer.from(other, 'base64url');
    forged[20]! ^= 0xff;
    for (const bad of ['', 'AAAA', forged.toString('base64url'), 'x'.repeat(5000)])
      assert.deepEqual(await upgrade(t.url, ticketQuery(bad)), badToken);
  });

  it('a ticket of a device removed since it was issued opens nothing', async () => {
    const alice = await register(t);
    const ticket = await ticketFor(t.url, alice.token);
    const r = await http(`${t.url}/v1/devices/${alice.deviceId}`, 'DELETE', undefined, alice.token);
    assert.equal(r.status, 204);
    assert.deepEqual(await upgrade(t.url, ticketQuery(ticket)), badToken);
  });

  it('tickets are rate-limited per device (30 a minute)', async () => {
    const [alice, bob] = [await register(t), await register(t)];
    for (let i = 0; i < 30; i++) await ticketFor(t.url, alice.token);
    const r = await http(`${t.url}/v1/socket-tickets`, 'POST', undefined, alice.token);
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'RATE_LIMITED');
    assert.ok(r.body.error.retryAfterMs > 0);
    await ticketFor(t.url, bob.token);
  });
});

describe('socket tickets in the log', () => {
  it('no ticket reaches the log, at trace level, whether it is used, reused or forged', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
    const t = await startNode({ logLevel: 'trace' }, { log });
    try {
      const alice = await register(t);
      const ticket = await ticketFor(t.url, alice.token);
      assert.equal((await upgrade(t.url, ticketQuery(ticket))).status, 101);
      assert.equal((await upgrade(t.url, ticketQuery(ticket))).status, 401);
      const forged = `${ticket.slice(0, -4)}AAAA`;
      assert.equal((await upgrade(t.url, ticketQuery(forged))).status, 401);
      await t.node.stop();
      assert.ok(lines.length > 0, 'the node logged something');
      const all = lines.join('');
      for (const secret of [ticket, forged, ticket.slice(10, 50), alice.token])
        assert.ok(!all.includes(secret), 'a ticket or token is in the log');
    } finally {
      await t.stop();
    }
  });
});

const redisUrl = process.env.PARLEY_TEST_REDIS_URL;
if (!redisUrl) console.log('# skipping socket tickets across nodes: PARLEY_TEST_REDIS_URL is not set');

describe('socket tickets across nodes sharing a store, a bus and Redis', {
  skip: redisUrl ? false : 'PARLEY_TEST_REDIS_URL is not set',
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-tickets-'));
  const shared = new SqliteStore({ path: join(dir, 'parley.db'), synchronous: 'FULL' });
  // Each node's stop leaves the shared store open; it is closed once, at the end.
  const store = sharedByNodes(shared);
  const network = new LocalBusNetwork();
  const nodes: TestNode[] = [];
  const clients: Redis[] = [];

  before(async () => {
    for (const id of ['n1', 'n2']) {
      const redis = new Redis(redisUrl!);
      clients.push(redis);
      nodes.push(
        await startNode(
          { dataDir: mkdtempSync(join(dir, `${id}-`)), serverSecret: 'ticket-test-secret-0123456789abcdef' },
          { store, bus: new LocalBus({ nodeId: id, network }), limiterRedis: redis },
        ),
      );
    }
  });
  after(async () => {
    for (const n of nodes) await n.node.stop();
    for (const c of clients) c.disconnect();
    await shared.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a ticket issued on node 1 opens a socket on node 2, and then on neither', async () => {
    const [n1, n2] = [nodes[0]!, nodes[1]!];
    const alice = await register(n1);
    const ticket = await ticketFor(n1.url, alice.token);
    assert.deepEqual(await upgrade(n2.url, ticketQuery(ticket)), { status: 101 });
    for (const n of [n1, n2]) {
      const r = await upgrade(n.url, ticketQuery(ticket));
      assert.equal(r.status, 401);
      assert.equal((r as { body: { error: { code: string } } }).body.error.code, 'UNAUTHENTICATED');
    }
  });

  it('two nodes racing to use one ticket: exactly one socket opens', async () => {
    const [n1, n2] = [nodes[0]!, nodes[1]!];
    const alice = await register(n1);
    for (let round = 0; round < 5; round++) {
      const ticket = await ticketFor(n2.url, alice.token);
      const answers = await Promise.all([
        upgrade(n1.url, ticketQuery(ticket)),
        upgrade(n2.url, ticketQuery(ticket)),
        upgrade(n1.url, ticketQuery(ticket)),
      ]);
      assert.equal(answers.filter((a) => a.status === 101).length, 1, JSON.stringify(answers));
    }
  });
});
