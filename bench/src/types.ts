/** Shapes shared by scenarios, the runner and the report. */
import type { Encoding } from '@parley/protocol';
import type { Sync } from './server-proc.js';

export interface Options {
  scenarios: string[];
  quick: boolean;
  encoding: Encoding;
  profile: boolean;
  /** `--alloc-profile`: sample what the server's main thread allocates (collected objects included). */
  allocProfile?: boolean;
  syncs: Sync[];
  /** A PostgreSQL URL: the server stores in a fresh schema of that database instead of SQLite. */
  store?: string;
  /** `--rates a,b,…`: the rate ladder to step through instead of the scenario's own. */
  rates?: number[];
  /** `--hold S`: seconds for each measured step, the hold and the half-rate run instead of the scenario's own. */
  holdSec?: number;
  /** `--devices N`: offline devices in the push scenario instead of its own count. */
  devices?: number;
  /** `--send-rate N`: the push scenario's sender rate (msgs/s) instead of as fast as answers come. */
  sendRate?: number;
}

export interface Target {
  op: '>=' | '<=' | '<' | '==';
  value: number;
}

export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  digits?: number;
  target?: Target;
}

export interface CpuUse {
  wallSec: number;
  serverSec: number;
  genSec: number;
  parentSec: number;
  /** Machine-wide interrupt and softirq time (loopback networking is processed there). */
  irqSec: number;
  /** Busy CPU of everything else on the machine meanwhile (other processes, kernel threads). */
  otherSec: number;
}

export interface Table {
  title: string;
  head: string[];
  rows: string[][];
}

export interface ProfileSummary {
  thread: string;
  path: string;
  /** Sampled time not idle, and idle time, in ms. */
  totalMs: number;
  idleMs: number;
  top: Array<{ fn: string; where: string; selfMs: number; pct: number }>;
}

/** Bytes the server's main thread allocated per function (sampled), top first. */
export interface AllocationSummary {
  path: string;
  totalBytes: number;
  top: Array<{ fn: string; where: string; bytes: number; pct: number }>;
}

export interface ScenarioResult {
  name: string;
  sync: Sync;
  encoding: Encoding;
  ok: boolean;
  error?: string;
  figures: Figure[];
  cpu: CpuUse;
  tables: Table[];
  notes: string[];
  serverLog: string[];
  profiles: ProfileSummary[];
  allocations?: AllocationSummary[];
}

/** What a scenario fills in; the runner adds name, mode, CPU, log and profiles. */
export interface ScenarioOutput {
  figures: Figure[];
  tables: Table[];
  notes: string[];
}
