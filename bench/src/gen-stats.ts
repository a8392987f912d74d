/**
 * Per-process counters of a generator: sends, answers, unique deliveries and their delay
 * histogram, error frames and close codes, and (group mode) per-message fan-out progress.
 * `collect` hands over the window since the last call and starts a new one.
 */
import type { CollectResult, Counters } from './gen-types.js';
import { Hist } from './hist.js';
import type { PayloadHeader } from './payload.js';
import { nowMs } from './util.js';

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

export class WorkerStats {
  /** The current window; totals are added up when it is collected. */
  w: Counters = zero();
  private readonly total: Counters = zero();
  private hist = new Hist();
  private histIn = new Hist();
  private errors: Record<string, number> = {};
  private closes: Record<string, number> = {};
  /** Group mode: fan-out progress and send times of messages, by "sender:counter". */
  track = false;
  private fan = new Map<string, [number, number]>();
  private sentKeys: Array<[string, number]> = [];

  delivered(h: PayloadHeader, ms: number): void {
    this.hist.record(ms);
    if (!this.track) return;
    const key = `${h.sender}:${h.counter}`;
    const f = this.fan.get(key);
    if (f) {
      f[0]++;
      if (ms > f[1]) f[1] = ms;
    } else this.fan.set(key, [1, ms]);
  }

  /** The part of a delivery's delay before the server stamped the message. */
  stamped(ms: number): void {
    this.histIn.record(Math.max(0, ms));
  }

  sentMessage(sender: number, counter: number, at: number): void {
    if (this.track) this.sentKeys.push([`${sender}:${counter}`, at]);
  }

  error(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  close(code: number): void {
    this.closes[code] = (this.closes[code] ?? 0) + 1;
  }

  collect(open: number, outstanding: number): CollectResult {
    const window = this.w;
    for (const k of Object.keys(window) as Array<keyof Counters>) this.total[k] += window[k];
    this.w = zero();
    const out: CollectResult = {
      at: nowMs(),
      window,
      total: { ...this.total },
      open,
      outstanding,
      hist: this.hist.toJSON(),
      histIn: this.histIn.toJSON(),
      errorFrames: { ...this.errors },
      closes: { ...this.closes },
    };
    this.hist = new Hist();
    this.histIn = new Hist();
    if (this.track) {
      out.fan = [...this.fan].map(([k, [n, max]]) => [k, n, max]);
      out.sentKeys = this.sentKeys;
      this.fan = new Map();
      this.sentKeys = [];
    }
    return out;
  }
}
