/**
 * Accepting a TCP connection: the per-node cap, the PROXY header from a trusted balancer, then the
 * per-address cap on connections that are not (yet) an authenticated WebSocket. A refused
 * connection gets a 503 with `Connection: close` where the peer can still read one.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ParleyError } from '@parley/protocol';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { clientAddress, normalizeAddress, setPeer, TrustedProxies } from './client-address.js';
import { destroyOnError, refuseConnection } from './http-util.js';
import { parseProxyHeader } from './proxy-protocol.js';

/** Refusals are logged at most this often (with a count), so a flood does not flood the log. */
const REFUSAL_LOG_MS = 10_000;

/** The bytes after a PROXY header when there is none. */
const NOTHING = Buffer.alloc(0);

export class ConnectionGate {
  private total = 0;
  private readonly unauthenticated = new Map<string, number>();
  /** Sockets that count against their address's cap, with that address, until authenticated. */
  private readonly counted = new WeakMap<Duplex, string>();
  private readonly trusted: TrustedProxies;
  private refusedSinceLog = 0;
  private lastRefusalLog = 0;
  /**
   * Listeners shared by every socket (called with the socket as `this`): a node holding tens
   * of thousands of idle connections keeps no closure per connection for them.
   */
  private readonly onSocketClose: (this: Duplex) => void;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    if (config.proxyProtocol && config.trustedProxies.length === 0) {
      throw new ParleyError(
        'INVALID_ARGUMENT',
        'invalid setting proxyProtocol (--proxy-protocol / PARLEY_PROXY_PROTOCOL): it needs --trusted-proxies, the balancers that send the header',
      );
    }
    this.trusted = new TrustedProxies(config.trustedProxies);
    const gate = this;
    this.onSocketClose = function () {
      gate.total--;
      gate.uncount(this);
    };
  }

  /** Open connections on this node (refused ones included until they close). */
  get open(): number {
    return this.total;
  }

  /** Admits `socket`, then calls `serve` with the bytes that followed a PROXY header. */
  accept(socket: Socket, serve: (rest: Buffer) => void): void {
    this.total++;
    // 'close' comes once: `on` spares the wrapper `once` would allocate per socket.
    socket.on('close', this.onSocketClose);
    // Until the HTTP server takes the socket, its errors (a reset peer) are ours to swallow.
    socket.on('error', destroyOnError);
    if (this.total > this.config.maxConnections) {
      this.refuse(socket, 'this node has too many open connections');
      return;
    }
    const peer = normalizeAddress(socket.remoteAddress ?? 'unknown');
    if (!this.config.proxyProtocol) {
      this.admit(socket, peer, NOTHING, serve);
      return;
    }
    if (!this.trusted.has(peer)) {
      this.logRefusal('not from a trusted proxy (proxyProtocol is on)', peer);
      socket.destroy();
      return;
    }
    this.readProxyHeader(socket, (address, rest) => this.admit(socket, address, rest, serve));
  }

  /** The socket became an authenticated WebSocket: it no longer counts against its address. */
  authenticated(socket: Duplex): void {
    this.uncount(socket);
  }

  private admit(socket: Socket, address: string, rest: Buffer, serve: (rest: Buffer) => void): void {
    setPeer(socket, address, this.trusted);
    if (!this.countUnauthenticated(socket)) {
      this.refuse(socket, 'too many connections from this address');
      return;
    }
    socket.removeListener('error', destroyOnError);
    serve(rest);
  }

  private countUnauthenticated(socket: Socket): boolean {
    const address = clientAddress(socket);
    // A trusted proxy (an L7 proxy, a balancer's health checks) carries many clients: only the
    // node's total cap applies to it.
    if (this.trusted.has(address)) return true;
    const n = (this.unauthenticated.get(address) ?? 0) + 1;
    if (n > this.config.maxConnectionsPerIp) return false;
    this.unauthenticated.set(address, n);
    this.counted.set(socket, address);
    return true;
  }

  /** Takes `socket` off its address's count, once (authenticated, or closed before). */
  private uncount(socket: Duplex): void {
    const address = this.counted.get(socket);
    if (address === undefined) return;
    this.counted.delete(socket);
    const left = (this.unauthenticated.get(address) ?? 1) - 1;
    if (left > 0) this.unauthenticated.set(address, left);
    else this.unauthenticated.delete(address);
  }

  private readProxyHeader(socket: Socket, admit: (address: string, rest: Buffer) => void): void {
    let received: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      this.log.debug('connection closed: no PROXY header in time');
      socket.destroy();
    }, this.config.httpHeadersTimeoutMs);
    timer.unref();
    const onData = (chunk: Buffer) => {
      received = received.length ? Buffer.concat([received, chunk]) : chunk;
      const header = parseProxyHeader(received);
      if (header.state === 'incomplete') return;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      if (header.state === 'invalid') {
        this.logRefusal(header.reason, normalizeAddress(socket.remoteAddress ?? 'unknown'));
        socket.destroy();
        return;
      }
      admit(
        header.source ?? normalizeAddress(socket.remoteAddress ?? 'unknown'),
        received.subarray(header.length),
      );
    };
    const onClose = () => clearTimeout(timer);
    socket.on('data', onData);
    socket.once('close', onClose);
  }

  private refuse(socket: Socket, message: string): void {
    this.logRefusal(message, clientAddress(socket));
    refuseConnection(socket, new ParleyError('UNAVAILABLE', message));
  }

  private logRefusal(reason: string, peer: string): void {
    this.refusedSinceLog++;
    const now = Date.now();
    if (now - this.lastRefusalLog < REFUSAL_LOG_MS) return;
    this.log.warn({ reason, peer, refused: this.refusedSinceLog, open: this.total }, 'connections refused');
    this.refusedSinceLog = 0;
    this.lastRefusalLog = now;
  }
}
