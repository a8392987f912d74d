/**
 * The client's engine: one connection at a time, reconnect with backoff, requests in
 * flight, the outbox of sends and incoming deliveries. Typed API methods live in
 * client.ts. Invariants: sends survive socket drops (re-sent in order with the same
 * clientMessageId); other requests fail with UNAVAILABLE when their socket drops; an
 * ack goes only on the socket that delivered the messages, after the cursor is persisted.
 */

import {
  type Encoding,
  type Frame,
  type FrameInit,
  offeredSubprotocols,
  ParleyError,
  type Welcome,
} from '@parley/protocol';
import { type BlockedUserInfo, toBlockList } from './blocking.js';
import { toCallPush } from './calls/wire.js';
import { type ClosedInfo, Connection } from './connection.js';
import { num, toPresence, toReceipt, toRegistrationAttempt, toSendResult, toTyping, u64 } from './convert.js';
import { Delivery } from './delivery.js';
import { TypedEmitter } from './emitter.js';
import { ExpiryTracker } from './expiry.js';
import { Heartbeat } from './heartbeat.js';
import { type LocalStore, MemoryLocalStore } from './local-store.js';
import type { ChatMuteInfo } from './mutes.js';
import type { ClientEvents, ClientOptions } from './options.js';
import { Outbox, type OutboxEntry, type SendInit } from './outbox.js';
import { minReconnectDelay, ReconnectTimer, terminalError } from './reconnect.js';
import { errorFromFrame, InFlight, type ResultOf, resultOf } from './requests.js';
import { browserWebSocketFactory, type WebSocketFactory } from './socket.js';
import type { ClientStats, Credentials, SendResult } from './types.js';
import { systemTimers } from './typing.js';
import { webSocketUrl } from './urls.js';

type Body = NonNullable<FrameInit['body']>;
type ResultCase = NonNullable<Frame['body']['case']>;

export class ClientCore extends TypedEmitter<ClientEvents> {
  readonly credentials: Credentials;
  readonly stats: ClientStats = { received: 0, duplicates: 0, sent: 0, acked: 0 };
  /** User ids this user has blocked, as last heard from the server (see the `blockList` event). */
  readonly blocked = new Set<string>();

  /**
   * This user's do-not-disturb as last heard from the server (unix ms; 0 = off, MUTE_FOREVER =
   * until turned off); see the `doNotDisturb` event.
   */
  doNotDisturbUntil = 0;

  /** The latest welcome (limits, server time), once connected. */
  welcome: Welcome | undefined;
  /**
   * Disappearing messages handed to the app, until their `expired` event. Feed it messages
   * kept from an earlier session (`track`); `forget` those the user deleted.
   */
  readonly expiry: ExpiryTracker;

  protected readonly store: LocalStore;
  /** The local clock (ms since the epoch). */
  protected readonly now: () => number;
  private readonly options: ClientOptions;
  private readonly encoding: Encoding;
  private readonly inFlight: InFlight;
  private readonly outbox = new Outbox();
  private readonly delivery: Delivery;
  private readonly reconnect: ReconnectTimer;
  private conn: Connection | undefined;
  /** Set once the client will not reconnect: the error every later call fails with. */
  private stopped: ParleyError | undefined;
  private closedByApp = false;
  private waiters: { resolve(w: Welcome): void; reject(e: Error): void }[] = [];
  private readonly heartbeat = new Heartbeat();
  private closing: (() => void) | undefined;

  /**
   * The transport when the options name none: the page's WebSocket here. The client of the
   * `@parley/sdk` entry sets Node's `ws`, so this module imports nothing Node-only.
   */
  protected loadDefaultWebSocketFactory: () => Promise<WebSocketFactory> = async () =>
    browserWebSocketFactory;

  constructor(options: ClientOptions) {
    super();
    this.options = options;
    this.credentials = options.credentials;
    this.encoding = options.encoding ?? 'proto';
    this.store = options.store ?? new MemoryLocalStore();
    const timers = options.timers ?? (options.now ? { ...systemTimers, now: options.now } : systemTimers);
    this.now = options.now ?? (() => timers.now());
    this.expiry = new ExpiryTracker(timers);
    this.expiry.on('expired', (e) => this.emit('expired', e));
    this.inFlight = new InFlight(options.requestTimeoutMs ?? 30_000, () =>
      this.conn?.abort('request timed out'),
    );
    this.reconnect = new ReconnectTimer(options.backoff ?? {}, options.random ?? Math.random);
    this.delivery = new Delivery(
      this.store,
      {
        message: async (m) => {
          await this.emitAndWait('message', m);
          this.expiry.track(m); // once the app has it, so `expired` never comes first
        },
        chatUpdate: (u) => this.emitAndWait('chatUpdate', u),
        error: (err) => this.emit('error', err instanceof Error ? err : new Error(String(err))),
      },
      this.stats,
    );
    this.onListenerError = (err, event) => {
      if (event !== 'error') this.emit('error', err instanceof Error ? err : new Error(String(err)));
    };
  }

  /** True while a socket is open and welcomed. */
  get connected(): boolean {
    return this.conn?.ready ?? false;
  }

  /** Sends waiting for an answer (queued or on the wire). */
  get pendingSends(): number {
    return this.outbox.size;
  }

  /**
   * Opens the connection (if not already) and resolves on the server's welcome. Failed
   * attempts are retried with backoff; rejects only when the client stops for good
   * (revoked, replaced, refused handshake) or is closed.
   */
  connect(): Promise<Welcome> {
    if (this.stopped) return Promise.reject(this.stopped);
    if (this.conn?.ready && this.welcome) return Promise.resolve(this.welcome);
    const promise = new Promise<Welcome>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.conn && !this.reconnect.pending) void this.open();
    return promise;
  }

  /** Closes the socket, stops reconnecting and fails every pending request and send. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = new ParleyError('UNAVAILABLE', 'client closed');
    this.closedByApp = true;
    this.reconnect.cancel();
    const conn = this.conn;
    if (conn) {
      const closed = new Promise<void>((resolve) => {
        this.closing = resolve;
      });
      conn.close(1000, 'client closed');
      // Do not wait long for a peer that does not answer the close handshake.
      const timer = setTimeout(() => conn.abort('close timed out'), 2000);
      await closed;
      clearTimeout(timer);
    } else {
      this.stop(this.stopped, { code: 1000, reason: 'client closed' });
    }
    await this.delivery.idle();
    this.expiry.dispose();
  }

  /** Queues a send in the outbox; it goes out now if connected, else after (re)connect. */
  protected enqueueSend(request: SendInit): Promise<SendResult> {
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise<SendResult>((resolve, reject) => {
      const entry: OutboxEntry = { request, frameId: undefined, resolve, reject };
      this.outbox.add(entry);
      if (this.conn?.ready) this.transmit(this.conn, entry);
    });
  }

  /** Sends a request on the current socket; rejects with UNAVAILABLE when not connected. */
  protected request<K extends ResultCase>(body: Body, expected: K, timeoutMs?: number): Promise<ResultOf<K>> {
    return this.exchange(body, (frame) => resultOf(frame, expected), timeoutMs);
  }

  /** Like `request` for requests whose result body carries nothing the caller needs. */
  protected requestDone(body: Body): Promise<void> {
    return this.exchange(body, (frame) => {
      if (frame.body.case === 'error') throw errorFromFrame(frame.body.value);
    });
  }

  private exchange<T>(body: Body, read: (answer: Frame) => T, timeoutMs?: number): Promise<T> {
    const conn = this.conn;
    if (this.stopped) return Promise.reject(this.stopped);
    if (!conn?.ready) return Promise.reject(new ParleyError('UNAVAILABLE', 'not connected'));
    return new Promise<T>((resolve, reject) => {
      const id = this.inFlight.register(
        {
          answer: (frame) => {
            try {
              resolve(read(frame));
            } catch (err) {
              reject(err);
            }
          },
          drop: reject,
        },
        timeoutMs,
      );
      conn.send({ id, body });
    });
  }

  private transmit(conn: Connection, entry: OutboxEntry): void {
    entry.frameId = this.inFlight.register({
      answer: (frame) => {
        if (frame.body.case === 'error' && frame.body.value.code === 'SHUTTING_DOWN') {
          // The server is going away: keep the send and re-send it, in order, on the next socket.
          entry.frameId = undefined;
          conn.abort('server shutting down');
          return;
        }
        try {
          const result = toSendResult(resultOf(frame, 'sendResult'));
          this.stats.sent++;
          this.outbox.resolve(entry, result);
        } catch (err) {
          this.outbox.reject(entry, err as ParleyError);
        }
      },
      drop: () => {
        entry.frameId = undefined;
      },
    });
    conn.send({ id: entry.frameId, body: { case: 'send', value: entry.request } });
  }

  private async open(): Promise<void> {
    const factory = this.options.webSocketFactory ?? (await this.loadDefaultWebSocketFactory());
    if (this.stopped || this.conn) return;
    const { serverUrl, token } = this.credentials;
    const params = {
      url: webSocketUrl(serverUrl),
      protocols: offeredSubprotocols(this.encoding),
      token,
      encoding: this.encoding,
    };
    const conn: Connection = new Connection(params, {
      welcome: (w) => this.onWelcome(conn, w),
      frame: (f) => this.onFrame(conn, f),
      badFrame: (err) => this.emit('error', err),
      closed: (info) => this.onClosed(conn, info),
    });
    this.conn = conn;
    conn.start(factory);
  }

  private onWelcome(conn: Connection, welcome: Welcome): void {
    this.welcome = welcome;
    this.reconnect.reset();
    this.heartbeat.start(
      welcome.heartbeatIntervalMs,
      // No pong within another interval: the socket is dead (the timeout drops it).
      () => this.request({ case: 'ping', value: {} }, 'pong', welcome.heartbeatIntervalMs).catch(() => {}),
      () => this.inFlight.size > 0,
    );
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(welcome);
    this.afterWelcome();
    this.emit('connected', welcome);
    for (const entry of this.outbox.waiting()) this.transmit(conn, entry);
  }

  /**
   * A new connection is ready, before the `connected` event: restores per-connection state
   * (presence subscriptions) with requests on it.
   */
  protected afterWelcome(): void {}

  /** Replaces the known block list and tells the app (`madeHere`: the answer to this device's change). */
  protected setBlockList(list: BlockedUserInfo[], madeHere = false): void {
    this.blocked.clear();
    for (const u of list) this.blocked.add(u.userId);
    this.emit('blockList', list, { madeHere });
  }

  /** Records a do-not-disturb heard from the server and tells the app. */
  protected setDoNotDisturbUntil(until: number, madeHere = false): void {
    this.doNotDisturbUntil = until;
    this.emit('doNotDisturb', { until }, { madeHere });
  }

  /** Tells the app of a chat mute heard from the server. */
  protected chatMuteChanged(change: ChatMuteInfo, madeHere = false): void {
    this.emit('chatMuted', change, { madeHere });
  }

  private onFrame(conn: Connection, frame: Frame): void {
    this.heartbeat.heardFrame();
    if (frame.id !== 0) {
      this.inFlight.settle(frame); // an unknown id is a late answer to a timed-out request
      return;
    }
    const body = frame.body;
    if (body.case === 'deliver') {
      if (this.options.receive === false) return;
      void this.delivery.enqueue(body.value.messages, (cursors, count) => {
        // Another socket would answer ACK_AHEAD: the server re-delivers these instead.
        if (this.conn !== conn || !conn.ready) return;
        const wire = cursors.map((c) => ({ chatId: c.chatId, seq: u64(c.seq) }));
        conn.send({ id: 0, body: { case: 'ack', value: { cursors: wire } } });
        this.stats.acked += count;
      });
    } else if (body.case === 'presence') {
      if (body.value.presence) this.emit('presence', toPresence(body.value.presence));
    } else if (body.case === 'typingEvent') {
      const typing = toTyping(body.value, this.now());
      if (typing) this.emit('typing', typing);
    } else if (body.case === 'receipt') {
      this.emit('receipt', toReceipt(body.value));
    } else if (body.case === 'receipts') {
      for (const r of body.value.receipts) this.emit('receipt', toReceipt(r));
    } else if (body.case === 'keysLow') {
      this.emit('keysLow', { oneTimeCount: body.value.oneTimeCount, target: body.value.target });
    } else if (body.case === 'retryRequested') {
      const v = body.value;
      this.emit('retryRequested', {
        chatId: v.chatId,
        seq: Number(v.seq),
        userId: v.userId,
        deviceId: v.deviceId,
      });
    } else if (body.case === 'resent') {
      const v = body.value;
      this.emit('resent', {
        chatId: v.chatId,
        seq: Number(v.seq),
        senderUserId: v.senderUserId,
        senderDeviceId: v.senderDeviceId,
        payload: v.payload,
      });
    } else if (body.case === 'registrationAttempt') {
      this.emit('registrationAttempt', toRegistrationAttempt(body.value));
    } else if (body.case === 'profileChanged') {
      const v = body.value;
      this.emit('profileChanged', { userId: v.userId, version: num(v.version), updatedAt: num(v.updatedAt) });
    } else if (body.case === 'blockListChanged') {
      this.setBlockList(toBlockList(body.value.users));
    } else if (body.case === 'mutesChanged') {
      const { chat, doNotDisturb } = body.value;
      if (chat) this.chatMuteChanged({ chatId: chat.chatId, mutedUntil: num(chat.mutedUntil) });
      if (doNotDisturb) this.setDoNotDisturbUntil(num(doNotDisturb.until));
    } else if (body.case === 'error') {
      this.emit('error', errorFromFrame(body.value)); // e.g. a failed ack
    } else {
      const call = toCallPush(body);
      if (call) this.emit('call', call);
    }
  }

  private onClosed(conn: Connection, info: ClosedInfo): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.heartbeat.stop();
    this.inFlight.dropAll(new ParleyError('UNAVAILABLE', 'connection lost before an answer'));
    if (this.stopped) {
      this.stop(this.stopped, info);
      return;
    }
    const terminal = terminalError(info);
    if (terminal) {
      this.stopped = terminal;
      this.stop(terminal, info);
      return;
    }
    this.reconnect.schedule(() => void this.open(), minReconnectDelay(info, this.options.backoff));
    this.emit('disconnected', { code: info.code, reason: info.reason, willReconnect: true });
  }

  /** The client will not reconnect: fail everything waiting and tell the app once. */
  private stop(err: ParleyError, info: { code: number; reason: string }): void {
    this.outbox.rejectAll(err);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
    this.emit('disconnected', {
      code: info.code,
      reason: info.reason,
      willReconnect: false,
      ...(this.closedByApp ? {} : { error: err }),
    });
    this.closing?.();
  }
}
