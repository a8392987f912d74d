/**
 * WebSocket edge: authenticates at upgrade (before any frame), negotiates the subprotocol,
 * runs heartbeats, decodes frames, answers every request exactly once and closes abusive
 * or dead connections. The upgrade request is not retained after the handshake.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  CloseCodes,
  decodeFrame,
  type Encoding,
  encodeFrame,
  type Frame,
  type FrameInit,
  makeFrame,
  ParleyError,
  PROTOCOL_VERSION,
  parseSubprotocol,
  SUPPORTED_VERSIONS,
  subprotocolName,
} from '@parley/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AuthService } from '../auth/service.js';
import type { Config } from '../config/schema.js';
import type { AckFlusher } from '../delivery/ack-flusher.js';
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
import { encodeSendResultBinary } from './fast-codec.js';
import { decodeHotFrame } from './fast-decode.js';
import { writeHttpError } from './http-util.js';

export interface GatewayDeps {
  auth: AuthService;
  hub: Hub;
  store: Store;
  acks: AckFlusher;
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
}

const BAD_FRAME_LIMIT = 20;
const BAD_FRAME_WINDOW_MS = 60_000;

/** Picks the highest supported version in the encoding the client listed first. */
export function chooseSubprotocol(offered: Iterable<string>): string | undefined {
  let encoding: Encoding | undefined;
  let best = -1;
  for (const name of offered) {
    const p = parseSubprotocol(name);
    if (!p) continue;
    encoding ??= p.encoding;
    if (p.encoding === encoding && SUPPORTED_VERSIONS.includes(p.version) && p.version > best)
      best = p.version;
  }
  return encoding && best > 0 ? subprotocolName(best, encoding) : undefined;
}

function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  const q = req.url?.indexOf('?') ?? -1;
  if (q >= 0) return new URLSearchParams(req.url!.slice(q + 1)).get('token') ?? undefined;
  return undefined;
}

export class Gateway {
  private readonly wss: WebSocketServer;
  private heartbeat: NodeJS.Timeout | undefined;
  private accepting = true;

  constructor(private readonly d: GatewayDeps) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: d.config.maxFrameBytes * 4,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => chooseSubprotocol(protocols) ?? false,
    });
    this.heartbeat = setInterval(() => this.beat(), d.config.heartbeatMs);
    this.heartbeat.unref();
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      if (!this.accepting) throw new ParleyError('SHUTTING_DOWN', 'server is shutting down');
      const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
      const chosen = chooseSubprotocol(offered);
      if (!chosen) {
        throw new ParleyError(
          'UNSUPPORTED_VERSION',
          `offer one of: ${SUPPORTED_VERSIONS.map((v) => subprotocolName(v, 'proto')).join(', ')} (or .json)`,
        );
      }
      const device = await this.d.auth.authenticate(bearerToken(req));
      if (!device) throw new ParleyError('UNAUTHENTICATED', 'missing, invalid or revoked device token');
      const encoding = parseSubprotocol(chosen)!.encoding;
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, device, encoding));
    } catch (err) {
      writeHttpError(socket, toParleyError(err, this.d.log));
    }
  }

  private onConnection(ws: WebSocket, device: Device, encoding: Encoding): void {
    const conn = new WsConnection(ws, device, encoding, this.d);
    this.d.metrics.connections.inc();
    const old = this.d.hub.register(conn);
    old?.close(CloseCodes.REPLACED, 'replaced by a newer connection of this device');
    conn.welcome();
    conn.session.start();
    this.d.presence.connectionOpened(conn);
    // Receipts that moved while this device was away (its last-seen time is from before this connect).
    this.d.receipts
      .catchUp(conn, device.lastSeenAt)
      .catch((err) => this.d.log.error({ err }, 'receipt catch-up failed'));
    void this.d.store.deviceTouch(device.id, this.d.clock.now()).catch(() => {});
    this.d.keys.checkOnConnect(device).catch((err) => this.d.log.error({ err }, 'prekey check failed'));
  }

  private beat(): void {
    for (const c of this.d.hub.all()) (c as WsConnection).heartbeat();
  }

  /** Stops accepting connections; existing ones stay until closeAll. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Stops reading frames from every socket (shutdown: in-flight work finishes, nothing new starts). */
  pauseAll(): void {
    for (const c of this.d.hub.all()) (c as WsConnection).pause();
  }

  closeAll(code: number, reason: string): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const c of [...this.d.hub.all()]) c.close(code, reason);
    this.wss.close();
  }
}

class WsConnection implements Connection, DeliveryTransport {
  readonly deviceId;
  readonly userId;
  readonly session: DeliverySession;
  readonly openedAt = Date.now();
  /** Log lines of this connection carry its id, device and user (never content). */
  readonly log: Logger;
  private alive = true;
  private badFrames = 0;
  private corked = false;
  private badWindowStart = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly device: Device,
    readonly encoding: Encoding,
    private readonly d: GatewayDeps,
  ) {
    this.deviceId = device.id;
    this.userId = device.userId;
    this.log = d.log.child({
      connId: randomBytes(4).toString('hex'),
      deviceId: device.id,
      userId: device.userId,
    });
    this.log.info({ encoding }, 'connection opened');
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
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('close', (code) => {
      this.log.info({ code, seconds: Math.round((Date.now() - this.openedAt) / 1000) }, 'connection closed');
      this.onClose();
    });
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
  }

  welcome(): void {
    this.reply(0, {
      case: 'welcome',
      value: {
        protocolVersion: PROTOCOL_VERSION,
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

  heartbeat(): void {
    if (!this.alive) {
      this.log.info('heartbeat timeout: connection closed');
      // Tell a peer that only stopped answering pings why (4008), then cut the connection at
      // once: a dead peer would never complete the close handshake.
      this.session.close();
      this.ws.close(CloseCodes.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  pause(): void {
    this.ws.pause();
  }

  push(body: FrameInit['body']): void {
    this.reply(0, body);
  }

  sendMessages(messages: readonly StoredMessage[], backlog: boolean): void {
    this.d.metrics.framesOut.inc({ type: 'deliver' });
    this.write(this.d.encodeDeliver(messages, backlog, this.encoding));
  }

  sendEncoded(frame: Uint8Array | string): void {
    this.d.metrics.framesOut.inc({ type: 'deliver' });
    // Corked like every other write: measured, writing each shared frame at once made group
    // fan-out slower (receivers woke once per socket instead of once per batch).
    this.write(frame);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  close(code: number, reason: string): void {
    this.session.close();
    this.ws.close(code, reason);
    this.flush();
    // A socket paused for shutdown must read the peer's close reply to finish at once.
    this.ws.resume();
    // A peer that never answers the close handshake is cut off.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.alive = true;
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
    this.d.metrics.framesIn.inc({ type: frame.body.case ?? 'empty' });
    const isAck = frame.body.case === 'ack';
    if (frame.id === 0 && !isAck) {
      this.fail(0, new ParleyError('INVALID_ARGUMENT', 'requests need a non-zero id'));
      return;
    }
    this.d.dispatch(frame, { device: this.device, session: this.session, conn: this }).then(
      (body) => {
        if (frame.id !== 0 && body) this.reply(frame.id, body);
      },
      (err) => this.fail(frame.id, toParleyError(err, this.log.child({ requestId: frame.id }))),
    );
  }

  private fail(id: number, err: ParleyError): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.d.metrics.errors.inc({ code: err.code });
    this.reply(id, errorBody(err));
    if (['BAD_FRAME', 'UNKNOWN_TYPE', 'FRAME_TOO_LARGE', 'INVALID_ARGUMENT'].includes(err.code)) {
      const now = this.d.clock.now();
      if (now - this.badWindowStart > BAD_FRAME_WINDOW_MS) {
        this.badWindowStart = now;
        this.badFrames = 0;
      }
      if (++this.badFrames > BAD_FRAME_LIMIT) this.close(CloseCodes.POLICY, 'too many bad frames');
    }
  }

  private reply(id: number, body: FrameInit['body']): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.d.metrics.framesOut.inc({ type: body?.case ?? 'empty' });
    if (this.encoding === 'proto' && body?.case === 'sendResult') {
      const v = body.value as { clientMessageId: string; chatId: string; seq: bigint; serverTime: bigint };
      this.write(
        encodeSendResultBinary(id, v.clientMessageId, v.chatId, Number(v.seq), Number(v.serverTime)),
      );
      return;
    }
    this.write(encodeFrame(makeFrame({ id, body }), this.encoding));
  }

  /**
   * Frames written in one turn of the event loop leave in one writev: the socket is corked
   * at the first write and uncorked when the turn's work (commit batch, fan-out) is done.
   */
  /** Writes out whatever the current turn corked. */
  private flush(): void {
    if (!this.corked) return;
    this.corked = false;
    (this.ws as unknown as { _socket?: { uncork(): void } })._socket?.uncork();
  }

  private write(data: Uint8Array | string): void {
    if (!this.corked) {
      const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      if (socket) {
        this.corked = true;
        socket.cork();
        setImmediate(() => this.flush());
      }
    }
    this.ws.send(data, { binary: this.encoding === 'proto' });
  }

  private onClose(): void {
    this.d.metrics.connections.dec();
    this.session.close();
    this.d.hub.unregister(this);
    this.d.presence.connectionClosed(this);
    void this.d.store.deviceTouch(this.deviceId, this.d.clock.now()).catch(() => {});
  }
}
