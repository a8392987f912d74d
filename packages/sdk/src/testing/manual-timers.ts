/**
 * Timers moved by hand, for tests of the SDK's clock-driven parts (typing, expiry):
 * `advance` runs every timer that comes due in order, at its own time, including timers
 * set while advancing.
 */
import type { Timers } from '../typing.js';

export class ManualTimers implements Timers {
  readonly due = new Map<number, { at: number; fn: () => void; ms: number }>();
  private seq = 0;

  constructor(public t = 1_000_000) {}

  now = (): number => this.t;

  setTimeout(fn: () => void, ms: number): unknown {
    this.due.set(++this.seq, { at: this.t + ms, fn, ms });
    return this.seq;
  }

  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }

  /** Timers set and not yet run or cleared. */
  get timers(): number {
    return this.due.size;
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.due].sort((a, b) => a[1].at - b[1].at)[0];
      if (!next || next[1].at > end) break;
      this.due.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }
}
