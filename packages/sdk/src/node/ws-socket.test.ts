import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { ParleyError } from '@parley/protocol';
import { WebSocketServer } from 'ws';
import { nodeWebSocketFactory } from './ws-socket.js';

/** A loopback HTTP server: answers 401 with a JSON error unless the bearer token is "good". */
async function listen(): Promise<{ server: Server; url: string; auth: string[] }> {
  const auth: string[] = [];
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => [...p][0] ?? false });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const server = createServer();
  server.on('upgrade', (req, socket, head) => {
    auth.push(req.headers.authorization ?? '');
    if (req.headers.authorization !== 'Bearer good') {
      const body = JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'unknown token' } });
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/ws`, auth };
}

test('the Node transport sends the bearer header, negotiates the subprotocol and carries text and bytes', async () => {
  const { server, url, auth } = await listen();
  const got: (string | Uint8Array)[] = [];
  let protocol = '';
  const closed = new Promise<number>((resolve) => {
    const socket = nodeWebSocketFactory(
      { url, protocols: ['parley.v1.proto'], token: 'good' },
      {
        open: (p) => {
          protocol = p;
          socket.send('hello');
          socket.send(new Uint8Array([1, 2, 3]));
        },
        message: (data) => {
          got.push(data);
          if (got.length === 2) socket.close(1000, 'done');
        },
        close: (code) => resolve(code),
      },
    );
  });
  assert.equal(await closed, 1000);
  assert.deepEqual(auth, ['Bearer good']);
  assert.equal(protocol, 'parley.v1.proto');
  assert.deepEqual(got, ['hello', new Uint8Array([1, 2, 3])]);
  server.close();
});

test('a refused handshake reports the server error code', async () => {
  const { server, url } = await listen();
  const refused = await new Promise<ParleyError | undefined>((resolve) => {
    nodeWebSocketFactory(
      { url, protocols: ['parley.v1.proto'], token: 'bad' },
      { open: () => {}, message: () => {}, close: (_code, _reason, err) => resolve(err) },
    );
  });
  assert.equal(refused?.code, 'UNAUTHENTICATED');
  server.close();
});

test('an unreachable server closes with the network error as the reason', async () => {
  const reason = await new Promise<string>((resolve) => {
    nodeWebSocketFactory(
      { url: 'ws://127.0.0.1:1/v1/ws', protocols: ['parley.v1.proto'], token: 't' },
      { open: () => {}, message: () => {}, close: (_code, r) => resolve(r) },
    );
  });
  assert.match(reason, /ECONNREFUSED/);
});
