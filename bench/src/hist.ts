/**
 * Mergeable latency histogram: log-linear buckets of microseconds (64 per power of two,
 * under 1.6% relative error), serialisable as [bucket, count] pairs so generator processes
 * send histograms, not raw samples, and the parent merges them for percentiles.
 */

export type HistData = { buckets: Array<[number, number]>; n: number; max: number; sum: number };

const SUB = 64;

function bucketOf(us: number): number {
  if (us < 2 * SUB) return us;
  const e = 31 - Math.clz32(us);
  const shift = e - 6;
  const sub = us >>> shift; // 64..127
  return 2 * SUB + (shift - 1) * SUB + (sub - SUB);
}

/** The midpoint of a bucket, in microseconds. */
function bucketValue(bucket: number): number {
  if (bucket < 2 * SUB) return bucket;
  const shift = Math.floor((bucket - 2 * SUB) / SUB) + 1;
  const sub = ((bucket - 2 * SUB) % SUB) + SUB;
  return (sub + 0.5) * 2 ** shift;
}

export class Hist {
  private counts = new Map<number, number>();
  n = 0;
  max = 0;
  sum = 0;

  /** Records a latency in milliseconds (negative values, from clock noise, count as 0). */
  record(ms: number): void {
    const us = Math.min(2 ** 31 - 1, Math.max(0, Math.round(ms * 1000)));
    const b = bucketOf(us);
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
    this.n++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  merge(d: HistData): void {
    for (const [b, c] of d.buckets) this.counts.set(b, (this.counts.get(b) ?? 0) + c);
    this.n += d.n;
    this.sum += d.sum;
    if (d.max > this.max) this.max = d.max;
  }

  /** Percentile in milliseconds (p in 0..100); NaN when empty. */
  pct(p: number): number {
    if (this.n === 0) return Number.NaN;
    if (p >= 100) return this.max;
    const rank = Math.ceil((p / 100) * this.n);
    let seen = 0;
    for (const b of [...this.counts.keys()].sort((x, y) => x - y)) {
      seen += this.counts.get(b)!;
      if (seen >= rank) return Math.min(this.max, bucketValue(b) / 1000);
    }
    return this.max;
  }

  mean(): number {
    return this.n ? this.sum / this.n : Number.NaN;
  }

  toJSON(): HistData {
    return { buckets: [...this.counts], n: this.n, max: this.max, sum: this.sum };
  }

  static from(parts: readonly HistData[]): Hist {
    const h = new Hist();
    for (const p of parts) h.merge(p);
    return h;
  }

  reset(): void {
    this.counts.clear();
    this.n = 0;
    this.max = 0;
    this.sum = 0;
  }
}

/** The usual percentile set of a histogram, in ms. */
export function summary(h: Hist) {
  return {
    n: h.n,
    p50: h.pct(50),
    p95: h.pct(95),
    p99: h.pct(99),
    p999: h.pct(99.9),
    max: h.n ? h.max : Number.NaN,
  };
}
