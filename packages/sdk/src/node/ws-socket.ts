/**
 * Node transport over the `ws` package: the token goes in an `Authorization: Bearer`
 * header. A refused handshake is reported with the server's error code (read from the
 * JSON error body), so the client can tell "revoked" from "server down".
 */
import type { IncomingMessage } from 'node:http';
import type { ParleyError } from '@parley/protocol';
import WebSocket from 'ws';
import { errorFromResponse } from '../http.js';
import type { WebSocketFactory } from '../socket.js';

const MAX_ERROR_BODY = 64 * 1024;

function readRefusal(res: IncomingMessage): Promise<ParleyError> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = res.statusCode ?? 500;
      resolve(errorFromResponse(new Response(body, { status })));
    };
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_ERROR_BODY) chunks.push(chunk);
    });
    res.on('end', done);
    res.on('error', done);
  });
}

export const nodeWebSocketFactory: WebSocketFactory = (request, handlers) => {
  const ws = new WebSocket(request.url, request.protocols, {
    headers: { authorization: `Bearer ${request.token}` },
    handshakeTimeout: 15_000,
  });
  let refused: ParleyError | undefined;
  let lastError = '';
  ws.on('unexpected-response', (_req, res) => {
    void readRefusal(res).then((err) => {
      refused = err;
      ws.terminate();
    });
  });
  ws.on('open', () => handlers.open(ws.protocol));
  ws.on('message', (data, isBinary) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    handlers.message(
      isBinary ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : buf.toString('utf8'),
    );
  });
  // 'close' always follows 'error'; keep the message (e.g. ECONNREFUSED) as the close reason.
  ws.on('error', (err) => {
    lastError = err.message;
  });
  ws.on('close', (code, reason) => handlers.close(code, reason.toString('utf8') || lastError, refused));
  return {
    send: (data) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    },
    close: (code, reason) => {
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(code, reason);
    },
  };
};
