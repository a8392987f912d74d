/** Small HTTP helpers: bounded JSON bodies and JSON/error responses (also on raw upgrade sockets). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ParleyError } from '@parley/protocol';
import { errorJson } from './errors.js';

const BODY_LIMIT = 16 * 1024;

/** Headers on every response: no browser may guess a content type (media bodies are opaque bytes). */
export const COMMON_HEADERS = { 'x-content-type-options': 'nosniff' } as const;

/**
 * The request body, chunk by chunk; a pause longer than `idleMs` (or, with `totalMs`, a body
 * not whole by then) fails with REQUEST_TIMEOUT. The request is left open so the answer can go out.
 */
export async function* timedBody(
  req: IncomingMessage,
  idleMs: number,
  totalMs = Number.POSITIVE_INFINITY,
): AsyncGenerator<Buffer> {
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

/** A JSON object body of at most 16 KiB that arrives whole within `timeoutMs`. */
export async function readJson(req: IncomingMessage, timeoutMs: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of timedBody(req, timeoutMs, timeoutMs)) {
    size += chunk.length;
    if (size > BODY_LIMIT)
      throw new ParleyError('INVALID_ARGUMENT', `request body is larger than ${BODY_LIMIT} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ParleyError('INVALID_ARGUMENT', 'request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ParleyError('INVALID_ARGUMENT', 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Answers with the error, unless the response has already begun: then its status is gone and
 * only closing the connection tells the client the body is incomplete. A request whose body
 * was not read to the end (refused or timed out) closes the connection after the answer.
 */
export function sendError(res: ServerResponse, err: ParleyError): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  if (err.retryAfterMs !== undefined)
    res.setHeader('retry-after', String(Math.ceil(err.retryAfterMs / 1000)));
  if (!res.req.complete) res.setHeader('connection', 'close');
  sendJson(res, err.httpStatus, errorJson(err));
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
