/**
 * A fault-injecting TCP proxy on 127.0.0.1 between the soak's devices and the node. Faults
 * that TCP allows: every chunk is held back by a random delay (order kept per direction), a
 * direction now and then stalls for a few seconds, and each connection is cut (both sockets
 * destroyed, half of them with a reset) after a random time. The upstream port follows the
 * node across restarts; while the node is down, new connections are closed at once.
 * `calm()` ends the faults (no more cuts, stalls or delay) so a run can drain.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface ProxyFaults {
  cutMs: [number, number];
  jitterMs: number;
  /** Mean time between stalls of one connection, and the longest stall. */
  stallEveryMs: number;
  stallMaxMs: number;
}

export interface ProxyStats {
  connections: number;
  open: number;
  cuts: number;
  stalls: number;
  refused: number;
}

/** One direction of a proxied connection: chunks leave in order, each after its delay. */
class Pipe {
  private readonly queue: Array<{ at: number; data: Buffer }> = [];
  private timer: NodeJS.Timeout | undefined;
  private stalledUntil = 0;

  constructor(
    private readonly to: Socket,
    private readonly proxy: FaultProxy,
  ) {}

  push(data: Buffer): void {
    const last = this.queue.at(-1)?.at ?? 0;
    const at = Math.max(last, Date.now() + this.proxy.jitter(), this.stalledUntil);
    this.queue.push({ at, data });
    this.schedule();
  }

  stall(ms: number): void {
    this.stalledUntil = Date.now() + ms;
    for (const q of this.queue) q.at = Math.max(q.at, this.stalledUntil);
    this.schedule();
  }

  /** Sends everything queued now (faults are over). */
  release(): void {
    this.stalledUntil = 0;
    for (const q of this.queue) q.at = 0;
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    const head = this.queue[0];
    if (!head) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, head.at - Date.now()));
  }

  private flush(): void {
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      const { data } = this.queue.shift()!;
      if (!this.to.destroyed) this.to.write(data);
    }
    this.schedule();
  }
}

export class FaultProxy {
  readonly stats: ProxyStats = { connections: 0, open: 0, cuts: 0, stalls: 0, refused: 0 };
  private server: Server | undefined;
  private upstreamPort: number | undefined;
  private calmed = false;
  private readonly live = new Set<{ pipes: Pipe[]; timers: NodeJS.Timeout[] }>();

  constructor(
    private readonly faults: ProxyFaults,
    private readonly random: () => number,
  ) {}

  /** Listens on 127.0.0.1 (a free port); resolves with the port. */
  async listen(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('proxy: no port');
    return addr.port;
  }

  /** Where new connections go; undefined while the node is down. */
  setUpstream(port: number | undefined): void {
    this.upstreamPort = port;
  }

  jitter(): number {
    return this.calmed ? 0 : this.random() * this.faults.jitterMs;
  }

  /** No more faults: pending data goes out now, no connection is cut or stalled from here on. */
  calm(): void {
    this.calmed = true;
    for (const c of this.live) {
      for (const t of c.timers) clearTimeout(t);
      for (const p of c.pipes) p.release();
    }
  }

  async close(): Promise<void> {
    for (const c of this.live) for (const t of c.timers) clearTimeout(t);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private between(range: [number, number]): number {
    return range[0] + this.random() * (range[1] - range[0]);
  }

  private accept(client: Socket): void {
    this.stats.connections++;
    const port = this.upstreamPort;
    if (port === undefined) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = connect(port, '127.0.0.1');
    upstream.setNoDelay(true);
    const up = new Pipe(upstream, this);
    const down = new Pipe(client, this);
    const conn = { pipes: [up, down], timers: [] as NodeJS.Timeout[] };
    this.live.add(conn);
    this.stats.open++;
    let closed = false;
    const close = (reset: boolean) => {
      if (closed) return;
      closed = true;
      this.stats.open--;
      this.live.delete(conn);
      for (const t of conn.timers) clearTimeout(t);
      up.stop();
      down.stop();
      if (reset) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      } else {
        client.destroy();
        upstream.destroy();
      }
    };
    client.on('data', (d: Buffer) => up.push(d));
    upstream.on('data', (d: Buffer) => down.push(d));
    for (const s of [client, upstream]) {
      s.on('error', () => close(false));
      s.on('close', () => close(false));
    }
    upstream.on('error', () => {
      if (!upstream.remoteAddress) this.stats.refused++;
    });
    if (this.calmed) return;
    conn.timers.push(
      setTimeout(() => {
        this.stats.cuts++;
        close(this.random() < 0.5);
      }, this.between(this.faults.cutMs)),
    );
    const stallLater = () => {
      const t = setTimeout(
        () => {
          if (closed || this.calmed) return;
          this.stats.stalls++;
          (this.random() < 0.5 ? up : down).stall(this.random() * this.faults.stallMaxMs);
          stallLater();
        },
        this.random() * 2 * this.faults.stallEveryMs,
      );
      conn.timers.push(t);
    };
    stallLater();
  }
}
