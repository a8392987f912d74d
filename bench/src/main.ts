/**
 * `npm run bench -- [scenario...] [--quick] [--json] [--profile] [--alloc-profile] [--sync FULL|NORMAL|both]
 *   [--store postgres://…] [--devices N] [--send-rate N]`:
 * runs the scenarios in order, each under a hard deadline with cleanup, then writes the
 * Markdown + JSON report to bench/reports/ and prints the Markdown.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summariseAllocations } from './alloc-profile.js';
import { machineBusySec } from './proc.js';
import { summariseProfile } from './profile.js';
import { machineInfo, renderMarkdown } from './report.js';
import { Rig } from './rig.js';
import { createChats } from './scenarios/create-chats.js';
import { direct, directSparse } from './scenarios/direct.js';
import { group } from './scenarios/group.js';
import { idle } from './scenarios/idle.js';
import { media } from './scenarios/media.js';
import { offlineSync } from './scenarios/offline-sync.js';
import { push } from './scenarios/push.js';
import { reconnectStorm } from './scenarios/reconnect-storm.js';
import { restart } from './scenarios/restart.js';
import type { Sync } from './server-proc.js';
import type { Options, ScenarioOutput, ScenarioResult } from './types.js';
import { sleep, withDeadline } from './util.js';

/** Scenarios in run order, with their hard deadlines (full run; quick runs get 60 s each). */
const SCENARIOS: Record<string, { run: (rig: Rig) => Promise<ScenarioOutput>; deadlineSec: number }> = {
  idle: { run: idle, deadlineSec: 200 },
  direct: { run: direct, deadlineSec: 1200 },
  'direct-sparse': { run: directSparse, deadlineSec: 280 },
  group: { run: group, deadlineSec: 900 },
  'offline-sync': { run: offlineSync, deadlineSec: 60 },
  'reconnect-storm': { run: reconnectStorm, deadlineSec: 150 },
  restart: { run: restart, deadlineSec: 600 },
  'create-chats': { run: createChats, deadlineSec: 300 },
  push: { run: push, deadlineSec: 900 },
  media: { run: media, deadlineSec: 600 },
};

const USAGE = `usage: npm run bench -- [${Object.keys(SCENARIOS).join('|')} ...] [--quick] [--json] [--profile] [--alloc-profile] [--sync FULL|NORMAL|both] [--store postgres://…] [--rates N,N,…] [--hold SECONDS] [--devices N] [--send-rate N]`;

export function parseArgs(argv: string[]): Options {
  const o: Options = { scenarios: [], quick: false, encoding: 'proto', profile: false, syncs: ['FULL'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') o.quick = true;
    else if (a === '--json') o.encoding = 'json';
    else if (a === '--profile') o.profile = true;
    else if (a === '--alloc-profile') o.allocProfile = true;
    else if (a === '--sync' || a.startsWith('--sync=')) {
      const v = (a.includes('=') ? a.split('=')[1] : argv[++i])?.toUpperCase();
      if (v === 'BOTH') o.syncs = ['FULL', 'NORMAL'];
      else if (v === 'FULL' || v === 'NORMAL') o.syncs = [v];
      else throw new Error(`--sync takes FULL, NORMAL or both\n${USAGE}`);
    } else if (a === '--store' || a.startsWith('--store=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!v || !/^postgres(ql)?:\/\/.+/.test(v))
        throw new Error(`--store takes a postgres:// URL\n${USAGE}`);
      o.store = v;
    } else if (a === '--rates' || a.startsWith('--rates=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const rates = (v ?? '').split(',').map(Number);
      if (!v || rates.some((r) => !Number.isInteger(r) || r <= 0))
        throw new Error(`--rates takes positive whole numbers separated by commas\n${USAGE}`);
      o.rates = rates;
    } else if (a === '--hold' || a.startsWith('--hold=')) {
      const v = Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > 3600)
        throw new Error(`--hold takes whole seconds from 1 to 3600\n${USAGE}`);
      o.holdSec = v;
    } else if (a === '--devices' || a.startsWith('--devices=')) {
      const v = Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > 100_000)
        throw new Error(`--devices takes a whole number from 1 to 100000 (push)\n${USAGE}`);
      o.devices = v;
    } else if (a === '--send-rate' || a.startsWith('--send-rate=')) {
      const v = Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > 1_000_000)
        throw new Error(`--send-rate takes messages per second from 1 to 1000000 (push)\n${USAGE}`);
      o.sendRate = v;
    } else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else if (SCENARIOS[a]) o.scenarios.push(a);
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (o.scenarios.length === 0) o.scenarios = Object.keys(SCENARIOS);
  return o;
}

const reportsDir = fileURLToPath(new URL('../../reports/', import.meta.url));

/**
 * On a shared machine, waits (at most `maxMs`) until other processes use under 30% of a
 * core for 2 s in a row, so they disturb the measurement less; returns the wait and load.
 */
async function awaitQuiet(maxMs: number): Promise<{ waitedSec: number; otherPct: number }> {
  const t0 = performance.now();
  let quiet = 0;
  let pct = 0;
  while (performance.now() - t0 < maxMs) {
    const b0 = machineBusySec().busy;
    const s0 = process.cpuUsage();
    await sleep(1000);
    const self = process.cpuUsage(s0);
    pct = 100 * (machineBusySec().busy - b0 - (self.user + self.system) / 1e6);
    quiet = pct < 30 ? quiet + 1 : 0;
    if (quiet >= 2) break;
  }
  return { waitedSec: (performance.now() - t0) / 1000, otherPct: pct };
}

async function runOne(name: string, sync: Sync, opts: Options): Promise<ScenarioResult> {
  const def = SCENARIOS[name]!;
  const say = (s: string) => process.stderr.write(`${s}\n`);
  const rig = new Rig(
    opts,
    sync,
    mkdtempSync(join(tmpdir(), `parley-bench-${name}-`)),
    join(reportsDir, 'profiles'),
    say,
  );
  say(`# ${name} (${opts.store ? 'PostgreSQL' : `synchronous=${sync}`}, ${opts.encoding})`);
  const quiet = opts.quick ? undefined : await awaitQuiet(60_000);
  if (quiet)
    say(
      `  machine load from other processes: ${Math.round(quiet.otherPct)}% of a core (waited ${Math.round(quiet.waitedSec)} s)`,
    );
  const res: ScenarioResult = {
    name,
    sync,
    encoding: opts.encoding,
    ok: true,
    figures: [],
    cpu: { wallSec: 0, serverSec: 0, genSec: 0, parentSec: 0, irqSec: 0, otherSec: 0 },
    tables: [],
    notes: [],
    serverLog: [],
    profiles: [],
  };
  try {
    const out = await withDeadline(def.run(rig), (opts.quick ? 60 : def.deadlineSec) * 1000, name);
    Object.assign(res, out);
  } catch (err) {
    res.ok = false;
    res.error = (err as Error).message.split('\n')[0]!;
    say(`  FAILED: ${(err as Error).stack}`);
  } finally {
    await rig.cleanup().catch((e) => say(`  cleanup: ${(e as Error).message}`));
  }
  res.cpu = rig.cpu();
  if (quiet)
    res.notes.push(
      `Before the start, other processes used ${Math.round(quiet.otherPct)}% of a core (the run waited ${Math.round(quiet.waitedSec)} s, at most 60, for under 30%); see "other processes CPU %" per window.`,
    );
  res.serverLog = rig.log;
  res.notes.push(...rig.notes);
  for (const p of rig.profiles) {
    try {
      if (p.endsWith('.heapprofile')) {
        res.allocations ??= [];
        res.allocations.push(summariseAllocations(p));
        say(`  allocation profile: ${p}`);
        continue;
      }
      res.profiles.push(summariseProfile(p));
      say(`  CPU profile: ${p}`);
    } catch (err) {
      res.notes.push(`could not read profile ${p}: ${(err as Error).message}`);
    }
  }
  return res;
}

export interface RunOutcome {
  code: number;
  reportBase?: string;
  results: ScenarioResult[];
}

/** Runs the benchmark; prints the Markdown unless `print` is false. */
export async function run(argv: string[], print = true): Promise<RunOutcome> {
  let opts: Options;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return { code: 2, results: [] };
  }
  const started = new Date();
  const t0 = performance.now();
  const machine = machineInfo();
  process.stderr.write(`ulimit -n: ${machine.ulimitN}; ${machine.cores} cores; node ${machine.node}\n`);
  const results: ScenarioResult[] = [];
  for (const sync of opts.syncs)
    for (const name of opts.scenarios) results.push(await runOne(name, sync, opts));
  const stamp = started
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const suffix = `${opts.profile ? '-profile' : ''}${opts.allocProfile ? '-alloc' : ''}${opts.quick ? '-quick' : ''}`;
  const totalSec = (performance.now() - t0) / 1000;
  const md = renderMarkdown({ startedAt: started.toISOString(), opts, machine, results, totalSec });
  mkdirSync(reportsDir, { recursive: true });
  const base = join(reportsDir, `${stamp}${suffix}`);
  writeFileSync(`${base}.md`, `${md}\n`);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ startedAt: started.toISOString(), totalSec, options: opts, machine, results }, null, 2)}\n`,
  );
  if (print) process.stdout.write(`${md}\n`);
  process.stderr.write(`report: ${base}.md and .json\n`);
  return { code: results.every((r) => r.ok) ? 0 : 1, reportBase: base, results };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  run(process.argv.slice(2)).then(
    (r) => process.exit(r.code),
    (err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
