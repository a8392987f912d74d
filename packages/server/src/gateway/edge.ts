/**
 * The HTTP edge: one server for HTTP and WebSocket upgrades, with its timeouts, the connection
 * gate (caps, PROXY header) and the one error boundary every request and upgrade runs inside.
 * Whatever a handler throws answers that request, or closes it when its answer had begun; it is
 * logged once and never reaches the process.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ParleyError } from '@parley/protocol';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { ConnectionGate } from './connections.js';
import { toParleyError } from './errors.js';
import { COMMON_HEADERS, refuseConnection, sendError, writeHttpError } from './http-util.js';

export interface EdgeHandlers {
  request(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Answers the upgrade itself; a socket still open and not ended afterwards is a WebSocket. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
}

/** Error codes of a peer that went away mid-request: nothing to answer, nothing to fix. */
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

function clientWentAway(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (CLIENT_GONE.has((e as { code?: string }).code ?? '') || e.message === 'aborted') return true;
  }
  return false;
}

/** The handler's promise; a synchronous throw becomes its rejection too. */
function settle(run: () => Promise<void>): Promise<void> {
  try {
    return run();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Method and path for the log: never the query, which may carry a token. */
function routeOf(req: IncomingMessage): string {
  return `${req.method} ${(req.url ?? '').split('?')[0]!.slice(0, 200)}`;
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

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown) => {
    try {
      if (clientWentAway(err)) {
        log.debug({ route: routeOf(req), code: (err as { code?: string }).code }, 'client went away');
        res.destroy();
        return;
      }
      sendError(
        res,
        toParleyError(err, log.child({ reqId: randomBytes(4).toString('hex'), route: routeOf(req) })),
      );
    } catch (answerErr) {
      // Answering failed too: the connection is all that is left to close.
      log.error({ err: answerErr }, 'could not answer a failed request');
      res.destroy();
    }
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    for (const [name, value] of Object.entries(COMMON_HEADERS)) res.setHeader(name, value);
    settle(() => handlers.request(req, res)).catch((err) => fail(req, res, err));
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

  // A request Node's parser refuses (bad request line, headers, chunk sizes; a timeout).
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
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
