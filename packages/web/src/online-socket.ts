/**
 * The socket follows the browser's network state: when the browser says it went offline the
 * socket is given up at once (a dead socket can otherwise look open for a long while), and a
 * connect while offline waits for the browser to be back online instead of failing and
 * backing off. Wraps any WebSocketFactory and keeps its contract: `close` exactly once.
 */
import type { SocketHandlers, SocketLike, WebSocketFactory } from '@parley/sdk/browser';

export function onlineSocketFactory(inner: WebSocketFactory): WebSocketFactory {
  return (request, handlers) => {
    let socket: SocketLike | undefined;
    let finished = false;
    let stopped = false;
    const wrapped: SocketHandlers = {
      open: (protocol) => {
        if (!finished) handlers.open(protocol);
      },
      message: (data) => {
        if (!finished) handlers.message(data);
      },
      close: (code, reason, refused) => {
        if (finished) return;
        finished = true;
        removeEventListener('offline', offline);
        removeEventListener('online', start);
        handlers.close(code, reason, refused);
      },
    };
    function offline() {
      try {
        socket?.close(1000, 'offline');
      } finally {
        wrapped.close(1006, 'the browser went offline');
      }
    }
    function start() {
      if (stopped || finished) return;
      addEventListener('offline', offline);
      socket = inner(request, wrapped);
    }
    if (navigator.onLine) start();
    else addEventListener('online', start, { once: true });
    return {
      send: (data) => socket?.send(data),
      close: (code, reason) => {
        stopped = true;
        if (socket) socket.close(code, reason);
        else wrapped.close(code ?? 1000, reason ?? 'closed before the socket opened');
      },
    };
  };
}
