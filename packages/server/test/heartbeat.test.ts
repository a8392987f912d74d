/**
 * Heartbeats on real sockets with a short interval (200 ms): live clients stay, dead ones
 * ("ghosts" whose TCP went silent without a FIN) are cut off, and nothing sent to a ghost is
 * lost: it stays pending until a connection of that device acks it.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ChatKind, CloseCodes, offeredSubprotocols } from '@parley/protocol';
import WebSocket from 'ws';
import type { DeviceId } from '../src/ports/types.js';
import { type Creds, RawClient, register, startNode, type TestNode, text, untext } from './harness.js';

const HEARTBEAT_MS = 200;

/** Resolves when `cond` holds, checking every 10 ms; fails after `timeoutMs`. */
async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Makes the client a ghost: its socket stops reading, so it neither sees nor answers pings. */
function ghost(c: RawClient): void {
  (c.ws as unknown as { _socket: Socket })._socket.pause();
}

describe('heartbeats', () => {
  let t: TestNode;
  let alice: Creds;
  let bob: Creds;

  before(async () => {
    t = await startNode({ heartbeatMs: HEARTBEAT_MS });
    alice = await register(t);
    bob = await register(t);
  });
  after(() => t.stop());

  it('keeps a client that answers pings connected across several intervals', async () => {
    const c = await RawClient.connect(t, alice);
    const conn = t.node.hub.get(alice.deviceId as DeviceId);
    let pings = 0;
    c.ws.on('ping', () => pings++);
    await until(() => pings >= 5, 'five pings arrived');
    assert.equal(c.closeCode, undefined);
    assert.equal(t.node.hub.get(alice.deviceId as DeviceId), conn, 'the same connection is still registered');
    const pong = await c.request({ case: 'ping', value: {} });
    assert.equal(pong.body.case, 'pong');
    await c.close();
  });

  it('closes a ghost whose socket went silent within two heartbeat intervals', async () => {
    const c = await RawClient.connect(t, bob);
    assert.ok(t.node.hub.get(bob.deviceId as DeviceId));
    const start = Date.now();
    ghost(c);
    await until(() => t.node.hub.get(bob.deviceId as DeviceId) === undefined, 'the server dropped the ghost');
    const elapsed = Date.now() - start;
    // Two intervals, plus a little for timer jitter.
    assert.ok(elapsed <= 2 * HEARTBEAT_MS + 100, `closed after ${elapsed} ms`);
    // The device can connect again at once; nothing was left to replace.
    const again = await RawClient.connect(t, bob);
    assert.equal(t.node.hub.size, 1);
    await again.request({ case: 'ping', value: {} });
    await again.close();
    c.ws.terminate();
  });

  it('keeps messages sent to a ghost pending and delivers them in order on reconnect', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const { chat } = await a.call<{ chat: { id: string } }>({
      case: 'createChat',
      value: { kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'ghost' },
    });
    await b.waitFor(
      (f) => f.body.case === 'deliver' && f.body.value.messages.some((m) => m.chatId === chat.id),
    );
    ghost(b);
    // Sent while bob's socket was silent: the server pushes them, nobody reads or acks them.
    for (let i = 0; i < 5; i++) {
      const r = await a.request({
        case: 'send',
        value: { chatId: chat.id, clientMessageId: `g${i}`, payload: text(`m${i}`) },
      });
      assert.equal(r.body.case, 'sendResult');
    }
    await until(() => t.node.hub.get(bob.deviceId as DeviceId) === undefined, 'the server dropped the ghost');
    // A message sent after the ghost is gone waits in the store too.
    await a.call({ case: 'send', value: { chatId: chat.id, clientMessageId: 'g5', payload: text('m5') } });
    const b2 = await RawClient.connect(t, bob);
    const got = await b2.waitForMessages(6, chat.id);
    assert.deepEqual(
      got.map((m) => untext(m.body.value as Uint8Array)),
      ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'],
    );
    assert.deepEqual(
      got.map((m) => m.seq),
      [2n, 3n, 4n, 5n, 6n, 7n],
    );
    await b2.close();
    await a.close();
    b.ws.terminate();
  });

  it('closes a client that reads but never answers pings with 4008', async () => {
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/v1/ws`, offeredSubprotocols('json'), {
      headers: { authorization: `Bearer ${alice.token}` },
      autoPong: false,
    });
    const closed = new Promise<number>((res) => ws.on('close', (code) => res(code)));
    await new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    const start = Date.now();
    assert.equal(await closed, CloseCodes.HEARTBEAT_TIMEOUT);
    assert.ok(Date.now() - start <= 2 * HEARTBEAT_MS + 100, `closed after ${Date.now() - start} ms`);
    await until(() => t.node.hub.get(alice.deviceId as DeviceId) === undefined, 'the server dropped it');
  });
});
