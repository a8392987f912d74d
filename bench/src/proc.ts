/**
 * Readings from /proc: a process's CPU seconds (utime+stime from /proc/<pid>/stat) and its
 * threads' by role (/proc/<pid>/task/<tid>/stat), its minor page faults, RSS and peak RSS
 * (VmRSS, VmHWM), the kernel's slab and TCP memory, and whole-machine busy time.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export interface ProcSample {
  cpuSec: number;
  rssKiB: number;
  hwmKiB: number;
  /** Page faults served without I/O since the process started (minflt). */
  minorFaults: number;
}

/**
 * The fields of a /proc stat line after the command name (which may contain spaces and
 * brackets), so that `fields[0]` is the state; and that command name.
 */
function statFields(stat: string): { comm: string; fields: string[] } {
  const end = stat.lastIndexOf(')');
  return { comm: stat.slice(stat.indexOf('(') + 1, end), fields: stat.slice(end + 2).split(' ') };
}

/** User plus system CPU seconds from a stat line's fields (utime, stime). */
const cpuSecOf = (fields: string[]) => (Number(fields[11]) + Number(fields[12])) / clockTicks();

/** CPU and memory of a live process; undefined once it has exited. */
export function procSample(pid: number): ProcSample | undefined {
  try {
    const { fields: f } = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const cpuSec = cpuSecOf(f);
    const minorFaults = Number(f[7]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { cpuSec, rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM'), minorFaults };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of a process's threads by role: `main` (the thread whose id is the process's),
 * each thread the node named (`parley-writer` → `writer`, `parley-reader` → `reader`,
 * `parley-ckpt` → `ckpt`; threads of one name added up), and `other` (garbage collection
 * helpers, libuv's pool, unnamed workers). Undefined once the process has exited.
 */
export function threadsCpuSec(pid: number): Record<string, number> | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  const out: Record<string, number> = {};
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const { comm, fields } = statFields(stat);
    const sec = cpuSecOf(fields);
    const role =
      tid === String(pid) ? 'main' : comm.startsWith('parley-') ? comm.slice('parley-'.length) : 'other';
    out[role] = (out[role] ?? 0) + sec;
  }
  return out;
}

/** The CPU seconds of each thread role between two readings (a thread that ended takes its own along: never below 0). */
export function threadsCpuDelta(
  from: Record<string, number> | undefined,
  to: Record<string, number> | undefined,
): Record<string, number> {
  const out: Record<string, number> = {};
  if (!from || !to) return out;
  for (const [k, v] of Object.entries(to)) out[k] = Math.max(0, v - (from[k] ?? 0));
  return out;
}

/** Roles in the order the reports list them, then any other, by name. */
const ROLE_ORDER = ['main', 'writer', 'reader', 'ckpt', 'other'];

/**
 * `main 35 · writer 37 · reader 1 · ckpt 11 · other 3`: each role's CPU seconds as a
 * rounded % of one core over `sec` seconds; empty when nothing was read.
 */
export function formatThreadsPct(cpuSec: Record<string, number>, sec: number): string {
  if (!(sec > 0)) return '';
  const rank = (k: string) => {
    const i = ROLE_ORDER.indexOf(k);
    return i < 0 ? ROLE_ORDER.length : i;
  };
  const keys = Object.keys(cpuSec).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return keys.map((k) => `${k} ${Math.round((100 * cpuSec[k]!) / sec)}`).join(' · ');
}

export interface KernelMem {
  slabKiB: number;
  /** Pages of TCP buffer memory (from /proc/net/sockstat), in KiB. */
  tcpMemKiB: number;
  tcpInUse: number;
  timeWait: number;
}

export function kernelMem(): KernelMem {
  const mi = readFileSync('/proc/meminfo', 'utf8');
  const slabKiB = Number(/^Slab:\s+(\d+)/m.exec(mi)?.[1] ?? 0);
  const ss = readFileSync('/proc/net/sockstat', 'utf8');
  const tcp = /^TCP: inuse (\d+) orphan \d+ tw (\d+) alloc \d+ mem (\d+)/m.exec(ss);
  return {
    slabKiB,
    tcpMemKiB: Number(tcp?.[3] ?? 0) * 4,
    tcpInUse: Number(tcp?.[1] ?? 0),
    timeWait: Number(tcp?.[2] ?? 0),
  };
}

/**
 * Connection attempts the kernel dropped because a listening socket's accept queue was full
 * (TcpExt ListenDrops, the whole machine): each costs its client a SYN retransmit, a second
 * later at first.
 */
export function listenDrops(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.startsWith('TcpExt:')) continue;
    const names = lines[i]!.trim().split(/\s+/);
    const values = lines[i + 1]!.trim().split(/\s+/);
    const at = names.indexOf('ListenDrops');
    if (at > 0) return Number(values[at]);
  }
  return 0;
}

/**
 * Busy CPU seconds of the whole machine (all cores; everything but idle and iowait), and
 * the part spent in interrupts and softirqs (loopback TCP is processed there, and that
 * time is not always charged to the processes that caused it).
 */
export function machineBusySec(): { busy: number; irq: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const busy = [0, 1, 2, 5, 6, 7].reduce((a, i) => a + (v[i] ?? 0), 0);
  return { busy: busy / clockTicks(), irq: ((v[5] ?? 0) + (v[6] ?? 0)) / clockTicks() };
}

export function loadAvg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}
