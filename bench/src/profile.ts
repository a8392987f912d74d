/**
 * Summarises a V8 .cpuprofile (from --cpu-prof): self time per function, from the sample
 * list and its time deltas, aggregated by function name and location, top N first.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { ProfileSummary } from './types.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** A call frame's place: a package path for dependencies, else relative to the working directory. */
export function where(url: string, line: number): string {
  if (!url) return '';
  let p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) p = p.slice(nm + 'node_modules/'.length);
  else if (p.startsWith('/')) p = relative(process.cwd(), p);
  return `${p}:${line + 1}`;
}

export function summariseProfile(path: string, top = 15): ProfileSummary {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  if (prof.samples && prof.timeDeltas) {
    // timeDeltas[i] is the time before sample i; attribute each interval to the next sample.
    for (let i = 0; i < prof.samples.length; i++) {
      const dt = prof.timeDeltas[i + 1] ?? 0;
      selfUs.set(prof.samples[i]!, (selfUs.get(prof.samples[i]!) ?? 0) + Math.max(0, dt));
    }
  } else {
    const interval =
      (prof.endTime - prof.startTime) /
      Math.max(
        1,
        prof.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0),
      );
    for (const n of prof.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * interval);
  }
  const agg = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const fn = n.callFrame.functionName || '(anonymous)';
    // Idle time is not work: it is reported apart and left out of the ranking.
    if (fn === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const w = where(n.callFrame.url, n.callFrame.lineNumber);
    const key = `${fn}@${w}`;
    const a = agg.get(key) ?? { fn, where: w, us: 0 };
    a.us += us;
    agg.set(key, a);
  }
  const rows = [...agg.values()].sort((a, b) => b.us - a.us).slice(0, top);
  // --cpu-prof names files CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is main.
  const tid = path.split('/').pop()!.split('.')[4];
  return {
    thread: tid === '0' ? 'main thread' : `worker thread ${tid}`,
    path: relative(process.cwd(), path),
    totalMs: total / 1000,
    idleMs: idle / 1000,
    top: rows.map((r) => ({
      fn: r.fn,
      where: r.where,
      selfMs: r.us / 1000,
      pct: total ? (100 * r.us) / total : 0,
    })),
  };
}
