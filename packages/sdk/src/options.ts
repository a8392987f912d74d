/** Options and events of ParleyClient. */

import type { Encoding, Welcome } from '@parley/protocol';
import type { BackoffOptions } from './backoff.js';
import type { BlockedUserInfo } from './blocking.js';
import type { CallPush } from './calls/wire.js';
import type { LocalStore } from './local-store.js';
import type { ChatMuteInfo } from './mutes.js';
import type { WebSocketFactory } from './socket.js';
import type {
  Credentials,
  DisconnectInfo,
  ExpiredInfo,
  PresenceInfo,
  ReceiptInfo,
  ReceivedChatUpdate,
  ReceivedMessage,
  RegistrationAttemptInfo,
  TypingInfo,
} from './types.js';
import type { Timers } from './typing.js';

export interface ClientOptions {
  credentials: Credentials;
  /** Wire encoding (default 'proto'). */
  encoding?: Encoding;
  /** Where cursors are kept (default: in memory, so everything is new after a restart). */
  store?: LocalStore;
  /**
   * Default: Node `ws` with an Authorization header for the client of `@parley/sdk`, the
   * page's WebSocket (`browserWebSocketFactory`) for the client of `@parley/sdk/browser`.
   */
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
  /** The local clock, ms since the epoch (stamps `typing` events' expiresAt); default Date.now. */
  now?: () => number;
  /**
   * Clock and timers for disappearing messages (`expired` events); default the platform's,
   * with `now` as the clock when given.
   */
  timers?: Timers;
}

export type ClientEvents = {
  /** A socket is open and the server's welcome arrived. */
  connected: [Welcome];
  /** A socket closed (also a failed attempt); `willReconnect` false means the client stopped. */
  disconnected: [DisconnectInfo];
  /** A new payload message; the cursor advances after every listener's promise settles. */
  message: [ReceivedMessage];
  chatUpdate: [ReceivedChatUpdate];
  /**
   * A subscribed user went online or offline (see `subscribePresence`); also each user's
   * current presence after the client re-subscribed on a new connection.
   */
  presence: [PresenceInfo];
  /** A member of one of the user's chats started (`composing`) or stopped typing. */
  typing: [TypingInfo];
  /**
   * A member's delivered/read position moved in a chat where this user sent messages (also,
   * after connecting, every position that moved while away). Keep the highest values seen
   * (ReceiptTracker does).
   */
  receipt: [ReceiptInfo];
  /**
   * A disappearing message this client handed to the app (as `message`, or in `history`)
   * reached its `expiresAt`: delete it from the device. See `client.expiry`.
   */
  expired: [ExpiredInfo];
  /** The server holds few one-time prekeys for this device: upload more (up to `target`). */
  keysLow: [{ oneTimeCount: number; target: number }];
  /** Device `deviceId` of `userId` could not decrypt message `seq` this device sent: resend it. */
  retryRequested: [{ chatId: string; seq: number; userId: string; deviceId: string }];
  /** A new ciphertext of message `seq`, made for this device by the device that sent it. */
  resent: [
    { chatId: string; seq: number; senderUserId: string; senderDeviceId: string; payload: Uint8Array },
  ];
  /**
   * Someone holding this account's SMS code is registering the number on a new phone and the
   * registration lock asked for the PIN. Nothing needs doing if it was not the user; if it was,
   * removing or changing the PIN on the primary lets the new phone in.
   */
  registrationAttempt: [RegistrationAttemptInfo];
  /**
   * A user who shares a chat with this one (or this user, from another device) stored profile
   * `version`. SecureMessaging fetches and decrypts it when it holds that user's profile key.
   */
  profileChanged: [{ userId: string; version: number; updatedAt: number }];
  /**
   * This user's block list, oldest block first: after each connect (fetched from the server)
   * and whenever it changes, on this device or another of the user's (`client.blocked`).
   * `madeHere` is true for the answer to a block, unblock or report made on this device.
   */
  blockList: [BlockedUserInfo[], { madeHere: boolean }];
  /**
   * A chat's mute changed: pushed when another device of this user muted or unmuted it, and
   * the answer to `mute`/`unmute` on this device (`madeHere`). `mutedUntil`: unix ms, 0 =
   * unmuted, MUTE_FOREVER = until unmuted. Listed chats carry it too (`ChatInfo.mutedUntil`).
   */
  chatMuted: [ChatMuteInfo, { madeHere: boolean }];
  /**
   * This user's do-not-disturb: after each connect (fetched from the server while something
   * listens for this event), and whenever it changes, on this device (`madeHere`) or another
   * (`client.doNotDisturbUntil`).
   */
  doNotDisturb: [{ until: number }, { madeHere: boolean }];
  /**
   * A call push (offered, answered, signal, ended) with its payload still encrypted; `Calls`
   * (calls/calls.ts) decrypts them and drives the peer connection.
   */
  call: [CallPush];
  /** Errors not tied to a request: failed acks, bad frames, store failures, listener errors. */
  error: [Error];
};
