/**
 * The browser transport that never puts the device token in a URL: before each connect it asks
 * POST /v1/socket-tickets (with the token, over fetch) for a one-use ticket and opens the global
 * WebSocket with `?ticket=`. Keeps the factory contract (socket.ts): `close` exactly once, also
 * when the ticket could not be had; a refused ticket request (UNAUTHENTICATED, a revoked device)
 * is passed on as `refused`, so the client stops instead of retrying.
 */
import { ParleyError } from '@parley/protocol';
import { createSocketTicket, type HttpOptions } from './http.js';
import { openBrowserSocket, type SocketLike, type WebSocketFactory } from './socket.js';

/** Close code reported when no socket was opened because the ticket request failed. */
const NO_TICKET_CODE = 1006;

/**
 * `serverUrl` is the node's HTTP base (the client's credentials.serverUrl), where tickets are
 * asked for; the socket opens at the URL the client passes.
 */
export function ticketWebSocketFactory(serverUrl: string, options: HttpOptions = {}): WebSocketFactory {
  return (request, handlers) => {
    let socket: SocketLike | undefined;
    let closed = false;
    let finished = false;
    const finish = (code: number, reason: string, refused?: ParleyError) => {
      if (finished) return;
      finished = true;
      handlers.close(code, reason, refused);
    };
    createSocketTicket({ serverUrl, token: request.token }, options).then(
      ({ ticket }) => {
        if (closed) return finish(1000, 'closed before the socket opened');
        const url = new URL(request.url);
        url.searchParams.set('ticket', ticket);
        try {
          socket = openBrowserSocket(url.toString(), request.protocols, {
            open: (protocol) => handlers.open(protocol),
            message: (data) => handlers.message(data),
            close: (code, reason, refused) => finish(code, reason, refused),
          });
        } catch (err) {
          finish(NO_TICKET_CODE, err instanceof Error ? err.message : 'socket failed');
        }
      },
      (err: unknown) => {
        const e = err instanceof ParleyError ? err : new ParleyError('UNAVAILABLE', 'no socket ticket');
        // Retryable failures (network, rate limit) let the client back off and try again.
        finish(NO_TICKET_CODE, `socket ticket: ${e.code}`, e.retryable ? undefined : e);
      },
    );
    return {
      send: (data) => socket?.send(data),
      close: (code, reason) => {
        closed = true;
        socket?.close(code, reason);
      },
    };
  };
}
