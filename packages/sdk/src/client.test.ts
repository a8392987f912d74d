import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatKind, type Frame, type FrameInit } from '@parley/protocol';
import { ParleyClient } from './client.js';
import { MemoryLocalStore } from './local-store.js';
import type { ClientOptions } from './options.js';
import { FakeServer } from './testing/fake-server.js';
import type { DisconnectInfo, ReceivedMessage } from './types.js';

const credentials = {
  serverUrl: 'http://node.test:8080',
  userId: 'u1',
  deviceId: 'd1',
  token: 'tok',
  primary: true,
};
const text = (s: string) => new TextEncoder().encode(s);

function setup(options: Partial<ClientOptions> = {}) {
  const server = new FakeServer();
  const client = new ParleyClient({
    credentials,
    webSocketFactory: server.factory,
    backoff: { initialMs: 1, maxMs: 5 },
    ...options,
  });
  const disconnects: DisconnectInfo[] = [];
  client.on('disconnected', (d) => {
    disconnects.push(d);
  });
  return { server, client, disconnects };
}

function sendResultFor(frame: Frame, seq: number): FrameInit['body'] {
  if (frame.body.case !== 'send') return undefined;
  const { clientMessageId, chatId } = frame.body.value;
  return { case: 'sendResult', value: { clientMessageId, chatId, seq: BigInt(seq), serverTime: 1000n } };
}

function payloadMessage(chatId: string, seq: number, body = `m${seq}`) {
  return {
    chatId,
    seq: BigInt(seq),
    senderUserId: 'u2',
    body: { case: 'payload' as const, value: text(body) },
  };
}

test('connect opens /v1/ws with the subprotocol and token, and resolves on the welcome', async () => {
  const { server, client } = setup();
  const welcome = await client.connect();
  const conn = server.connections[0]!;
  assert.equal(conn.request.url, 'ws://node.test:8080/v1/ws');
  assert.deepEqual(conn.request.protocols, ['parley.v1.proto']);
  assert.equal(conn.request.token, 'tok');
  assert.equal(welcome.deviceId, 'd1');
  assert.equal(client.connected, true);
  await client.close();
});

test('requests are answered by id; results come back as plain objects', async () => {
  const { server, client } = setup();
  await client.connect();
  const conn = server.connections[0]!;
  conn.responder = (f) =>
    f.body.case === 'createChat'
      ? { case: 'chatResult', value: { chat: { id: 'c1', kind: ChatKind.DIRECT, lastSeq: 1n, members: [] } } }
      : f.body.case === 'ping'
        ? { case: 'pong', value: { serverTime: 42n } }
        : undefined;
  const [chat, time] = await Promise.all([
    client.createChat({ kind: ChatKind.DIRECT, memberUserIds: ['u2'] }),
    client.ping(),
  ]);
  assert.deepEqual(chat, {
    id: 'c1',
    kind: ChatKind.DIRECT,
    name: '',
    description: '',
    createdAt: 0,
    lastSeq: 1,
    members: [],
  });
  assert.equal(time, 42);
  const ids = conn.frames.map((f) => f.id);
  assert.equal(new Set(ids).size, 2);
  assert.ok(ids.every((id) => id > 0));
  await client.close();
});

test('an error answer rejects with its ParleyError; DEVICE_MISMATCH carries the device sets', async () => {
  const { server, client } = setup();
  await client.connect();
  server.connections[0]!.responder = () => ({
    case: 'error',
    value: { code: 'DEVICE_MISMATCH', message: 'stale devices', deviceMismatch: { extraDeviceIds: ['dx'] } },
  });
  await assert.rejects(
    client.send('c1', [{ deviceId: 'dx', payload: text('hi') }]),
    (err: Error & { code?: string; details?: Record<string, { extraDeviceIds: string[] }> }) => {
      assert.equal(err.code, 'DEVICE_MISMATCH');
      assert.deepEqual(err.details?.deviceMismatch?.extraDeviceIds, ['dx']);
      return true;
    },
  );
  assert.equal(client.pendingSends, 0);
  await client.close();
});

test('sends issued before connecting wait in the outbox and go out in order', async () => {
  const { server, client } = setup();
  const results = [client.send('c1', text('a')), client.send('c1', text('b'), { clientMessageId: 'my-id' })];
  await client.connect();
  const conn = server.connections[0]!;
  const first = await conn.nextFrame();
  const second = await conn.nextFrame();
  assert.equal(first.body.case === 'send' && new TextDecoder().decode(first.body.value.payload), 'a');
  assert.equal(second.body.case === 'send' && second.body.value.clientMessageId, 'my-id');
  conn.push({ id: second.id, body: sendResultFor(second, 2) });
  conn.push({ id: first.id, body: sendResultFor(first, 1) });
  const [a, b] = await Promise.all(results);
  assert.equal(a?.seq, 1);
  assert.deepEqual(b, { clientMessageId: 'my-id', chatId: 'c1', seq: 2, serverTime: 1000 });
  assert.equal(client.stats.sent, 2);
  await client.close();
});

test('unanswered sends are re-sent in order with the same clientMessageId after a reconnect', async () => {
  const { server, client, disconnects } = setup();
  await client.connect();
  const first = server.connections[0]!;
  const pending = [client.send('c1', text('1')), client.send('c1', text('2'))];
  const sentIds = [(await first.nextFrame()).body, (await first.nextFrame()).body].map((b) =>
    b.case === 'send' ? b.value.clientMessageId : '',
  );
  first.drop(1006);
  const later = client.send('c1', text('3')); // issued while disconnected
  const second = await server.connection(1);
  second.responder = (f) => sendResultFor(f, f.id + 100);
  const results = await Promise.all([...pending, later]);
  const resent = second.frames.map((f) => (f.body.case === 'send' ? f.body.value.clientMessageId : ''));
  assert.deepEqual(resent.slice(0, 2), sentIds);
  assert.deepEqual(
    results.map((r) => r.clientMessageId),
    resent,
  );
  assert.deepEqual(disconnects, [{ code: 1006, reason: '', willReconnect: true }]);
  await client.close();
});

test('other requests in flight fail with UNAVAILABLE when the socket drops', async () => {
  const { server, client } = setup();
  await client.connect();
  const chats = client.listChats();
  await server.connections[0]!.nextFrame();
  server.connections[0]!.drop(1001, 'restart');
  await assert.rejects(chats, { code: 'UNAVAILABLE' });
  await assert.rejects(client.listChats(), { code: 'UNAVAILABLE', message: 'not connected' });
  await client.connect();
  await client.close();
});

for (const [code, name] of [
  [4001, 'REPLACED'],
  [4003, 'REVOKED'],
] as const) {
  test(`after close code ${code} (${name}) the client stops: no reconnect, pending sends fail`, async () => {
    const { server, client, disconnects } = setup();
    await client.connect();
    const send = client.send('c1', text('x'));
    await server.connections[0]!.nextFrame();
    server.connections[0]!.drop(code, name);
    await assert.rejects(send, { code: 'UNAUTHENTICATED' });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(server.connections.length, 1);
    assert.equal(disconnects.length, 1);
    assert.equal(disconnects[0]!.willReconnect, false);
    assert.ok(disconnects[0]!.error);
    await assert.rejects(client.connect(), { code: 'UNAUTHENTICATED' });
  });
}

test('a refused handshake stops for UNAUTHENTICATED but is retried for RATE_LIMITED', async () => {
  const { ParleyError } = await import('@parley/protocol');
  const a = setup();
  a.server.onConnect = (c) => c.drop(1006, '', new ParleyError('UNAUTHENTICATED', 'bad token'));
  await assert.rejects(a.client.connect(), { code: 'UNAUTHENTICATED' });
  const b = setup();
  let attempts = 0;
  b.server.onConnect = (c) => {
    if (attempts++ === 0) c.drop(1006, '', new ParleyError('RATE_LIMITED', 'slow', { retryAfterMs: 5 }));
    else void c.accept();
  };
  await b.client.connect();
  assert.equal(attempts, 2);
  assert.equal(b.disconnects[0]?.willReconnect, true);
  await b.client.close();
});

test('deliveries are emitted once, cursors persisted, and acked per frame on the same socket', async () => {
  const store = new MemoryLocalStore();
  const { server, client } = setup({ store });
  const got: ReceivedMessage[] = [];
  client.on('message', (m) => {
    got.push(m);
  });
  await client.connect();
  const conn = server.connections[0]!;
  conn.push({
    id: 0,
    body: { case: 'deliver', value: { messages: [payloadMessage('c1', 1), payloadMessage('c1', 2)] } },
  });
  const ack1 = await conn.nextFrame();
  assert.equal(ack1.id, 0);
  assert.equal(ack1.body.case, 'ack');
  assert.deepEqual(ack1.body.case === 'ack' && ack1.body.value.cursors.map((c) => [c.chatId, c.seq]), [
    ['c1', 2n],
  ]);
  // A redelivery (as after a reconnect) is deduped but still acked.
  conn.push({
    id: 0,
    body: { case: 'deliver', value: { messages: [payloadMessage('c1', 2), payloadMessage('c1', 3)] } },
  });
  const ack2 = await conn.nextFrame();
  assert.deepEqual(ack2.body.case === 'ack' && ack2.body.value.cursors.map((c) => c.seq), [3n]);
  assert.deepEqual(
    got.map((m) => [m.seq, new TextDecoder().decode(m.payload)]),
    [
      [1, 'm1'],
      [2, 'm2'],
      [3, 'm3'],
    ],
  );
  assert.equal(await store.getCursor('c1'), 3);
  assert.deepEqual(client.stats, { received: 3, duplicates: 1, sent: 0, acked: 4 });
  await client.close();
});

test('an ack is dropped when its socket closed before the messages were handled', async () => {
  const { server, client } = setup();
  let release: () => void = () => {};
  client.on(
    'message',
    () =>
      new Promise<void>((r) => {
        release = r;
      }),
  );
  await client.connect();
  const first = server.connections[0]!;
  first.push({ id: 0, body: { case: 'deliver', value: { messages: [payloadMessage('c1', 1)] } } });
  await new Promise((r) => setTimeout(r, 10));
  first.drop(1006);
  const second = await server.connection(1);
  await client.connect();
  release();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(first.frames, []);
  assert.deepEqual(second.frames, []);
  await client.close();
});

test('with receive: false deliveries are neither emitted nor acked', async () => {
  const { server, client } = setup({ receive: false });
  let emitted = 0;
  client.on('message', () => {
    emitted++;
  });
  await client.connect();
  server.connections[0]!.push({
    id: 0,
    body: { case: 'deliver', value: { messages: [payloadMessage('c1', 1)] } },
  });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(emitted, 0);
  assert.deepEqual(server.connections[0]!.frames, []);
  await client.close();
});

test('a request without an answer in time drops the socket; sends survive it', async () => {
  const { server, client } = setup({ requestTimeoutMs: 20 });
  await client.connect();
  const send = client.send('c1', text('x'));
  const first = await server.connections[0]!.nextFrame();
  const second = await server.connection(1);
  const resent = await second.nextFrame();
  assert.deepEqual(resent.body, first.body);
  second.push({ id: resent.id, body: sendResultFor(resent, 9) });
  assert.equal((await send).seq, 9);
  await client.close();
});

test('the JSON encoding offers parley.v1.json and works end to end', async () => {
  const { server, client } = setup({ encoding: 'json' });
  await client.connect();
  assert.deepEqual(server.connections[0]!.request.protocols, ['parley.v1.json']);
  server.connections[0]!.responder = (f) => sendResultFor(f, 5);
  assert.equal((await client.send('c1', text('hi'))).seq, 5);
  await client.close();
});

test('close() stops reconnecting and fails sends still waiting', async () => {
  const { server, client, disconnects } = setup();
  await client.connect();
  const send = client.send('c1', text('x'));
  await client.close();
  await assert.rejects(send, { code: 'UNAVAILABLE' });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.connections.length, 1);
  assert.deepEqual(
    disconnects.map((d) => d.willReconnect),
    [false],
  );
  assert.equal(disconnects[0]!.error, undefined);
  await assert.rejects(client.send('c1', text('y')), { code: 'UNAVAILABLE' });
});

test('discover sends only hashes and maps matches back to phone numbers', async () => {
  const { server, client } = setup();
  await client.connect();
  server.connections[0]!.responder = (f) =>
    f.body.case === 'discover'
      ? {
          case: 'discoverResult',
          value: { matches: [{ phoneHash: f.body.value.phoneHashes[1]!, userId: 'u9' }] },
        }
      : undefined;
  const matches = await client.discover(['+15550000001', '+1 555 000 0002']);
  assert.deepEqual(matches, [{ phone: '+15550000002', userId: 'u9' }]);
  const frame = server.connections[0]!.frames[0]!;
  assert.equal(frame.body.case === 'discover' && frame.body.value.phoneHashes[0]!.length, 32);
  await client.close();
});

test('a send answered SHUTTING_DOWN stays in the outbox and is re-sent on the next socket', async () => {
  const { server, client } = setup();
  await client.connect();
  server.connections[0]!.responder = () => ({
    case: 'error',
    value: { code: 'SHUTTING_DOWN', message: 'restarting', retryAfterMs: 1 },
  });
  const send = client.send('c1', text('x'), { clientMessageId: 'keep-me' });
  const second = await server.connection(1);
  second.responder = (f) => sendResultFor(f, 3);
  assert.deepEqual(await send, { clientMessageId: 'keep-me', chatId: 'c1', seq: 3, serverTime: 1000 });
  await client.close();
});

test('empty or oversized payloads are refused before sending', async () => {
  const { client } = setup();
  client.welcome = undefined;
  await assert.rejects(client.send('c1', new Uint8Array()), { code: 'INVALID_ARGUMENT' });
  await client.connect();
  client.welcome = { ...client.welcome!, maxPayloadBytes: 4 };
  await assert.rejects(client.send('c1', text('12345')), { code: 'PAYLOAD_TOO_LARGE' });
  await assert.rejects(client.send('c1', text('x'), { clientMessageId: 'é' }), { code: 'INVALID_ARGUMENT' });
  await client.close();
});
