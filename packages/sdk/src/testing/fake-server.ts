/**
 * An in-memory stand-in for a Parley node, for unit tests of the client: a
 * WebSocketFactory whose sockets are scripted by the test. Frames go through the real
 * codec, and every delivery is asynchronous, as over a network.
 */
import {
  decodeFrame,
  type Encoding,
  encodeFrame,
  type Frame,
  type FrameInit,
  makeFrame,
  type ParleyError,
  parseSubprotocol,
} from '@parley/protocol';
import type { SocketHandlers, SocketLike, SocketRequest, WebSocketFactory } from '../socket.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeConnection {
  readonly frames: Frame[] = [];
  closed = false;
  private readonly waiting: ((f: Frame) => void)[] = [];
  private encoding: Encoding = 'proto';
  /** When set, answers each request frame (return undefined to leave it unanswered). */
  responder: ((frame: Frame) => FrameInit['body'] | undefined) | undefined;

  constructor(
    readonly request: SocketRequest,
    private readonly handlers: SocketHandlers,
  ) {}

  readonly socket: SocketLike = {
    send: (data) => {
      const frame = decodeFrame(data, this.encoding);
      const waiter = this.waiting.shift();
      if (waiter) waiter(frame);
      else this.frames.push(frame);
      const body = this.responder?.(frame);
      if (body) this.push({ id: frame.id, body });
    },
    close: (code = 1005, reason = '') => {
      void tick().then(() => this.drop(code, reason));
    },
  };

  /** Completes the handshake and sends the welcome. */
  async accept(welcome: Record<string, unknown> = {}): Promise<void> {
    await tick();
    const protocol = this.request.protocols[0] ?? '';
    this.encoding = parseSubprotocol(protocol)?.encoding ?? 'proto';
    this.handlers.open(protocol);
    this.push({
      id: 0,
      body: {
        case: 'welcome',
        value: { protocolVersion: 1, supportedVersions: [1], userId: 'u1', deviceId: 'd1', ...welcome },
      },
    });
  }

  /** Sends a frame to the client (asynchronously). */
  push(init: FrameInit): void {
    const data = encodeFrame(makeFrame(init), this.encoding);
    void tick().then(() => {
      if (!this.closed) this.handlers.message(data);
    });
  }

  /** The next frame the client sends (already sent ones first). */
  nextFrame(): Promise<Frame> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** The server closes the socket (or the network drops it: code 1006). */
  drop(code = 1006, reason = '', refused?: ParleyError): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.close(code, reason, refused);
  }
}

export class FakeServer {
  readonly connections: FakeConnection[] = [];
  /** What happens to each new socket; default: accept with a welcome. */
  onConnect: (conn: FakeConnection) => void = (conn) => void conn.accept();
  private checks: (() => boolean)[] = [];

  readonly factory: WebSocketFactory = (request, handlers) => {
    const conn = new FakeConnection(request, handlers);
    this.connections.push(conn);
    this.onConnect(conn);
    this.checks = this.checks.filter((check) => !check());
    return conn.socket;
  };

  /** Resolves with connection number `n` (0-based) once the client has opened it. */
  connection(n: number): Promise<FakeConnection> {
    return new Promise((resolve) => {
      const check = () => {
        const conn = this.connections[n];
        if (conn) resolve(conn);
        return conn !== undefined;
      };
      if (!check()) this.checks.push(check);
    });
  }
}
