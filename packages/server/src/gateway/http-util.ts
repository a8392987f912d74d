/** Small HTTP helpers: request bodies that must keep coming, and errors on raw (upgrade) sockets. */
import { STATUS_CODES } from 'node:http';
import { type Duplex, Readable } from 'node:stream';
import { ParleyError } from '@parley/protocol';
import { errorJson } from './errors.js';

/** Headers on every response: no browser may guess a content type (media bodies are opaque bytes). */
export const COMMON_HEADERS = { 'x-content-type-options': 'nosniff' } as const;

/**
 * The request body, chunk by chunk; a pause longer than `idleMs` (or, with `totalMs`, a body
 * not whole by then) fails with REQUEST_TIMEOUT. Only the time spent waiting for the client
 * counts, not a slow consumer. The request is left open so the answer can go out.
 */
async function* timedChunks(req: Readable, idleMs: number, totalMs: number): AsyncGenerator<Buffer> {
  const chunks = req.iterator({ destroyOnReturn: false });
  const deadline = Date.now() + totalMs;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ParleyError('REQUEST_TIMEOUT', 'the request body arrived too slowly')),
        Math.max(0, Math.min(idleMs, deadline - Date.now())),
      );
    });
    try {
      const next = await Promise.race([chunks.next(), stalled]);
      if (next.done) return;
      yield next.value as Buffer;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** timedChunks as a byte stream (what the framework reads a body from). */
export function timedBody(req: Readable, idleMs: number, totalMs = Number.POSITIVE_INFINITY): Readable {
  const body = Readable.from(timedChunks(req, idleMs, totalMs), { objectMode: false });
  // A reader gets errors through its own listener. Once it stopped listening (a body refused
  // half-way), a later timeout or abort has nobody to tell and must not reach the process.
  body.on('error', () => {});
  return body;
}

/**
 * An 'error' listener that ends the socket: one function for every socket, so a listener that
 * outlives the handshake holds no closure per connection (EventEmitter calls it with the socket
 * as `this`).
 */
export function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** Answers a failed WebSocket upgrade (or a refused connection) with a plain HTTP error and closes the socket. */
export function writeHttpError(socket: Duplex, err: ParleyError): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(errorJson(err));
  socket.end(
    `HTTP/1.1 ${err.httpStatus} ${STATUS_CODES[err.httpStatus] ?? 'Error'}\r\n` +
      'Connection: close\r\ncontent-type: application/json\r\nx-content-type-options: nosniff\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** How long a refused peer may go on reading its answer before the socket is destroyed. */
const LINGER_MS = 2000;

/**
 * writeHttpError for a connection being refused before (or instead of) its request: what the
 * peer still sends is read and dropped, so the close is not a reset that could eat the answer.
 */
export function refuseConnection(socket: Duplex, err: ParleyError): void {
  writeHttpError(socket, err);
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
