/**
 * One HTTP/2 session per APNs origin, shared by every request (APNs wants long-lived
 * connections). A session that errors, closes or is sent GOAWAY is dropped and the next request
 * opens a new one; an idle session closes after a while. Each request has a hard time limit.
 */
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { NetworkError } from '../http.js';

export interface Http2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export class Http2Pool {
  private readonly sessions = new Map<string, ClientHttp2Session>();
  /** Why a session failed (ECONNREFUSED, a TLS error), for its streams' outcome. */
  private readonly failures = new WeakMap<ClientHttp2Session, string>();
  private closed = false;

  constructor(
    private readonly o: {
      /** Extra CA certificates (a local test server's). */
      ca?: string | Buffer;
      /** A session with no stream for this long closes. */
      idleMs?: number;
    } = {},
  ) {}

  request(
    origin: string,
    headers: OutgoingHttpHeaders,
    body: string,
    timeoutMs: number,
  ): Promise<Http2Answer> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new NetworkError('CLOSED', 'the provider is closed'));
        return;
      }
      let session: ClientHttp2Session;
      try {
        session = this.session(origin);
      } catch (e) {
        reject(new NetworkError((e as NodeJS.ErrnoException).code ?? 'ERROR', (e as Error).message));
        return;
      }
      let settled = false;
      const finish = (err: NetworkError | undefined, answer?: Http2Answer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
          reject(err);
        } else resolve(answer!);
      };
      let stream: ClientHttp2Stream;
      try {
        stream = session.request({ ':method': 'POST', ...headers });
      } catch {
        // The session is going away (GOAWAY not yet seen here): one more try on a new session.
        this.sessions.delete(origin);
        try {
          session = this.session(origin);
          stream = session.request({ ':method': 'POST', ...headers });
        } catch (e) {
          reject(new NetworkError((e as NodeJS.ErrnoException).code ?? 'ERROR', (e as Error).message));
          return;
        }
      }
      const timer = setTimeout(
        () => finish(new NetworkError('TIMEOUT', `no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      let status = 0;
      let answerHeaders: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('response', (h) => {
        status = Number(h[':status'] ?? 0);
        answerHeaders = h;
      });
      stream.on('data', (c: Buffer) => {
        if (size < 16_384) chunks.push(c.subarray(0, 16_384 - size));
        size += c.length;
      });
      stream.on('end', () =>
        status === 0
          ? finish(new NetworkError('ECLOSED', 'the stream ended without an answer'))
          : finish(undefined, {
              status,
              headers: answerHeaders,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
      );
      // A session that fails takes its streams down: they close, and the session's error names why.
      stream.on('close', () => {
        const code = this.failures.get(session) ?? 'ECLOSED';
        finish(new NetworkError(code, 'the stream closed without an answer'));
      });
      stream.on('error', (e: NodeJS.ErrnoException & { cause?: { code?: string } }) => {
        // A stream cancelled by its failing session carries the session's error as its cause.
        const code = e.cause?.code ?? this.failures.get(session) ?? e.code ?? 'ERROR';
        finish(new NetworkError(code, e.message));
      });
      stream.end(body);
    });
  }

  private session(origin: string): ClientHttp2Session {
    const existing = this.sessions.get(origin);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = connect(origin, { ...(this.o.ca !== undefined && { ca: this.o.ca }) });
    const drop = () => {
      if (this.sessions.get(origin) === session) this.sessions.delete(origin);
    };
    // GOAWAY: finish what is in flight on this session, start new requests on a new one.
    session.on('goaway', drop);
    session.on('close', drop);
    session.on('error', (e: NodeJS.ErrnoException) => {
      this.failures.set(session, e.code ?? 'ERROR');
      drop();
      session.destroy();
    });
    session.setTimeout(this.o.idleMs ?? 300_000, () => {
      drop();
      session.close();
    });
    this.sessions.set(origin, session);
    return session;
  }

  /** Open sessions (for tests: one per origin). */
  get size(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(
      all.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.closed || s.destroyed) return resolve();
            s.close(() => resolve());
            // Streams in flight end with an error and their sends with `retry`; do not wait on a dead peer.
            setTimeout(() => {
              s.destroy();
              resolve();
            }, 1000).unref();
          }),
      ),
    );
  }
}
