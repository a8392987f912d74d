/**
 * The rate ladder: runs the load at increasing fixed rates (warm-up, then a measured
 * window), stops at the first rate that fails the scenario's check, and tries once more
 * halfway between the last passing and the failing rate.
 */
import type { Meter, Window } from './meter.js';
import { fmt, sleep } from './util.js';

export interface StepCheck {
  ok: boolean;
  why: string;
  row: string[];
}

export interface LadderResult {
  best: number;
  steps: Array<{ rate: number; check: StepCheck; w: Window }>;
}

export async function ladder(o: {
  rates: number[];
  warmMs: number;
  measureMs: number;
  meter: Meter;
  check: (rate: number, w: Window) => Promise<StepCheck>;
  settleMs: number;
  say: (s: string) => void;
  unit: string;
}): Promise<LadderResult> {
  const steps: LadderResult['steps'] = [];
  let best = 0;
  const run = async (rate: number) => {
    await o.meter.setRate(rate);
    await sleep(o.warmMs);
    await o.meter.window();
    await sleep(o.measureMs);
    const w = await o.meter.window();
    const check = await o.check(rate, w);
    steps.push({ rate, check, w });
    o.say(`  ${fmt(rate)} ${o.unit}: ${check.ok ? 'ok' : `FAIL (${check.why})`}  ${check.row.join(' | ')}`);
    if (check.ok) best = Math.max(best, rate);
    return check.ok;
  };
  let failed: number | undefined;
  for (const rate of o.rates) {
    if (!(await run(rate))) {
      failed = rate;
      break;
    }
  }
  if (failed !== undefined && best > 0 && failed / best > 1.15) {
    await o.meter.settle(o.settleMs);
    await run(Math.round((best + failed) / 2));
  }
  await o.meter.settle(o.settleMs);
  return { best, steps };
}

/** Percentiles of plain numbers (Infinity allowed: messages that never completed). */
export function pctOf(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/**
 * Where the failing step spent its time: the server's CPU and event-loop busy share and the
 * generator's CPU, so a reader can tell a server limit from a generator (or machine) limit.
 */
export function bottleneckNote(l: LadderResult, per = 'message'): string {
  const fail = l.steps.find((s) => !s.check.ok);
  if (!fail) return 'No step failed: the highest step is a lower bound of the capacity.';
  const w = fail.w;
  const gen = (100 * w.genCpuSec) / w.sec;
  const srv = (100 * w.serverCpuSec) / w.sec;
  const parts = [
    `At the first failing step (${fmt(fail.rate)}/s) the server used ${fmt(srv)}% CPU with its event loop busy ${fmt(w.loopBusyPct)}% of the time, and the generator processes used ${fmt(gen)}% CPU in all (of 200% on 2 cores).`,
  ];
  if (w.loopBusyPct >= 90)
    parts.push(
      "The server's main thread was busy at least 90% of the time, so it is the server's limit (server CPU % counts all of its threads, including the SQLite worker).",
    );
  if (srv + gen >= 170)
    parts.push(
      `Server and generator together used most of the machine's 2 cores, so the ${per} rate is machine-bound here, not only server-bound.`,
    );
  if (gen >= 90 && gen > srv)
    parts.push(
      'The generator used more CPU than the server: the figure may be generator-bound on this machine.',
    );
  return parts.join(' ');
}
