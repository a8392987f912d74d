/**
 * Measurement windows over a running load: sets the send rate across generator processes,
 * merges their collected counters and histograms, and pairs each window with the server's
 * and the generator's CPU over the same interval.
 */
import type { GenPool } from './gen-pool.js';
import type { CollectResult, Counters } from './gen-types.js';
import { Hist } from './hist.js';
import { machineBusySec, threadsCpuDelta, threadsCpuSec } from './proc.js';
import type { LoopSample, ServerHandle } from './server-proc.js';
import { nowMs } from './util.js';

export interface Window {
  from: number;
  to: number;
  sec: number;
  c: Counters;
  total: Counters;
  open: number;
  outstanding: number;
  hist: Hist;
  /** The part of each delivery's delay before the server stamped the message (client → server → commit). */
  histIn: Hist;
  errorFrames: Record<string, number>;
  closes: Record<string, number>;
  serverCpuSec: number;
  /** The server's CPU seconds in the window by thread role (`threadsCpuSec`). */
  serverThreadsCpuSec: Record<string, number>;
  genCpuSec: number;
  serverRssKiB: number;
  /** Share of the window the server's event loop was not idle (CPU or blocked, e.g. in fsync), %. */
  loopBusyPct: number;
  /** Longest event-loop delay of the server in the window, ms. */
  loopDelayMaxMs: number;
  /** Main-thread GC pause time in the window (ms) and the longest pause. */
  gcMs: number;
  gcMaxMs: number;
  /** CPU used meanwhile by everything but the server, the generators and this process, % of one core. */
  otherCpuPct: number;
  fan: Array<[string, number, number]>;
  sentKeys: Array<[string, number]>;
}

const add = (a: Counters, b: Counters) => {
  for (const k of Object.keys(b) as Array<keyof Counters>) a[k] += b[k];
};
const zero = (): Counters => ({
  sent: 0,
  acked: 0,
  sendErrors: 0,
  skipped: 0,
  received: 0,
  dupes: 0,
  deliverFrames: 0,
  receipts: 0,
});

export class Meter {
  private from = nowMs();
  private server0: number;
  private threads0: Record<string, number> | undefined;
  private gen0: number;
  private loop0: LoopSample | undefined;
  private machine0 = machineBusySec().busy;
  private self0 = process.cpuUsage();
  /** Called with every window collected (group mode feeds its fan-out tracker). */
  onWindow: ((w: Window) => void) | undefined;

  constructor(
    private readonly pool: GenPool,
    private readonly server: ServerHandle,
    /** Senders per generator process, to split a total rate. */
    private readonly senders: number[],
    private readonly payloadBytes: number,
    private readonly track = false,
  ) {
    this.server0 = server.sample()?.cpuSec ?? 0;
    this.threads0 = threadsCpuSec(server.pid);
    this.gen0 = pool.cpuSec();
  }

  async setRate(total: number): Promise<void> {
    const n = this.senders.reduce((a, b) => a + b, 0);
    await this.pool.all((i) => ({
      op: 'rate',
      rate: n ? (total * this.senders[i]!) / n : 0,
      payloadBytes: this.payloadBytes,
      track: this.track,
    }));
  }

  /** Collects from every generator: the window since the previous collect. */
  async window(): Promise<Window> {
    const [rs, loop] = await Promise.all([
      this.pool.all<CollectResult>({ op: 'collect' }),
      this.server.loop(),
    ]);
    const to = nowMs();
    const srv = this.server.sample();
    const threads = threadsCpuSec(this.server.pid);
    const l0 = this.loop0;
    const machine = machineBusySec().busy;
    const self = process.cpuUsage(this.self0);
    this.self0 = process.cpuUsage();
    const busy = loop && l0 ? loop.active - l0.active : Number.NaN;
    const all = loop && l0 ? busy + loop.idle - l0.idle : Number.NaN;
    const gen = this.pool.cpuSec();
    const w: Window = {
      from: this.from,
      to,
      sec: (to - this.from) / 1000,
      c: zero(),
      total: zero(),
      open: 0,
      outstanding: 0,
      hist: new Hist(),
      histIn: new Hist(),
      errorFrames: {},
      closes: {},
      serverCpuSec: (srv?.cpuSec ?? this.server0) - this.server0,
      serverThreadsCpuSec: threadsCpuDelta(this.threads0, threads),
      genCpuSec: gen - this.gen0,
      serverRssKiB: srv?.rssKiB ?? 0,
      loopBusyPct: all > 0 ? (100 * busy) / all : Number.NaN,
      loopDelayMaxMs: loop?.delayMaxMs ?? Number.NaN,
      gcMs: loop?.gcMs ?? Number.NaN,
      gcMaxMs: loop?.gcMaxMs ?? Number.NaN,
      otherCpuPct: 0,
      fan: [],
      sentKeys: [],
    };
    for (const r of rs) {
      add(w.c, r.window);
      add(w.total, r.total);
      w.open += r.open;
      w.outstanding += r.outstanding;
      w.hist.merge(r.hist);
      w.histIn.merge(r.histIn);
      for (const [k, v] of Object.entries(r.errorFrames)) w.errorFrames[k] = (w.errorFrames[k] ?? 0) + v;
      for (const [k, v] of Object.entries(r.closes)) w.closes[k] = (w.closes[k] ?? 0) + v;
      if (r.fan) w.fan.push(...r.fan);
      if (r.sentKeys) w.sentKeys.push(...r.sentKeys);
    }
    const other = machine - this.machine0 - w.serverCpuSec - w.genCpuSec - (self.user + self.system) / 1e6;
    w.otherCpuPct = Math.max(0, (100 * other) / w.sec);
    this.machine0 = machine;
    this.from = to;
    this.server0 = srv?.cpuSec ?? this.server0;
    this.threads0 = threads ?? this.threads0;
    this.gen0 = gen;
    this.loop0 = loop ?? this.loop0;
    this.onWindow?.(w);
    return w;
  }

  /** Stops sending and waits until nothing is outstanding and deliveries caught up with answers. */
  async settle(ms: number, perAck = 1): Promise<Window & { settled: boolean }> {
    await this.setRate(0);
    const end = Date.now() + ms;
    let w = await this.window();
    while (Date.now() < end && (w.outstanding > 0 || w.total.received < w.total.acked * perAck)) {
      await new Promise((r) => setTimeout(r, 200));
      w = await this.window();
    }
    return { ...w, settled: w.outstanding === 0 && w.total.received >= w.total.acked * perAck };
  }

  /** Several consecutive windows as one (counters and histograms added up). */
  static join(ws: readonly Window[]): Window {
    const last = ws[ws.length - 1]!;
    const j: Window = {
      ...last,
      from: ws[0]!.from,
      c: zero(),
      hist: new Hist(),
      histIn: new Hist(),
      fan: [],
      sentKeys: [],
    };
    j.sec = (j.to - j.from) / 1000;
    j.serverCpuSec = 0;
    j.serverThreadsCpuSec = {};
    j.genCpuSec = 0;
    j.loopBusyPct = ws.reduce((a, w) => a + w.loopBusyPct * w.sec, 0) / Math.max(1e-9, j.sec);
    j.loopDelayMaxMs = Math.max(...ws.map((w) => w.loopDelayMaxMs));
    j.gcMs = ws.reduce((a, w) => a + w.gcMs, 0);
    j.gcMaxMs = Math.max(...ws.map((w) => w.gcMaxMs));
    j.otherCpuPct = ws.reduce((a, w) => a + w.otherCpuPct * w.sec, 0) / Math.max(1e-9, j.sec);
    for (const w of ws) {
      add(j.c, w.c);
      j.hist.merge(w.hist.toJSON());
      j.histIn.merge(w.histIn.toJSON());
      j.serverCpuSec += w.serverCpuSec;
      for (const [k, v] of Object.entries(w.serverThreadsCpuSec)) {
        j.serverThreadsCpuSec[k] = (j.serverThreadsCpuSec[k] ?? 0) + v;
      }
      j.genCpuSec += w.genCpuSec;
      j.fan.push(...w.fan);
      j.sentKeys.push(...w.sentKeys);
    }
    return j;
  }
}

export function errorCount(w: Window): number {
  return Object.values(w.errorFrames).reduce((a, b) => a + b, 0);
}

export function describeCounts(r: Record<string, number>): string {
  const e = Object.entries(r);
  return e.length ? e.map(([k, v]) => `${k}×${v}`).join(', ') : 'none';
}
