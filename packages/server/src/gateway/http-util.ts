/** Small HTTP helpers: bounded JSON bodies and JSON/error responses (also on raw upgrade sockets). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ParleyError } from '@parley/protocol';
import { errorJson } from './errors.js';

const BODY_LIMIT = 16 * 1024;

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT)
      throw new ParleyError('INVALID_ARGUMENT', `request body is larger than ${BODY_LIMIT} bytes`);
    chunks.push(chunk as Buffer);
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

export function sendError(res: ServerResponse, err: ParleyError): void {
  if (err.retryAfterMs !== undefined)
    res.setHeader('retry-after', String(Math.ceil(err.retryAfterMs / 1000)));
  sendJson(res, err.httpStatus, errorJson(err));
}

/** Answers a failed WebSocket upgrade with a plain HTTP error and closes the socket. */
export function writeHttpError(socket: Duplex, err: ParleyError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(errorJson(err));
  socket.end(
    `HTTP/1.1 ${err.httpStatus} ${STATUS_CODES[err.httpStatus] ?? 'Error'}\r\n` +
      'Connection: close\r\ncontent-type: application/json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
