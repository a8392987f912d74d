/**
 * One WebSocket connection: decodes frames, answers every request exactly once, and bounds
 * what one client can cost the node. Invariants:
 * - one outbound budget: deliveries stop above sendBufferBytes (the device drains later from
 *   the store); a reply or push that finds more than sendBufferMaxBytes queued closes the
 *   connection with 4009, because an answer cannot be dropped silently;
 * - at most maxInflightRequests requests are handled at once; above it the socket is not
 *   read (TCP backpressure) and frames already received wait, in order;
 * - liveness is a pong: only a client that reads answers pings, so frames it sends do not count;
 * - nothing thrown while handling this connection leaves it: the request is answered with
 *   INTERNAL, or the connection is closed with 1011; either is logged once.
 */
import { randomBytes } from 'node:crypto';
import {
  CloseCodes,
  decodeFrame,
  type Encoding,
  encodeFrame,
  type Frame,
  type FrameInit,
  makeFrame,
  ParleyError,
  SUPPORTED_VERSIONS,
} from '@parley/protocol';
import type { WebSocket } from 'ws';
import type { AuthService } from '../auth/service.js';
import type { Config } from '../config/schema.js';
import type { AckFlusher } from '../delivery/ack-flusher.js';
import type { DeviceTouches } from '../delivery/device-touches.js';
import type { Connection, FrameEncoder, Hub } from '../delivery/hub.js';
import { DeliverySession, type DeliveryTransport, type SessionLimits } from '../delivery/session.js';
import type { KeyService } from '../keys/service.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { Device, StoredMessage } from '../ports/types.js';
import type { PresenceService } from '../presence/service.js';
import type { ReceiptService } from '../receipts/service.js';
import type { createDispatcher } from './dispatch.js';
import { errorBody, toParleyError } from './errors.js';
import { encodeChats } from './fast-chat-codec.js';
import {
  encodeReceiptBatchBinary,
  encodeReceiptBinary,
  encodeSendResultBinary,
  encodeWelcomeBinary,
  type ReceiptEventInit,
  type WelcomeInit,
} from './fast-codec.js';
import { decodeHotFrame } from './fast-decode.js';
import { FRAME_COPY_LIMIT, FrameCache } from './ws-frame.js';

export interface GatewayDeps {
  auth: AuthService;
  hub: Hub;
  store: Store;
  acks: AckFlusher;
  /** Last-seen times, written in batches. */
  touches: DeviceTouches;
  config: Config;
  clock: Clock;
  log: Logger;
  dispatch: ReturnType<typeof createDispatcher>;
  encodeDeliver: FrameEncoder;
  serverVersion: string;
  sessionLimits: SessionLimits;
  presence: PresenceService;
  receipts: ReceiptService;
  keys: KeyService;
  metrics: Metrics;
  /** A device connected (a call ringing for it is offered again). */
  onConnected?: (device: Device) => void;
}

const BAD_FRAME_LIMIT = 20;
const BAD_FRAME_WINDOW_MS = 60_000;
const BAD_FRAME_CODES = new Set(['BAD_FRAME', 'UNKNOWN_TYPE', 'FRAME_TOO_LARGE', 'INVALID_ARGUMENT']);
/** A peer that never answers the close handshake is cut off after this. */
const CLOSE_GRACE_MS = 2000;

type Body = FrameInit['body'];

interface Received {
  data: Buffer;
  isBinary: boolean;
}

/** The connection of each open WebSocket, for the listeners below. */
const connections = new WeakMap<WebSocket, WsConnection>();

/** The frame last written, kept for the next recipient of the same payload. */
const frames = new FrameCache();

/** Connections corked in this turn of the event loop, uncorked together at its end. */
let corkedThisTurn: WsConnection[] = [];

function flushTurn(): void {
  const list = corkedThisTurn;
  corkedThisTurn = [];
  for (const c of list) {
    try {
      c.flush();
    } catch (err) {
      c.crash(err);
    }
  }
}

/** What a connection writes to besides `ws`: the socket under it. */
interface RawSocket {
  cork(): void;
  uncork(): void;
  write(chunk: Uint8Array): boolean;
}

/*
 * Listeners shared by every connection (`ws` calls them with the WebSocket as `this`): an idle
 * connection holds no closures of its own for them.
 */
function onWsMessage(this: WebSocket, data: unknown, isBinary: boolean): void {
  const conn = connections.get(this);
  if (!conn) return;
  try {
    conn.onMessage(data as Buffer, isBinary);
  } catch (err) {
    conn.crash(err);
  }
}

// Only a pong proves the client reads: ws answers pings only when it reads the socket.
function onWsPong(this: WebSocket): void {
  connections.get(this)?.ponged();
}

function onWsClose(this: WebSocket, code: number): void {
  const conn = connections.get(this);
  if (!conn) return;
  connections.delete(this);
  conn.logClosed(code);
  conn.onClose();
}

function onWsError(this: WebSocket, err: Error): void {
  connections.get(this)?.log.debug({ err: err.message }, 'socket error');
}

export class WsConnection implements Connection, DeliveryTransport {
  readonly deviceId;
  readonly userId;
  readonly session: DeliverySession;
  readonly openedAt = Date.now();
  /** This connection's id in the log. */
  private readonly connId: number;
  private childLog: Logger | undefined;
  /** The close code the server chose, once it closed this connection. */
  closedWith: number | undefined;
  private alive = true;
  /** When the last ping went (ms since the epoch). */
  private pingedAt = 0;
  private badFrames = 0;
  private badWindowStart = 0;
  private corked = false;
  /** Bytes written in the current (corked) turn: not stuck yet, only not flushed yet. */
  private turnBytes = 0;
  private crashed = false;
  /** Requests dispatched and not yet answered. */
  private inflight = 0;
  /** Frames received while `inflight` was at the cap; handled in order as answers go out. */
  private readonly waiting: Received[] = [];
  /** Reading stopped by the in-flight cap. */
  private readsPaused = false;
  /** Reading stopped for shutdown; only close() reads again. */
  private stopped = false;
  private readonly maxBuffered: number;
  private readonly maxInflight: number;

  constructor(
    private readonly ws: WebSocket,
    private readonly device: Device,
    readonly encoding: Encoding,
    /** The protocol version negotiated by subprotocol. */
    readonly version: number,
    private readonly d: GatewayDeps,
  ) {
    this.deviceId = device.id;
    this.userId = device.userId;
    this.maxBuffered = Math.max(d.config.sendBufferMaxBytes, d.config.sendBufferBytes);
    this.maxInflight = d.config.maxInflightRequests;
    this.connId = randomBytes(4).readUInt32BE(0);
    // The parent logger with this connection's fields: a child logger is made only when the
    // connection has more to log (most never do).
    d.log.info({ ...this.logFields(), encoding }, 'connection opened');
    // The connection is its own delivery transport: no per-connection closures.
    this.session = new DeliverySession(
      device.id,
      device.userId,
      this,
      d.store,
      d.sessionLimits,
      d.acks,
      d.log,
    );
    connections.set(ws, this);
    ws.on('message', onWsMessage);
    ws.on('pong', onWsPong);
    ws.on('close', onWsClose);
    ws.on('error', onWsError);
  }

  /** Log lines of this connection carry its id, device and user (never content). */
  get log(): Logger {
    this.childLog ??= this.d.log.child(this.logFields());
    return this.childLog;
  }

  /** The connection's last line, through its child logger only if it has one already. */
  logClosed(code: number): void {
    const fields = { code, seconds: Math.round((Date.now() - this.openedAt) / 1000) };
    if (this.childLog) this.childLog.info(fields, 'connection closed');
    else if (this.d.log.isLevelEnabled('info'))
      this.d.log.info({ ...this.logFields(), ...fields }, 'connection closed');
  }

  private logFields() {
    return {
      connId: this.connId.toString(16).padStart(8, '0'),
      deviceId: this.deviceId,
      userId: this.userId,
    };
  }

  /** The client answered a ping. */
  ponged(): void {
    this.alive = true;
  }

  welcome(): void {
    this.push({
      case: 'welcome',
      value: {
        protocolVersion: this.version,
        supportedVersions: [...SUPPORTED_VERSIONS],
        serverVersion: this.d.serverVersion,
        userId: this.device.userId,
        deviceId: this.device.id,
        maxPayloadBytes: this.d.config.maxPayloadBytes,
        deliveryWindow: this.d.config.deliveryWindow,
        heartbeatIntervalMs: this.d.config.heartbeatMs,
        serverTime: BigInt(this.d.clock.now()),
      },
    });
  }

  heartbeat(now: number): void {
    // While the server itself stopped reading, the client's pong cannot arrive: judge it later.
    if (this.readsPaused || this.stopped || this.closedWith !== undefined) return;
    if (!this.alive) {
      // Visits come about a period apart, but closes earlier in the map can bring one nearer
      // its last: a pong gets at least half a period.
      if (now - this.pingedAt < this.d.config.heartbeatMs / 2) return;
      this.log.info('heartbeat timeout: connection closed');
      // Tell a peer that only stopped answering pings why (4008), then cut the connection at
      // once: a dead peer would never complete the close handshake.
      this.closedWith = CloseCodes.HEARTBEAT_TIMEOUT;
      this.d.metrics.serverCloses.inc({ code: CloseCodes.HEARTBEAT_TIMEOUT });
      this.session.close();
      this.ws.close(CloseCodes.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.pingedAt = now;
    this.ws.ping();
  }

  /** Stops reading frames (shutdown: in-flight work finishes, nothing new starts). */
  pause(): void {
    this.stopped = true;
    this.ws.pause();
  }

  push(body: Body): void {
    try {
      if (body?.case === 'receipts' && this.version < 2) {
        // Version 1 has no batches: one push per receipt.
        for (const value of body.value.receipts ?? []) this.reply(0, { case: 'receipt', value });
        return;
      }
      this.reply(0, body);
    } catch (err) {
      this.crash(err);
    }
  }

  sendMessages(messages: readonly StoredMessage[], backlog: boolean): void {
    try {
      this.d.metrics.frameOut.inc('deliver');
      this.write(this.d.encodeDeliver(messages, backlog, this.encoding));
    } catch (err) {
      this.crash(err);
    }
  }

  sendEncoded(frame: Uint8Array | string): void {
    this.d.metrics.frameOut.inc('deliver');
    // Corked like every other write: measured, writing each shared frame at once made group
    // fan-out slower (receivers woke once per socket instead of once per batch).
    try {
      this.write(frame);
    } catch (err) {
      this.crash(err);
    }
  }

  /** Requests dispatched and not yet answered (at most maxInflightRequests). */
  get requestsInFlight(): number {
    return this.inflight;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  close(code: number, reason: string): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = code;
    this.d.metrics.serverCloses.inc({ code });
    this.waiting.length = 0;
    this.session.close();
    this.ws.close(code, reason);
    this.flush();
    // A socket paused (shutdown, in-flight cap) must read the peer's close reply to finish at once.
    this.ws.resume();
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** A frame arrived (called by the shared listener above). */
  onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closedWith !== undefined) return;
    if (this.inflight >= this.maxInflight || this.waiting.length > 0) {
      // ws hands over every frame of a chunk already read, even after pause(): keep them.
      this.waiting.push({ data, isBinary });
      if (!this.readsPaused) {
        this.readsPaused = true;
        this.ws.pause();
      }
      return;
    }
    this.handle(data, isBinary);
  }

  private handle(data: Buffer, isBinary: boolean): void {
    if (data.length > this.d.config.maxFrameBytes) {
      this.fail(
        0,
        new ParleyError('FRAME_TOO_LARGE', `frames are limited to ${this.d.config.maxFrameBytes} bytes`),
      );
      return;
    }
    let frame: Frame;
    try {
      // A binary message on the JSON subprotocol is read as UTF-8 JSON (protocol.md §2.6).
      if (!isBinary && this.encoding === 'proto') {
        throw new ParleyError('BAD_FRAME', 'expected binary frames');
      }
      frame =
        (isBinary && decodeHotFrame(data)) ||
        decodeFrame(isBinary ? data : data.toString('utf8'), this.encoding, {
          rejectUnknownFields: true,
        });
    } catch (err) {
      this.fail(0, toParleyError(err, this.log));
      return;
    }
    this.d.metrics.frameIn.inc(frame.body.case ?? 'empty');
    if (frame.id === 0 && frame.body.case !== 'ack') {
      this.fail(0, new ParleyError('INVALID_ARGUMENT', 'requests need a non-zero id'));
      return;
    }
    this.dispatch(frame);
  }

  /** Runs one request; its answer (result or error) is written when it settles. */
  private dispatch(frame: Frame): void {
    const id = frame.id;
    const ctx = { device: this.device, session: this.session, conn: this };
    if (frame.body.case === 'ack') {
      // Answered in this turn (every member of a busy group acks tens of times a second), by
      // the same path as a request whose promise settled.
      let body: Body | undefined;
      let failure: { err: unknown } | undefined;
      try {
        body = this.d.dispatch.ack(frame.body.value, ctx);
      } catch (err) {
        failure = { err };
      }
      this.inflight++;
      this.answered(id, body, failure);
      return;
    }
    let answer: Promise<Body | undefined>;
    try {
      answer = this.d.dispatch(frame, ctx);
    } catch (err) {
      // A handler that throws before it returns its promise is answered like one that rejects.
      answer = Promise.reject(err);
    }
    this.inflight++;
    answer.then(
      (body) => this.answered(id, body, undefined),
      (err: unknown) => this.answered(id, undefined, { err }),
    );
  }

  private answered(id: number, body: Body | undefined, failure: { err: unknown } | undefined): void {
    this.inflight--;
    try {
      if (failure) this.fail(id, toParleyError(failure.err, this.log.child({ requestId: id })));
      else if (id !== 0 && body) this.reply(id, body);
      this.takeWaiting();
    } catch (err) {
      this.crash(err);
    }
  }

  /** Handles the frames that waited for the in-flight cap, then reads the socket again. */
  private takeWaiting(): void {
    while (this.waiting.length > 0 && this.inflight < this.maxInflight) {
      if (this.closedWith !== undefined) return;
      const next = this.waiting.shift()!;
      this.handle(next.data, next.isBinary);
    }
    if (this.readsPaused && this.waiting.length === 0 && this.inflight < this.maxInflight) {
      this.readsPaused = false;
      if (!this.stopped && this.closedWith === undefined) this.ws.resume();
    }
  }

  private fail(id: number, err: ParleyError): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.d.metrics.errors.inc({ code: err.code });
    this.reply(id, errorBody(err));
    if (BAD_FRAME_CODES.has(err.code)) {
      const now = this.d.clock.now();
      if (now - this.badWindowStart > BAD_FRAME_WINDOW_MS) {
        this.badWindowStart = now;
        this.badFrames = 0;
      }
      if (++this.badFrames > BAD_FRAME_LIMIT) this.close(CloseCodes.POLICY, 'too many bad frames');
    }
  }

  private reply(id: number, body: Body): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    let data: Uint8Array | string;
    try {
      data = this.encode(id, body);
    } catch (err) {
      // The request is answered with INTERNAL; an error body that cannot be encoded is a crash.
      if (body?.case === 'error') throw err;
      const internal = toParleyError(err, this.log.child({ requestId: id }));
      this.d.metrics.errors.inc({ code: internal.code });
      body = errorBody(internal);
      data = this.encode(id, body);
    }
    this.d.metrics.frameOut.inc(body?.case ?? 'empty');
    this.write(data);
  }

  private encode(id: number, body: Body): Uint8Array | string {
    if (this.encoding === 'proto') {
      // The frames of every message's path, written without building protobuf messages.
      if (body?.case === 'sendResult') {
        const v = body.value as { clientMessageId: string; chatId: string; seq: bigint; serverTime: bigint };
        return encodeSendResultBinary(id, v.clientMessageId, v.chatId, Number(v.seq), Number(v.serverTime));
      }
      if (body?.case === 'chatResult' || body?.case === 'chatList') {
        const fast = encodeChats(id, body);
        if (fast) return fast;
      }
      if (id === 0 && body?.case === 'welcome') return encodeWelcomeBinary(body.value as WelcomeInit);
      if (id === 0 && body?.case === 'receipt') return encodeReceiptBinary(body.value as ReceiptEventInit);
      if (id === 0 && body?.case === 'receipts') {
        return encodeReceiptBatchBinary((body.value as { receipts: ReceiptEventInit[] }).receipts);
      }
    }
    return encodeFrame(makeFrame({ id, body }), this.encoding);
  }

  /** Writes out whatever the current turn corked. */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.turnBytes = 0;
    (this.ws as unknown as { _socket?: RawSocket })._socket?.uncork();
  }

  /**
   * Frames written in one turn of the event loop leave in one writev: the socket is corked
   * at the first write and uncorked when the turn's work (commit batch, fan-out) is done.
   * A frame that finds more than the hard limit stuck in the send buffer (written in earlier
   * turns and not taken by the kernel) is not written: the client is not reading, and the
   * connection is closed (4009). So the buffer passes the limit by at most one turn's frames.
   * A payload of up to FRAME_COPY_LIMIT bytes (characters, for a JSON frame) is framed here
   * (ws-frame.ts) and written to the socket whole. `ws` is bypassed only for these data
   * frames: with no compression and no blobs it queues nothing of its own, so its writes
   * (larger frames, pings, the close) and these leave in the order they were made.
   */
  private write(data: Uint8Array | string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const stuck = this.ws.bufferedAmount - this.turnBytes;
    if (stuck > this.maxBuffered) {
      this.log.warn({ bufferedAmount: stuck }, 'send buffer full: slow consumer closed');
      this.close(CloseCodes.SLOW_CONSUMER, 'send buffer full');
      return;
    }
    const socket = (this.ws as unknown as { _socket?: RawSocket })._socket;
    const size = typeof data === 'string' ? data.length : data.byteLength;
    if (socket && !this.corked) {
      this.corked = true;
      socket.cork();
      if (corkedThisTurn.push(this) === 1) setImmediate(flushTurn);
    }
    if (socket && size <= FRAME_COPY_LIMIT) {
      const frame = frames.get(data, this.binary);
      this.turnBytes += frame.byteLength;
      socket.write(frame);
      return;
    }
    this.turnBytes += size;
    this.ws.send(data, { binary: this.binary });
  }

  private get binary(): boolean {
    return this.encoding === 'proto';
  }

  /** Something this connection's code did not expect: close it, log once, keep the process. */
  crash(err: unknown): void {
    if (this.crashed) return;
    this.crashed = true;
    this.log.error({ err }, 'connection handler failed: connection closed');
    try {
      this.close(CloseCodes.INTERNAL_ERROR, 'internal error');
    } catch {
      this.ws.terminate();
    }
  }

  /**
   * The socket closed (called by the shared listener above). Every step runs even if one
   * before it throws: a closed connection must leave the hub.
   */
  onClose(): void {
    const steps = [
      () => this.d.metrics.connections.dec(),
      () => this.session.close(),
      () => this.d.hub.unregister(this),
      () => this.d.presence.connectionClosed(this),
      () => this.d.touches.touch(this.deviceId),
    ];
    for (const step of steps) {
      try {
        step();
      } catch (err) {
        this.log.error({ err }, 'connection cleanup step failed');
      }
    }
  }
}
