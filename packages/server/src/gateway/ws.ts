/**
 * WebSocket edge: authenticates at upgrade (before any frame), negotiates the subprotocol,
 * runs heartbeats, decodes frames, answers every request exactly once and closes abusive
 * or dead connections. The upgrade request is not retained after the handshake.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  CloseCodes,
  type Encoding,
  ParleyError,
  parseSubprotocol,
  SUPPORTED_VERSIONS,
  subprotocolName,
} from '@parley/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Connection } from '../delivery/hub.js';
import type { Device } from '../ports/types.js';
import { toParleyError } from './errors.js';
import { HeartbeatRounds } from './heartbeat-rounds.js';
import { destroyOnError, writeHttpError } from './http-util.js';
import { type GatewayDeps, WsConnection } from './ws-connection.js';

export type { GatewayDeps } from './ws-connection.js';

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

/**
 * What the upgrade authenticates with: the Authorization header, else a one-use `?ticket=`
 * (browsers, auth/socket-tickets.ts), else the device token as `?token=`.
 */
function credential(req: IncomingMessage): { token?: string; ticket?: string } {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return { token: h.slice(7).trim() };
  const q = req.url?.indexOf('?') ?? -1;
  if (q < 0) return {};
  const query = new URLSearchParams(req.url!.slice(q + 1));
  const ticket = query.get('ticket');
  if (ticket !== null) return { ticket };
  return { token: query.get('token') ?? undefined };
}

export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly heartbeats: HeartbeatRounds<Connection>;
  private accepting = true;

  constructor(private readonly d: GatewayDeps) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: d.config.maxFrameBytes * 4,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => chooseSubprotocol(protocols) ?? false,
    });
    const hub = d.hub;
    this.heartbeats = new HeartbeatRounds(
      d.config.heartbeatMs,
      {
        get size() {
          return hub.size;
        },
        values: () => hub.all(),
      },
      (c, now) => this.beat(c as WsConnection, now),
    );
    this.heartbeats.start();
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', destroyOnError);
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
      const { token, ticket } = credential(req);
      const device =
        ticket === undefined
          ? await this.d.auth.authenticate(token)
          : await this.d.auth.authenticateTicket(ticket);
      // A bad ticket (unknown, expired, used) is answered exactly as a bad token.
      if (!device) throw new ParleyError('UNAUTHENTICATED', 'missing, invalid or revoked device token');
      const { encoding, version } = parseSubprotocol(chosen)!;
      // The 101 answer waits for the welcome (written in the same turn): one write, not two.
      socket.cork();
      try {
        this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, device, encoding, version));
      } finally {
        socket.uncork();
      }
    } catch (err) {
      writeHttpError(socket, toParleyError(err, this.d.log));
    }
  }

  private onConnection(ws: WebSocket, device: Device, encoding: Encoding, version: number): void {
    try {
      this.open(ws, device, encoding, version);
    } catch (err) {
      // Nothing a connection does may reach the process: this one is closed, the node goes on.
      this.d.log.error({ err, deviceId: device.id }, 'opening a connection failed');
      ws.close(CloseCodes.INTERNAL_ERROR, 'internal error');
      setTimeout(() => ws.terminate(), 2000).unref();
    }
  }

  private open(ws: WebSocket, device: Device, encoding: Encoding, version: number): void {
    const conn = new WsConnection(ws, device, encoding, version, this.d);
    this.d.metrics.connections.inc();
    const old = this.d.hub.register(conn);
    old?.close(CloseCodes.REPLACED, 'replaced by a newer connection of this device');
    conn.welcome();
    conn.session.start();
    this.d.presence.connectionOpened(conn);
    // Receipts that moved while this device was away (its last-seen time is from before this connect).
    this.d.receipts.catchUp(conn, device.lastSeenAt);
    this.d.touches.touch(device.id);
    this.d.keys.checkOnConnect(device);
    this.d.onConnected?.(device);
  }

  private beat(c: WsConnection, now: number): void {
    try {
      c.heartbeat(now);
    } catch (err) {
      this.d.log.error({ err, deviceId: c.deviceId }, 'heartbeat failed');
      c.close(CloseCodes.INTERNAL_ERROR, 'internal error');
    }
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
    this.heartbeats.stop();
    for (const c of [...this.d.hub.all()]) c.close(code, reason);
    this.wss.close();
  }
}
