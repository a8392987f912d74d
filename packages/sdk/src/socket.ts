/**
 * The transport seam: the client talks to a `SocketLike` made by a `WebSocketFactory`, so
 * the core needs no Node API. A factory calls `open` once, then `message`s, then `close`
 * exactly once (also when the socket never opened). Node: `nodeWebSocketFactory` in
 * `@parley/sdk/node`; browsers: `browserWebSocketFactory` below.
 */
import type { ParleyError } from '@parley/protocol';
import { withTokenQuery } from './urls.js';

export interface SocketHandlers {
  /** The handshake succeeded; `protocol` is the subprotocol the server chose. */
  open(protocol: string): void;
  /** One frame: string for text frames, bytes for binary frames. */
  message(data: string | Uint8Array): void;
  /**
   * The socket is gone. `refused` is set when the factory could see why the server
   * refused the handshake (e.g. UNAUTHENTICATED on HTTP 401).
   */
  close(code: number, reason: string, refused?: ParleyError): void;
}

export interface SocketLike {
  send(data: string | Uint8Array): void;
  /** Starts a clean close; `handlers.close` follows. */
  close(code?: number, reason?: string): void;
}

export interface SocketRequest {
  url: string;
  protocols: string[];
  /** Device token: sent as `Authorization: Bearer` or `?token=`, never logged. */
  token: string;
}

export type WebSocketFactory = (request: SocketRequest, handlers: SocketHandlers) => SocketLike;

interface BrowserWebSocket {
  binaryType: string;
  readonly protocol: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: (() => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
}

/** Opens a global WHATWG WebSocket at `url` and wires it to `handlers`. */
export function openBrowserSocket(url: string, protocols: string[], handlers: SocketHandlers): SocketLike {
  const Ctor = (globalThis as unknown as { WebSocket?: new (url: string, p: string[]) => BrowserWebSocket })
    .WebSocket;
  if (!Ctor) throw new Error('no global WebSocket: pass a webSocketFactory');
  const ws = new Ctor(url, protocols);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => handlers.open(ws.protocol);
  ws.onmessage = (ev) => {
    const data = ev.data;
    if (typeof data === 'string') handlers.message(data);
    else if (data instanceof ArrayBuffer) handlers.message(new Uint8Array(data));
  };
  ws.onclose = (ev) => handlers.close(ev.code, ev.reason);
  return {
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
  };
}

/**
 * Uses the global WHATWG WebSocket; the token goes in the query (browsers cannot set headers).
 * Prefer `ticketWebSocketFactory` (ticket-socket.ts): a token in a URL ends up in proxy logs.
 */
export const browserWebSocketFactory: WebSocketFactory = (request, handlers) =>
  openBrowserSocket(withTokenQuery(request.url, request.token), request.protocols, handlers);
