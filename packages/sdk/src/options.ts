/** Options and events of ParleyClient. */
import type { Encoding, Welcome } from '@parley/protocol';
import type { BackoffOptions } from './backoff.js';
import type { LocalStore } from './local-store.js';
import type { WebSocketFactory } from './socket.js';
import type { Credentials, DisconnectInfo, ReceivedChatUpdate, ReceivedMessage } from './types.js';

export interface ClientOptions {
  credentials: Credentials;
  /** Wire encoding (default 'proto'). */
  encoding?: Encoding;
  /** Where cursors are kept (default: in memory, so everything is new after a restart). */
  store?: LocalStore;
  /** Default: Node `ws` with an Authorization header. Browsers pass `browserWebSocketFactory`. */
  webSocketFactory?: WebSocketFactory;
  backoff?: BackoffOptions;
  /** A request unanswered this long means the socket is dead (default 30000). */
  requestTimeoutMs?: number;
  /**
   * When false, incoming messages are ignored and not acked: the server keeps them for a
   * later session of this device (for send-only tools). Default true.
   */
  receive?: boolean;
  /** Randomness for backoff jitter (tests); default Math.random. */
  random?: () => number;
}

export type ClientEvents = {
  /** A socket is open and the server's welcome arrived. */
  connected: [Welcome];
  /** A socket closed (also a failed attempt); `willReconnect` false means the client stopped. */
  disconnected: [DisconnectInfo];
  /** A new payload message; the cursor advances after every listener's promise settles. */
  message: [ReceivedMessage];
  chatUpdate: [ReceivedChatUpdate];
  /** Errors not tied to a request: failed acks, bad frames, store failures, listener errors. */
  error: [Error];
};
