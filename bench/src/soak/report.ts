/** The soak's final report: the figures of the run, then PASS/FAIL per check. */
import { fmt } from '../util.js';
import type { SoakChat } from './fleet.js';
import type { Life } from './node-proc.js';
import type { SoakOptions } from './options.js';
import type { ProxyStats } from './proxy.js';
import { RSS_MIN_STRETCH_MS, rssVerdict } from './rss.js';
import type { WorkerCounts } from './worker.js';

export interface RunFacts {
  options: SoakOptions;
  chats: SoakChat[];
  restarts: { SIGTERM: number; SIGKILL: number };
  unexpectedExits: number;
  chattingMs: number;
  drainMs: number;
  lives: Life[];
  proxy: ProxyStats;
  sendingEndedAt: number;
  final: WorkerCounts | undefined;
  problems: string[];
}

const secs = (ms: number) => `${fmt(ms / 1000)} s`;
const mib = (kib: number) => `${fmt(kib / 1024, 1)} MiB`;

export function formatReport(f: RunFacts, totalMs: number): { text: string; ok: boolean } {
  const o = f.options;
  const c = f.final;
  const out = ['', '━━━━ soak report ━━━━'];
  const groups = f.chats.filter((x) => x.kind === 'group').length;
  out.push(
    `run: ${secs(f.chattingMs)} chatting + ${secs(f.drainMs)} drain (${secs(totalMs)} in all); ${o.devices} devices ` +
      `in ${f.chats.length - groups} 1:1 chats and ${groups} groups; ${o.rate} msg/s asked; seed ${o.seed}`,
  );
  if (c) {
    const refused = Object.entries(c.refused).map(([k, v]) => `${k} ${v}`);
    out.push(
      `messages: sent ${fmt(c.sent)}, acked ${fmt(c.acked)}, refused ${refused.length ? refused.join(', ') : 0}, ` +
        `unanswered ${fmt(c.pending)}; shown ${fmt(c.shown)} of ${fmt(c.expected)} expected deliveries; ` +
        `raw duplicates dropped by the SDK ${fmt(c.rawDuplicates)}; disconnects seen by clients ${fmt(c.disconnects)}`,
    );
  }
  const p = f.proxy;
  out.push(
    `faults: ${fmt(p.connections)} connections, ${fmt(p.cuts)} cut, ${fmt(p.stalls)} stalls, ` +
      `${fmt(p.refused)} refused while the node was down; restarts: ${f.restarts.SIGTERM} SIGTERM, ` +
      `${f.restarts.SIGKILL} SIGKILL; the node exited on its own ${f.unexpectedExits} times`,
  );
  const rss = rssVerdict(f.lives, o.warmupMs, f.sendingEndedAt);
  for (const l of f.lives) {
    const m = rss.measured.find((x) => x.index === l.index);
    const how = l.endedBy
      ? `${l.endedBy} → ${l.exitCode ?? l.exitSignal}${l.forced ? ' (forced)' : ''}`
      : 'running';
    const life = `  node life #${l.index} pid ${l.pid}: ${secs((l.endedAt ?? Date.now()) - l.startedAt)}, ended ${how}`;
    out.push(
      m
        ? `${life}; RSS ${mib(m.startKiB)} → ${mib(m.endKiB)} (${pct(m.growth)}) over ${secs(m.windowMs)}, peak ${mib(m.peakKiB)}; JS heap used ${mib(m.heapStartKiB)} → ${mib(m.heapEndKiB)}`
        : `${life}; RSS not measured (too short)`,
    );
  }
  for (const l of f.lives) out.push(`    RSS of life #${l.index} every 15 s (MiB): ${rssSeries(l)}`);
  for (const x of f.problems) out.push(`problem: ${x}`);

  const checks: Array<[boolean, string]> = [];
  if (!c) {
    checks.push([false, 'the run finished and the client processes reported']);
  } else {
    checks.push([
      c.lost === 0,
      `no acked message lost: ${fmt(c.lost)} of ${fmt(c.expected)} (message, recipient) pairs missing` +
        (c.lost ? ` in ${fmt(c.lostMessages)} messages, e.g. ${c.lostExamples!.slice(0, 3).join('; ')}` : ''),
    ]);
    checks.push([
      c.shownTwice === 0,
      `no duplicate shown: ${fmt(c.shownTwice)} after the SDK's dedupe (raw duplicates it removed: ${fmt(c.rawDuplicates)})`,
    ]);
    checks.push([
      c.outOfOrder === 0 && c.seqMismatch === 0 && c.corrupt === 0,
      `per-chat order: ${fmt(c.outOfOrder)} shown out of seq order, ${fmt(c.seqMismatch)} with a seq other than ` +
        `the sender's ack, ${fmt(c.corrupt)} corrupt payloads`,
    ]);
    const refused = Object.values(c.refused).reduce((a, b) => a + b, 0);
    checks.push([
      c.sent > 0 && c.acked === c.sent && refused === 0 && c.pending === 0,
      `every send acked once the faults stopped: ${fmt(c.acked)} of ${fmt(c.sent)} (${fmt(refused)} refused, ${fmt(c.pending)} unanswered)`,
    ]);
  }
  const growthOk = rss.longest !== undefined && rss.longest.growth <= o.maxRssGrowth;
  checks.push([
    growthOk,
    rss.longest
      ? `node RSS growth ${pct(rss.longest.growth)} ${growthOk ? '≤' : '>'} ${pct(o.maxRssGrowth)} in the longest restart-free stretch ` +
        `(life #${rss.longest.index}, ${secs(rss.longest.windowMs)} after a ${secs(o.warmupMs)} warm-up: ` +
        `${mib(rss.longest.startKiB)} → ${mib(rss.longest.endKiB)}, medians of its first and last thirds)`
      : `node RSS growth: no life ran ${secs(o.warmupMs + RSS_MIN_STRETCH_MS)} (warm-up + 45 s) without a restart; ` +
        `lengthen --restart or --duration`,
  ]);
  const termed = f.lives.filter((l) => l.endedBy === 'SIGTERM' || l.endedBy === 'end');
  const clean = termed.filter((l) => l.exitCode === 0 && !l.forced).length;
  checks.push([
    clean === termed.length && f.unexpectedExits === 0,
    `graceful stops: ${clean} of ${termed.length} SIGTERMs exited 0 in time; ${f.unexpectedExits} exits on its own`,
  ]);
  if (f.problems.length > 0) checks.push([false, `the run had problems (listed above)`]);
  out.push('checks:');
  for (const [pass, text] of checks) out.push(`  ${pass ? 'PASS' : 'FAIL'}  ${text}`);
  const ok = checks.every(([pass]) => pass);
  out.push(
    ok ? 'soak result: PASS' : `soak result: FAIL (${checks.filter(([x]) => !x).length} checks failed)`,
  );
  return { text: out.join('\n'), ok };
}

function pct(x: number): string {
  return `${x >= 0 ? '+' : ''}${fmt(x * 100, 1)}%`;
}

/** The life's RSS, one sample per 15 s, in MiB. */
export function rssSeries(life: Life): string {
  const out: number[] = [];
  let next = 0;
  for (const [t, kib] of life.rss) {
    if (t < next) continue;
    out.push(Math.round(kib / 1024));
    next = t + 15_000;
  }
  return out.join(' ');
}
