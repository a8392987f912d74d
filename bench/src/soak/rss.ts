/**
 * The node's memory check. RSS starts over at every restart, so growth is measured inside one
 * life of the process, like with like: in the longest restart-free stretch of sending, after
 * that life's warm-up, the median RSS of the stretch's last third is compared with the median
 * of its first third (thirds, not instants: garbage collection and malloc trimming move RSS by
 * tens of MiB within seconds). Samples taken after sending stopped (the drain) are left out.
 */
import { median } from '../util.js';
import type { Life } from './node-proc.js';

/** The shortest stretch after warm-up that is measured. */
export const RSS_MIN_STRETCH_MS = 45_000;

/** How long after warm-up the soak's last life runs without a restart. */
export function rssTailMs(durationMs: number): number {
  return Math.min(180_000, Math.max(60_000, durationMs / 3));
}

export interface LifeRss {
  index: number;
  /** Length of the compared stretch (after warm-up, until the life or the sending ended). */
  windowMs: number;
  startKiB: number;
  endKiB: number;
  peakKiB: number;
  growth: number;
  /** The JS heap in use at the same two ends (from /metrics), when sampled. */
  heapStartKiB: number;
  heapEndKiB: number;
}

/** Each life's growth over its post-warm-up stretch; undefined when the stretch is too short. */
export function lifeGrowth(life: Life, warmupMs: number, sendingEndedAt: number): LifeRss | undefined {
  const endT = Math.min(life.endedAt ?? Number.POSITIVE_INFINITY, sendingEndedAt) - life.startedAt;
  const samples = life.rss.filter(([t]) => t >= warmupMs && t <= endT);
  if (samples.length === 0) return undefined;
  const first = samples[0]![0];
  const last = samples.at(-1)![0];
  if (last - first < RSS_MIN_STRETCH_MS) return undefined;
  const third = (last - first) / 3;
  const edges = (xs: Array<[number, number]>) => [
    median(xs.filter(([t]) => t >= first && t <= first + third).map(([, k]) => k)),
    median(xs.filter(([t]) => t >= last - third && t <= last).map(([, k]) => k)),
  ];
  const [startKiB = 0, endKiB = 0] = edges(samples);
  const [heapStartKiB = Number.NaN, heapEndKiB = Number.NaN] = edges(life.heap);
  return {
    index: life.index,
    windowMs: last - first,
    startKiB,
    endKiB,
    peakKiB: Math.max(...life.rss.map(([, k]) => k)),
    growth: endKiB / startKiB - 1,
    heapStartKiB,
    heapEndKiB,
  };
}

/** The life with the longest measurable stretch, and every measurable life. */
export function rssVerdict(lives: readonly Life[], warmupMs: number, sendingEndedAt: number) {
  const measured = lives
    .map((l) => lifeGrowth(l, warmupMs, sendingEndedAt))
    .filter((x): x is LifeRss => x !== undefined);
  const longest = measured.reduce<LifeRss | undefined>(
    (best, x) => (best === undefined || x.windowMs > best.windowMs ? x : best),
    undefined,
  );
  return { longest, measured };
}
