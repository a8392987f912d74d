/**
 * One WebSocket's life: open with the offered subprotocols, require a `welcome` frame
 * first, then pass frames up. Invariant: `closed` is reported exactly once, either from
 * the socket or right away on `abort` (a socket presumed dead is not waited for).
 */
import {
  decodeFrame,
  type Encoding,
  encodeFrame,
  type Frame,
  type FrameInit,
  makeFrame,
  ParleyError,
  parseSubprotocol,
  SUPPORTED_VERSIONS,
  type Welcome,
} from '@parley/protocol';
import type { SocketLike, WebSocketFactory } from './socket.js';

export interface ClosedInfo {
  code: number;
  reason: string;
  /** Set when the server refused us or spoke a protocol we do not support. */
  refused?: ParleyError;
}

export interface ConnectionEvents {
  welcome(welcome: Welcome): void;
  /** Every frame after the welcome. */
  frame(frame: Frame): void;
  /** A frame that could not be decoded (it is skipped). */
  badFrame(err: ParleyError): void;
  closed(info: ClosedInfo): void;
}

export interface ConnectionParams {
  url: string;
  protocols: string[];
  token: string;
  encoding: Encoding;
}

/** Code used when the client gives up on a socket it presumes dead. */
export const CLIENT_ABORT_CODE = 4000;

export class Connection {
  private state: 'opening' | 'ready' | 'closed' = 'opening';
  private socket: SocketLike | undefined;

  constructor(
    private readonly params: ConnectionParams,
    private readonly events: ConnectionEvents,
  ) {}

  /** Opens the socket. Separate from the constructor so the owner holds the connection
   * before any event (a factory may report `close` synchronously). */
  start(factory: WebSocketFactory): void {
    const { url, protocols, token } = this.params;
    try {
      this.socket = factory(
        { url, protocols, token },
        {
          open: (protocol) => this.onOpen(protocol),
          message: (data) => this.onMessage(data),
          close: (code, reason, refused) => this.finish({ code, reason, refused }),
        },
      );
    } catch (err) {
      const refused = new ParleyError(
        'INVALID_ARGUMENT',
        `cannot open a WebSocket: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
      this.finish({ code: 1006, reason: 'socket factory failed', refused });
    }
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  send(init: FrameInit): void {
    if (this.state === 'closed' || !this.socket) return;
    this.socket.send(encodeFrame(makeFrame(init), this.params.encoding));
  }

  /** Starts a clean close; `closed` follows when the socket reports it. */
  close(code = 1000, reason = ''): void {
    if (this.state !== 'closed') this.socket?.close(code, reason);
  }

  /** Gives up on the socket now: `closed` is reported at once. */
  abort(reason: string, refused?: ParleyError): void {
    if (this.state === 'closed') return;
    this.socket?.close(CLIENT_ABORT_CODE, reason);
    this.finish({ code: CLIENT_ABORT_CODE, reason, refused });
  }

  private onOpen(protocol: string): void {
    const parsed = parseSubprotocol(protocol);
    if (!parsed || !this.params.protocols.includes(protocol) || parsed.encoding !== this.params.encoding) {
      const got = protocol === '' ? 'none' : protocol;
      this.abort(
        'subprotocol mismatch',
        new ParleyError('UNSUPPORTED_VERSION', `server chose subprotocol ${got}`),
      );
    }
  }

  private onMessage(data: string | Uint8Array): void {
    if (this.state === 'closed') return;
    let frame: Frame;
    try {
      frame = decodeFrame(data, this.params.encoding);
    } catch (err) {
      this.events.badFrame(err as ParleyError);
      return;
    }
    if (this.state === 'ready') {
      this.events.frame(frame);
      return;
    }
    if (frame.body.case !== 'welcome') {
      this.abort(
        'no welcome',
        new ParleyError('BAD_FRAME', `expected welcome, got ${frame.body.case ?? 'empty'}`),
      );
      return;
    }
    const welcome = frame.body.value;
    if (!SUPPORTED_VERSIONS.includes(welcome.protocolVersion)) {
      const msg = `server speaks protocol v${welcome.protocolVersion}, this SDK supports ${SUPPORTED_VERSIONS.join(', ')}`;
      this.abort('unsupported version', new ParleyError('UNSUPPORTED_VERSION', msg));
      return;
    }
    this.state = 'ready';
    this.events.welcome(welcome);
  }

  private finish(info: ClosedInfo): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.events.closed(info);
  }
}
