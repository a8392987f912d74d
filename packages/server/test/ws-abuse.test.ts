/**
 * What one WebSocket client can cost the node, on real sockets against a real node: a client
 * that stops reading is closed (4009 when its answers pass the hard send-buffer limit, 4008
 * when it does not answer pings, however much it sends), requests in flight are capped by
 * backpressure, no `deliver` frame is ever empty, and a throw anywhere in a connection's
 * handling stays in that connection.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  CloseCodes,
  decodeFrame,
  type Encoding,
  encodeFrame,
  type Frame,
  type FrameInit,
  makeFrame,
  offeredSubprotocols,
} from '@parley/protocol';
import { pino } from 'pino';
import WebSocket from 'ws';
import type { GatewayDeps } from '../src/gateway/ws.js';
import type { DeviceId } from '../src/ports/types.js';
import {
  type Creds,
  createGroup,
  linkDevice,
  RawClient,
  register,
  startNode,
  type TestNode,
  text,
} from './harness.js';
import { closeWatched, newUser, watch } from './sdk-helpers.js';

/** Resolves when `cond` holds, checking every 5 ms; fails after `timeoutMs`. */
async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The server side of a device's connection, with the fields these tests read or patch. */
interface ServerConn {
  closedWith: number | undefined;
  bufferedAmount: number;
  requestsInFlight: number;
  d: GatewayDeps;
}
const serverConn = (t: TestNode, c: Creds) =>
  t.node.hub.get(c.deviceId as DeviceId) as unknown as ServerConn | undefined;

/** A raw `ws` client (no RawClient bookkeeping): every frame it receives, decoded. */
async function rawSocket(t: TestNode, creds: Creds, encoding: Encoding) {
  const ws = new WebSocket(`${t.url.replace('http', 'ws')}/v1/ws`, offeredSubprotocols(encoding), {
    headers: { authorization: `Bearer ${creds.token}` },
  });
  const frames: Frame[] = [];
  ws.on('message', (data, isBinary) =>
    frames.push(decodeFrame(isBinary ? (data as Buffer) : data.toString(), encoding)),
  );
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  const send = (id: number, body: FrameInit['body']) =>
    ws.send(encodeFrame(makeFrame({ id, body }), encoding), { binary: encoding === 'proto' });
  return { ws, frames, send };
}

/** Stops the client reading: it neither sees frames nor answers pings; its writes still go out. */
const stopReading = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket.pause();

describe('a client that does not read', () => {
  const SEND_BUFFER = 16 * 1024;
  const HARD_LIMIT = 64 * 1024;
  let t: TestNode;
  let alice: Creds;
  let alice2: Creds;
  let chatId: string;
  let replyBytes = 0;

  before(async () => {
    // A long heartbeat: only the send-buffer limit can close these connections.
    t = await startNode({
      heartbeatMs: 60_000,
      sendBufferBytes: SEND_BUFFER,
      sendBufferMaxBytes: HARD_LIMIT,
    });
    alice = await register(t);
    alice2 = await linkDevice(t, alice);
    const carol = await register(t);
    const a = await RawClient.connect(t, alice);
    chatId = await createGroup(a, [carol.userId]);
    for (let i = 0; i < 30; i++) {
      await a.call({
        case: 'send',
        value: { chatId, clientMessageId: `big-${i}`, payload: new Uint8Array(8 * 1024).fill(i) },
      });
    }
    const page = await a.request({ case: 'history', value: { chatId, limit: 100 } });
    replyBytes = encodeFrame(page, 'json').length;
    await a.close();
  });
  after(() => t.stop());

  it('is closed with 4009 when its answers pass the hard limit, which they pass by at most one turn', async (ctx) => {
    const c = await rawSocket(t, alice2, 'json');
    const start = Date.now();
    const conn = serverConn(t, alice2)!;
    stopReading(c.ws);
    let peak = 0;
    const watch = setInterval(() => {
      peak = Math.max(peak, conn.bufferedAmount);
    }, 1);
    let id = 1;
    // 50 large history answers a second, as the attack that grew a node to 2 GB did.
    const flood = setInterval(() => c.send(id++, { case: 'history', value: { chatId, limit: 100 } }), 20);
    try {
      await until(() => conn.closedWith !== undefined, 'the node closed the connection', 30_000);
    } finally {
      clearInterval(flood);
      clearInterval(watch);
    }
    ctx.diagnostic(`closed after ${Date.now() - start} ms and ${id - 1} requests; peak ${peak} bytes`);
    assert.equal(conn.closedWith, CloseCodes.SLOW_CONSUMER);
    assert.ok(peak > HARD_LIMIT, `the limit was reached (peak ${peak})`);
    // The check runs before each write, on what earlier turns left: the buffer passes the
    // limit by at most the answers of one turn (one here, two if the store answered two at once).
    assert.ok(
      peak <= HARD_LIMIT + 2 * replyBytes + 1024,
      `buffered ${peak} bytes; the limit is ${HARD_LIMIT}, one answer is ${replyBytes} bytes`,
    );
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(metrics, /^parley_ws_server_closes_total\{code="4009"\} 1$/m);
    // A peer that does not read cannot finish the close handshake: it is cut off.
    await until(() => t.node.hub.get(alice2.deviceId as DeviceId) === undefined, 'the node dropped it');
    c.ws.terminate();
    // The device reconnects and is served.
    const again = await RawClient.connect(t, alice2);
    assert.equal((await again.request({ case: 'ping', value: {} })).body.case, 'pong');
    await again.close();
  });

  it('holds requests above the in-flight cap unread and answers them all in time', async () => {
    const t2 = await startNode({ maxInflightRequests: 4 });
    try {
      const bob = await register(t2);
      const c = await rawSocket(t2, bob, 'proto');
      const conn = serverConn(t2, bob)!;
      let peak = 0;
      let watching = true;
      const watch = () => {
        peak = Math.max(peak, conn.requestsInFlight);
        if (watching) setImmediate(watch);
      };
      watch();
      // 300 requests in one burst: without the cap all would be in the store at once.
      for (let id = 1; id <= 300; id++) c.send(id, { case: 'listChats', value: {} });
      await until(() => c.frames.filter((f) => f.id !== 0).length === 300, 'all 300 were answered');
      watching = false;
      assert.ok(c.frames.filter((f) => f.id !== 0).every((f) => f.body.case === 'chatList'));
      assert.ok(peak <= 4, `at most 4 requests in flight (saw ${peak})`);
      assert.ok(peak >= 1);
      c.ws.close();
    } finally {
      await t2.stop();
    }
  });
});

describe('heartbeats need the client to read', () => {
  const HEARTBEAT_MS = 200;
  let t: TestNode;
  let alice: Creds;

  before(async () => {
    t = await startNode({ heartbeatMs: HEARTBEAT_MS });
    alice = await register(t);
  });
  after(() => t.stop());

  it('closes a client that keeps sending but never reads (no pongs) with 4008', async () => {
    const c = await rawSocket(t, alice, 'json');
    const conn = serverConn(t, alice)!;
    stopReading(c.ws);
    const start = Date.now();
    let id = 1;
    const chatter = setInterval(() => c.send(id++, { case: 'ping', value: {} }), 20);
    try {
      await until(() => conn.closedWith !== undefined, 'the node closed the connection');
    } finally {
      clearInterval(chatter);
    }
    assert.equal(conn.closedWith, CloseCodes.HEARTBEAT_TIMEOUT);
    const elapsed = Date.now() - start;
    assert.ok(elapsed <= 3 * HEARTBEAT_MS + 500, `closed after ${elapsed} ms`);
    assert.ok(id > 5, 'the client was sending all along');
    await until(() => t.node.hub.get(alice.deviceId as DeviceId) === undefined, 'the node dropped it');
    c.ws.terminate();
  });

  it('keeps an idle SDK client connected: its ws transport answers pings', async () => {
    const user = await newUser(t);
    const w = watch(user);
    try {
      await w.client.connect();
      const conn = serverConn(t, user);
      assert.ok(conn);
      // Ten intervals without a request: only pongs keep it alive.
      await new Promise((r) => setTimeout(r, 10 * HEARTBEAT_MS));
      assert.equal(conn.closedWith, undefined);
      assert.deepEqual(w.disconnects, []);
      assert.equal(serverConn(t, user), conn, 'the same connection is still registered');
    } finally {
      await closeWatched();
    }
  });

  for (const encoding of ['json', 'proto'] as const) {
    it(`closes a ${encoding} client that sends nothing, reads nothing and never answers pings`, async () => {
      const c = await rawSocket(t, alice, encoding);
      const conn = serverConn(t, alice)!;
      stopReading(c.ws);
      const start = Date.now();
      await until(() => conn.closedWith !== undefined, 'the node closed the connection');
      assert.equal(conn.closedWith, CloseCodes.HEARTBEAT_TIMEOUT);
      const elapsed = Date.now() - start;
      assert.ok(elapsed <= 2 * HEARTBEAT_MS + 400, `closed after ${elapsed} ms`);
      await until(() => t.node.hub.get(alice.deviceId as DeviceId) === undefined, 'the node dropped it');
      c.ws.terminate();
    });
  }
});

describe('frames from the node', () => {
  let t: TestNode;

  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  for (const encoding of ['json', 'proto'] as const) {
    it(`a fresh ${encoding} device gets welcome and no empty deliver`, async () => {
      const fresh = await register(t);
      const c = await rawSocket(t, fresh, encoding);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(c.frames[0]?.body.case, 'welcome');
      const delivers = c.frames.filter((f) => f.body.case === 'deliver');
      assert.deepEqual(delivers, [], 'nothing is pending, so nothing is delivered');
      c.ws.close();
    });

    it(`a ${encoding} backlog ends with a non-empty page marked backlog false`, async () => {
      const alice = await register(t);
      const bob = await register(t);
      const a = await RawClient.connect(t, alice);
      const chatId = await createGroup(a, [bob.userId]);
      for (let i = 0; i < 5; i++) {
        await a.call({ case: 'send', value: { chatId, clientMessageId: `m${i}`, payload: text(`m${i}`) } });
      }
      const b = await rawSocket(t, bob, encoding);
      await until(
        () => c(b.frames).reduce((n, d) => n + d.messages.length, 0) === 6,
        'the creation and five messages arrived',
      );
      await new Promise((r) => setTimeout(r, 300));
      const pages = c(b.frames);
      assert.ok(
        pages.every((d) => d.messages.length > 0),
        'no deliver frame is empty',
      );
      assert.equal(pages.at(-1)!.backlog, false);
      b.ws.close();
      await a.close();
    });
  }

  const c = (frames: Frame[]) => frames.flatMap((f) => (f.body.case === 'deliver' ? [f.body.value] : []));

  it('an error quoting a key with a lone surrogate still decodes, and is cut short', async () => {
    const alice = await register(t);
    for (const encoding of ['json', 'proto'] as const) {
      const c = await rawSocket(t, alice, encoding);
      // An unknown JSON key is quoted in the BAD_FRAME message.
      const bad = `{"id":1,"\ud800${'k'.repeat(2000)}":1}`;
      c.ws.send(encoding === 'json' ? bad : Buffer.from('\x52\x03\xff\xff\xff', 'latin1'), {
        binary: encoding === 'proto',
      });
      await until(() => c.frames.some((f) => f.body.case === 'error'), 'the error answer arrived');
      const err = c.frames.find((f) => f.body.case === 'error')!.body.value as {
        code: string;
        message: string;
      };
      assert.equal(err.code, 'BAD_FRAME');
      assert.ok(err.message.length <= 301, `message of ${err.message.length} characters`);
      c.ws.close();
    }
  });
});

describe('one error boundary per connection', () => {
  const errors: Array<{ msg: string }> = [];
  let t: TestNode;
  let alice: Creds;
  let bob: Creds;

  before(async () => {
    const log = pino({ level: 'error' }, { write: (line: string) => errors.push(JSON.parse(line)) });
    t = await startNode({}, { log });
    alice = await register(t);
    bob = await register(t);
  });
  after(() => t.stop());

  /** Replaces some of one connection's dependencies (fault injection on a real connection). */
  function patch(c: Creds, deps: Partial<GatewayDeps>): () => void {
    const conn = serverConn(t, c)!;
    const orig = conn.d;
    conn.d = { ...orig, ...deps };
    return () => {
      conn.d = orig;
    };
  }

  it('a synchronous throw in dispatch answers that request with INTERNAL, logged once', async () => {
    const c = await RawClient.connect(t, alice);
    const before = errors.length;
    const restore = patch(alice, {
      dispatch: Object.assign(
        () => {
          throw new Error('handler failed before returning a promise');
        },
        {
          ack: () => {
            throw new Error('ack handler failed');
          },
        },
      ),
    });
    const f = await c.request({ case: 'ping', value: {} });
    // An ack is answered in the same turn, by its own handler: a throw there is INTERNAL too.
    const a = await c.request({ case: 'ack', value: { cursors: [{ chatId: 'c1', seq: 1n }] } });
    restore();
    assert.equal(f.body.case === 'error' && f.body.value.code, 'INTERNAL');
    assert.equal(a.body.case === 'error' && a.body.value.code, 'INTERNAL');
    assert.equal(errors.length - before, 2);
    assert.equal((await c.request({ case: 'ping', value: {} })).body.case, 'pong');
    await c.close();
  });

  it('an answer that cannot be encoded becomes INTERNAL for that request', async () => {
    for (const encoding of ['json', 'proto'] as const) {
      const c = await RawClient.connect(t, alice, { encoding });
      const before = errors.length;
      const restore = patch(alice, {
        dispatch: Object.assign(
          async () => ({ case: 'pong', value: { serverTime: {} as bigint } }) as const,
          {
            ack: serverConn(t, alice)!.d.dispatch.ack,
          },
        ),
      });
      const f = await c.request({ case: 'ping', value: {} });
      restore();
      assert.equal(f.body.case === 'error' && f.body.value.code, 'INTERNAL', encoding);
      assert.equal(errors.length - before, 1);
      assert.equal((await c.request({ case: 'ping', value: {} })).body.case, 'pong');
      await c.close();
    }
  });

  it('a throw while reading a frame closes that connection with 1011, logged once', async () => {
    const c = await RawClient.connect(t, alice);
    const other = await RawClient.connect(t, bob);
    const conn = serverConn(t, alice)!;
    const before = errors.length;
    const metrics = conn.d.metrics;
    patch(alice, {
      metrics: {
        ...metrics,
        frameIn: {
          inc: () => {
            throw new Error('metrics failed');
          },
        },
      } as unknown as GatewayDeps['metrics'],
    });
    c.sendFrame({ id: 1, body: { case: 'ping', value: {} } });
    c.sendFrame({ id: 2, body: { case: 'ping', value: {} } });
    assert.equal(await c.closed, CloseCodes.INTERNAL_ERROR);
    assert.equal(conn.closedWith, CloseCodes.INTERNAL_ERROR);
    assert.equal(errors.length - before, 1);
    // The node and its other connections go on.
    assert.equal((await other.request({ case: 'ping', value: {} })).body.case, 'pong');
    await other.close();
  });

  it('a deliver frame that cannot be encoded closes that connection; the message waits in the store', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await createGroup(a, [bob.userId]);
    const b = await RawClient.connect(t, bob);
    await b.waitFor((f) => f.body.case === 'deliver');
    const before = errors.length;
    patch(bob, {
      encodeDeliver: () => {
        throw new Error('encoder failed');
      },
    });
    // A per-device payload is encoded for each device, by its connection.
    await a.call({
      case: 'send',
      value: {
        chatId,
        clientMessageId: 'x',
        devicePayloads: [{ deviceId: bob.deviceId, payload: text('kept') }],
      },
    });
    assert.equal(await b.closed, CloseCodes.INTERNAL_ERROR);
    assert.equal(errors.length - before, 1);
    const b2 = await RawClient.connect(t, bob);
    const got = await b2.waitForMessages(1, chatId);
    assert.equal(got[0]!.clientMessageId, 'x');
    await Promise.all([a.close(), b2.close()]);
  });

  it('a throw in the close handler is logged and the connection still leaves the node', async () => {
    const c = await RawClient.connect(t, alice);
    const conn = serverConn(t, alice)!;
    const before = errors.length;
    patch(alice, {
      presence: {
        ...conn.d.presence,
        connectionClosed: () => {
          throw new Error('presence failed');
        },
      } as unknown as GatewayDeps['presence'],
    });
    await c.close();
    await until(
      () => t.node.hub.get(alice.deviceId as DeviceId) === undefined,
      'the connection left the hub',
    );
    await until(() => errors.length - before === 1, 'the failure was logged');
    const again = await RawClient.connect(t, alice);
    assert.equal((await again.request({ case: 'ping', value: {} })).body.case, 'pong');
    await again.close();
  });
});
