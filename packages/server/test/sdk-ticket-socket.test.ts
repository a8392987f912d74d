/**
 * The SDK's browser transport, ticketWebSocketFactory, against a real node: the global
 * WebSocket is the `ws` package's (Node 20 has none), wrapped only to record the URLs it opens.
 * Each connect asks for a new ticket and never puts the token in a URL; a device whose token
 * was revoked stops at the ticket request instead of retrying; a close before the ticket came
 * back opens no socket.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Credentials, ParleyClient, ticketWebSocketFactory } from '@parley/sdk';
import WebSocket from 'ws';
import { http, register, startNode, type TestNode } from './harness.js';

const opened: string[] = [];
class RecordingWebSocket extends WebSocket {
  constructor(url: string, protocols: string[]) {
    opened.push(url);
    super(url, protocols);
  }
}

describe('ticketWebSocketFactory', () => {
  let t: TestNode;
  const g = globalThis as { WebSocket?: unknown };
  const before_ = g.WebSocket;
  before(async () => {
    g.WebSocket = RecordingWebSocket;
    t = await startNode();
  });
  after(async () => {
    g.WebSocket = before_;
    await t.stop();
  });

  const clientFor = async () => {
    const r = await register(t);
    const credentials: Credentials = { serverUrl: t.url, ...r, primary: true };
    const client = new ParleyClient({
      credentials,
      webSocketFactory: ticketWebSocketFactory(t.url),
      backoff: { initialMs: 10, maxMs: 50 },
    });
    return { client, credentials };
  };

  it('connects with a new ticket each time, never with the token', async () => {
    const { client, credentials } = await clientFor();
    opened.length = 0;
    await client.connect();
    assert.deepEqual(await client.listChats(), []);
    await client.close();
    const again = new ParleyClient({ credentials, webSocketFactory: ticketWebSocketFactory(t.url) });
    await again.connect();
    await again.close();
    assert.equal(opened.length, 2);
    const tickets = opened.map((u) => new URL(u).searchParams.get('ticket'));
    assert.ok(tickets.every((x) => x && x.length > 60));
    assert.notEqual(tickets[0], tickets[1]);
    assert.ok(opened.every((u) => !u.includes(credentials.token) && !u.includes('token=')));
  });

  it('a revoked device stops at the ticket request with UNAUTHENTICATED, without retrying', async () => {
    const { client, credentials } = await clientFor();
    const r = await http(
      `${t.url}/v1/devices/${credentials.deviceId}`,
      'DELETE',
      undefined,
      credentials.token,
    );
    assert.equal(r.status, 204);
    opened.length = 0;
    const stopped = new Promise<{ willReconnect: boolean; error?: Error }>((res) =>
      client.on('disconnected', (info) => {
        if (!info.willReconnect) res(info);
      }),
    );
    await assert.rejects(client.connect(), { code: 'UNAUTHENTICATED' });
    const info = await stopped;
    assert.equal((info.error as { code?: string } | undefined)?.code, 'UNAUTHENTICATED');
    assert.equal(opened.length, 0, 'no socket was opened');
    await client.close();
  });

  it('closed before its ticket came back, it opens no socket', async () => {
    const { client } = await clientFor();
    opened.length = 0;
    const connecting = client.connect().catch((err: unknown) => err);
    await client.close();
    await connecting;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(opened.length, 0);
  });
});
