/**
 * The report: machine, versions, git state and settings, then every figure with its target,
 * met/missed and the gap, CPU per scenario, and each scenario's tables, notes, server log
 * and profile summaries. Rendered as Markdown (also printed) and JSON.
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { PROTOCOL_VERSION } from '@parley/protocol';
import { loadConfig } from '@parley/server';
import Database from 'better-sqlite3';
import { loadAvg } from './proc.js';
import {
  benchAllocator,
  benchServerExtraSettings,
  benchServerFlags,
  benchServerSettings,
  type Sync,
} from './server-proc.js';
import type { Figure, Options, ScenarioResult } from './types.js';
import { fmt } from './util.js';

const sh = (cmd: string) => {
  try {
    return execSync(cmd, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return 'n/a';
  }
};

const pkgVersion = (name: string) => {
  try {
    // bench/dist/src → the repository's node_modules (workspace packages are linked there).
    const url = new URL(`../../../node_modules/${name}/package.json`, import.meta.url);
    return JSON.parse(readFileSync(url, 'utf8')).version as string;
  } catch {
    return 'n/a';
  }
};

export function machineInfo() {
  const db = new Database(':memory:');
  const sqlite = (db.prepare('select sqlite_version() v').get() as { v: string }).v;
  db.close();
  const dirty = sh('git status --porcelain -- packages proto');
  return {
    cpu: cpus()[0]?.model ?? 'n/a',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    ulimitN: sh('sh -c "ulimit -n"'),
    loadAvgAtStart: loadAvg(),
    gitCommit: sh('git rev-parse HEAD'),
    gitDirtyFiles: dirty === 'n/a' || dirty === '' ? 0 : dirty.split('\n').length,
    versions: {
      ws: pkgVersion('ws'),
      betterSqlite3: pkgVersion('better-sqlite3'),
      sqlite,
      server: pkgVersion('@parley/server'),
    },
  };
}

export type Machine = ReturnType<typeof machineInfo>;

export function serverSettings(sync: Sync, store?: string): Record<string, unknown> {
  const c = loadConfig({ overrides: { ...benchServerSettings(sync), dataDir: '<temp>' } as never });
  // The URL itself is not printed: it may carry a password.
  return { ...c, ...(store && { store: 'postgres (a fresh schema per server)' }) };
}

export function judge(f: Figure): { met: boolean | null; gap: string } {
  const t = f.target;
  if (!t) return { met: null, gap: '' };
  const v = f.value;
  if (v === null || !Number.isFinite(v))
    return { met: false, gap: v === null ? 'no value' : `value is ${fmt(v)}` };
  const met =
    t.op === '>=' ? v >= t.value : t.op === '<=' ? v <= t.value : t.op === '<' ? v < t.value : v === t.value;
  if (t.op === '==') return { met, gap: met ? '' : `off by ${fmt(v - t.value, f.digits ?? 0)}` };
  const pct = t.value ? ((v - t.value) / t.value) * 100 : 0;
  if (t.op === '>=')
    return {
      met,
      gap: met ? `+${fmt(pct, 0)}%` : v > 0 ? `${fmt(pct, 0)}% (needs ${fmt(t.value / v, 1)}×)` : '-100%',
    };
  return {
    met,
    gap: met ? `${fmt(-pct, 0)}% under` : `+${fmt(pct, 0)}% (${fmt(v / t.value, 1)}× the target)`,
  };
}

const row = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
const table = (head: readonly string[], rows: readonly (readonly string[])[]) =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

export function renderMarkdown(r: {
  startedAt: string;
  opts: Options;
  machine: Machine;
  results: ScenarioResult[];
  totalSec: number;
}): string {
  const { opts, machine: m } = r;
  const out: string[] = [];
  const kind = [
    opts.quick && 'quick smoke run, figures not meaningful',
    opts.profile && 'CPU-profiled run, figures skewed by the profiler',
    opts.allocProfile && 'allocation-sampled run, figures skewed by the sampler',
  ]
    .filter(Boolean)
    .join('; ');
  out.push(`# Parley benchmark, ${r.startedAt}${kind ? ` (${kind})` : ''}`, '');
  out.push(
    `Durability: **${opts.store ? 'PostgreSQL on this machine (synchronous_commit=on, a fresh schema per server)' : `SQLite synchronous=${opts.syncs.join(' and ')}`}**, the sender's sendResult only after commit (unsafeAckBeforeCommit=false). Encoding: **${opts.encoding === 'proto' ? `binary protobuf (parley.v${PROTOCOL_VERSION}.proto)` : `JSON (parley.v${PROTOCOL_VERSION}.json)`}**. Total time ${fmt(r.totalSec)} s.`,
    '',
  );
  out.push('## Machine', '');
  out.push(
    table(
      [
        'cpu',
        'cores',
        'memory',
        'kernel',
        'node',
        'ulimit -n',
        'load avg at start',
        'git commit',
        'versions',
      ],
      [
        [
          m.cpu,
          String(m.cores),
          `${m.memoryGiB} GiB`,
          m.kernel,
          m.node,
          m.ulimitN,
          m.loadAvgAtStart,
          `${m.gitCommit.slice(0, 12)}${m.gitDirtyFiles ? ` + ${m.gitDirtyFiles} uncommitted files in packages/` : ''}`,
          `@parley/server ${m.versions.server}, ws ${m.versions.ws}, better-sqlite3 ${m.versions.betterSqlite3}, SQLite ${m.versions.sqlite}`,
        ],
      ],
    ),
    '',
  );
  out.push('## Settings', '');
  for (const s of opts.syncs) {
    const c = serverSettings(s, opts.store);
    out.push(
      `Server${opts.store ? '' : ` (synchronous=${s})`}: ${Object.entries(c)
        .map(([k, v]) => `\`${k}=${v}\``)
        .join(', ')}`,
      '',
    );
  }
  out.push(`Server's memory allocator: ${benchAllocator().label}.`, '');
  const flags = benchServerFlags();
  if (flags.length > 0)
    out.push(`Server's Node flags (PARLEY_BENCH_SERVER_FLAGS): \`${flags.join(' ')}\`.`, '');
  const extra = Object.entries(benchServerExtraSettings());
  if (extra.length > 0)
    out.push(
      `Server settings of the run's own (PARLEY_BENCH_SERVER_SETTINGS): ${extra.map(([k, v]) => `\`${k}=${v}\``).join(', ')}.`,
      '',
    );
  out.push(
    'The server runs alone in a child process; generators are separate processes of lean clients (ws + @parley/protocol codec), each on its own loopback source address. CPU figures come from /proc/<pid>/stat (utime+stime).',
    '',
  );
  out.push('## Figures', '');
  // A node on PostgreSQL has no SQLite synchronous setting: its durability is the store's.
  const durability = (s: ScenarioResult) => (opts.store ? 'PostgreSQL' : s.sync);
  const figRows: string[][] = [];
  for (const s of r.results) {
    if (!s.ok) figRows.push([s.name, durability(s), 'scenario failed', s.error ?? '', '', 'missed', '']);
    for (const f of s.figures) {
      const j = judge(f);
      const t = f.target
        ? `${f.target.op} ${fmt(f.target.value, Number.isInteger(f.target.value) ? 0 : 2)}`
        : '';
      const met = j.met === null ? '' : j.met ? 'met' : '**missed**';
      figRows.push([
        s.name,
        durability(s),
        f.name,
        `${fmt(f.value, f.digits ?? 0)} ${f.unit}`.trim(),
        t,
        met,
        j.gap,
      ]);
    }
  }
  out.push(table(['scenario', 'durability', 'figure', 'value', 'target', 'met', 'gap'], figRows), '');
  out.push('## CPU (seconds, whole scenario including setup)', '');
  out.push(
    table(
      [
        'scenario',
        'durability',
        'wall s',
        'server CPU-s',
        'generator CPU-s',
        'coordinator CPU-s',
        'irq+softirq CPU-s (machine)',
        'everything else CPU-s',
      ],
      r.results.map((s) => [
        s.name,
        durability(s),
        fmt(s.cpu.wallSec, 1),
        fmt(s.cpu.serverSec, 2),
        fmt(s.cpu.genSec, 2),
        fmt(s.cpu.parentSec, 2),
        fmt(s.cpu.irqSec, 2),
        fmt(s.cpu.otherSec, 2),
      ]),
    ),
    '',
  );
  for (const s of r.results) {
    out.push(`## ${s.name} (${opts.store ? 'PostgreSQL' : `synchronous=${s.sync}`})`, '');
    if (s.error) out.push(`**Failed:** ${s.error}`, '');
    for (const t of s.tables) if (t.rows.length) out.push(`**${t.title}**`, '', table(t.head, t.rows), '');
    for (const n of s.notes) out.push(`- ${n}`);
    if (s.notes.length) out.push('');
    if (s.serverLog.length) {
      out.push(`Server log (${s.serverLog.length} warn/error lines; first 10):`, '', '```');
      out.push(...s.serverLog.slice(0, 10).map((l) => l.slice(0, 400)), '```', '');
    } else out.push('Server log: no warnings or errors.', '');
    for (const a of s.allocations ?? []) {
      out.push(
        `Allocations sampled on the server's main thread, \`${a.path}\` (${fmt(a.totalBytes / 2 ** 20, 1)} MiB in all, objects collected since included), top by bytes:`,
        '',
        table(
          ['MiB', '%', 'function', 'where'],
          a.top.map((t) => [fmt(t.bytes / 2 ** 20, 1), fmt(t.pct, 1), t.fn, t.where]),
        ),
        '',
      );
    }
    for (const p of s.profiles) {
      out.push(
        `CPU profile of the server's ${p.thread}, \`${p.path}\` (${fmt(p.totalMs)} ms busy, ${fmt(p.idleMs)} ms idle), top self time (% of busy):`,
        '',
      );
      out.push(
        table(
          ['self ms', '%', 'function', 'where'],
          p.top.map((t) => [fmt(t.selfMs, 1), fmt(t.pct, 1), t.fn, t.where]),
        ),
        '',
      );
    }
  }
  return out.join('\n');
}
