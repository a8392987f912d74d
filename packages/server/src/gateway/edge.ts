/**
 * The HTTP edge: one server for HTTP and WebSocket upgrades, with its timeouts and the
 * connection gate (caps, PROXY header). Requests go to the HTTP framework (http-app.ts), whose
 * error handler answers them; upgrades run inside an error boundary here. Whatever fails answers
 * that request or closes that socket, is logged once and never reaches the process.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ParleyError } from '@parley/protocol';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { ConnectionGate } from './connections.js';
import { toParleyError } from './errors.js';
import { clientWentAway, routeOf } from './http-errors.js';
import { COMMON_HEADERS, refuseConnection, writeHttpError } from './http-util.js';

export interface EdgeHandlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  /** Answers the upgrade itself; a socket still open and not ended afterwards is a WebSocket. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
}

/** The handler's promise; a synchronous throw becomes its rejection too. */
function settle(run: () => Promise<void>): Promise<void> {
  try {
    return run();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Answers a request Node's parser refuses (bad request line, headers, chunk sizes; a timeout). */
export function answerClientError(log: Logger) {
  return (err: NodeJS.ErrnoException, socket: Duplex): void => {
    log.debug({ code: err.code }, 'malformed or timed-out request');
    // Once an answer has begun on this connection, a second one would corrupt it.
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (err.code === 'ECONNRESET' || answering) {
      socket.destroy();
      return;
    }
    const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    refuseConnection(
      socket,
      timedOut
        ? new ParleyError('REQUEST_TIMEOUT', 'the request did not arrive in time')
        : new ParleyError(
            'INVALID_ARGUMENT',
            err.code === 'HPE_HEADER_OVERFLOW' ? 'request headers are too large' : 'malformed HTTP request',
          ),
    );
  };
}

export function createEdge(config: Config, log: Logger, handlers: EdgeHandlers): Server {
  const headersTimeout = config.httpHeadersTimeoutMs;
  const server = createServer({
    headersTimeout,
    requestTimeout: Math.max(config.httpRequestTimeoutMs, headersTimeout),
    // Node checks both timeouts on this interval (default 30 s, far coarser than the timeouts).
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))),
    keepAliveTimeout: 5000,
  });
  const gate = new ConnectionGate(config, log);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    for (const [name, value] of Object.entries(COMMON_HEADERS)) res.setHeader(name, value);
    handlers.request(req, res);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    settle(() => handlers.upgrade(req, socket, head)).then(
      () => {
        if (!socket.destroyed && !socket.writableEnded) gate.authenticated(socket);
      },
      (err) => {
        try {
          if (clientWentAway(err)) socket.destroy();
          else writeHttpError(socket, toParleyError(err, log.child({ route: routeOf(req) })));
        } catch {
          socket.destroy();
        }
      },
    );
  });

  // The gate sits in front of Node's own connection handling (which parses HTTP).
  const [parseHttp] = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) =>
    gate.accept(socket, (rest) => {
      parseHttp!.call(server, socket);
      // Bytes read along with the PROXY header: Node reads the socket directly from here on,
      // so they are handed to its parser as data rather than put back into the stream.
      if (rest.length) socket.emit('data', rest);
    }),
  );
  return server;
}
