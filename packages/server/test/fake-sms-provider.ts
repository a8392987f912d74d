/**
 * A local HTTP server standing in for an SMS provider: it records every request exactly as it
 * arrived (method, path, headers, body) and answers from a script, including never answering
 * (a provider that hangs) and dropping the connection.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Logger } from '../src/log.js';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() when the request arrived. */
  at: number;
}

export type FakeAnswer =
  | { status: number; body?: string; headers?: Record<string, string> }
  | 'hang'
  | 'drop';

export class FakeSmsProvider {
  readonly requests: SeenRequest[] = [];
  /** Answers for the coming requests in order; the last one repeats. */
  answers: FakeAnswer[] = [{ status: 200, body: '{}' }];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeSmsProvider> {
    let fake: FakeSmsProvider | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const f = fake!;
        f.requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: performance.now(),
        });
        const answer = f.answers[Math.min(f.requests.length - 1, f.answers.length - 1)]!;
        if (answer === 'hang') return;
        if (answer === 'drop') {
          req.socket.destroy();
          return;
        }
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeSmsProvider(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return fake;
  }

  /** The one request seen, failing when there were more or none. */
  only(): SeenRequest {
    if (this.requests.length !== 1) throw new Error(`expected 1 request, saw ${this.requests.length}`);
    return this.requests[0]!;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A logger whose JSON lines are kept in `lines`, at every level. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'trace', base: undefined }, { write: (line: string) => void lines.push(line) });
  return { log, lines };
}
