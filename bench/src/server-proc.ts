/**
 * Parent side of the server under test: forks server-child with a data dir and durability
 * mode (optionally under --cpu-prof), waits for its port, samples /proc, stops it (SIGKILL
 * after a grace period) and finds its CPU profile.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GLIBC_TUNABLES_ADVISED } from '@parley/server';
import { type ProcSample, procSample } from './proc.js';
import { withDeadline } from './util.js';

export type Sync = 'FULL' | 'NORMAL';

export interface ServerOptions {
  dataDir: string;
  /** A PostgreSQL URL; SQLite in dataDir when absent. */
  store?: string;
  sync: Sync;
  /** Directory for --cpu-prof output; no profiling when undefined. */
  profileDir?: string | undefined;
  /** Directory for the main thread's allocation profile (server-child.ts); none when undefined. */
  allocProfileDir?: string | undefined;
  logFile: string;
  /** Settings on top of benchServerSettings (a scenario's own, e.g. push providers). */
  config?: Record<string, unknown>;
  /** Environment variables for the server process on top of the bench's own. */
  env?: Record<string, string>;
}

/**
 * The C allocator's setting the server runs with: what `npm start` gives a node
 * (`GLIBC_TUNABLES`, see src/allocator.ts in @parley/server), or glibc's defaults with
 * PARLEY_BENCH_MALLOC=default (to measure what the setting changes).
 */
export function benchAllocator(env: NodeJS.ProcessEnv = process.env): {
  env: Record<string, string>;
  label: string;
} {
  const choice = env.PARLEY_BENCH_MALLOC ?? 'advised';
  if (choice === 'default') return { env: {}, label: "glibc's defaults (PARLEY_BENCH_MALLOC=default)" };
  if (choice !== 'advised') throw new Error(`PARLEY_BENCH_MALLOC: ${choice} is neither advised nor default`);
  return {
    env: { GLIBC_TUNABLES: GLIBC_TUNABLES_ADVISED },
    label: `GLIBC_TUNABLES=${GLIBC_TUNABLES_ADVISED}, as npm start runs a node`,
  };
}

/** Node flags for the server process only (PARLEY_BENCH_SERVER_FLAGS, split on spaces; none by default). */
export function benchServerFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.PARLEY_BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
}

/**
 * Node settings of the operator's own for the server (PARLEY_BENCH_SERVER_SETTINGS, a JSON
 * object such as `{"sqliteReaderMmapBytes":1073741824}`; none by default). The node checks
 * each one as it checks its config; the report names them.
 */
export function benchServerExtraSettings(env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const raw = env.PARLEY_BENCH_SERVER_SETTINGS;
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw new Error(`PARLEY_BENCH_SERVER_SETTINGS is not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Error('PARLEY_BENCH_SERVER_SETTINGS must be a JSON object of node settings');
  return v as Record<string, unknown>;
}

/** Settings every bench server runs with, besides port, host, data dir and durability. */
export function benchServerSettings(sync: Sync): Record<string, unknown> {
  return {
    ...benchServerExtraSettings(),
    host: '127.0.0.1',
    port: 0,
    logLevel: 'warn',
    // Users are seeded in the store, never registered by SMS: the console provider is enough.
    dev: true,
    sqliteSynchronous: sync,
    allowUnsafeDurability: sync !== 'FULL',
    unsafeAckBeforeCommit: false,
    // Rate limits are abuse protection, not a performance setting: raised so they never bind.
    sendsPerMinute: 10_000_000,
    // Thousands of generator sockets connect at once from each loopback address.
    maxConnectionsPerIp: 100_000,
  };
}

/**
 * Cumulative event-loop time (ms) of the server, its longest loop delay since the last ask,
 * and the main thread's garbage-collection pauses since the last ask (sum and longest, ms).
 */
export interface LoopSample {
  active: number;
  idle: number;
  delayMaxMs: number;
  gcMs: number;
  gcMaxMs: number;
}

export interface ServerHandle {
  pid: number;
  port: number;
  url: string;
  sample(): ProcSample | undefined;
  /** The last sample taken while the process was alive. */
  last(): ProcSample | undefined;
  /** Event-loop counters from inside the server process (undefined if it does not answer). */
  loop(): Promise<LoopSample | undefined>;
  /**
   * Waits until the node has loaded its chat directory (its `parley_directory_loading` gauge
   * reads 0) and resolves with how many chats it holds; rejects after `timeoutMs`.
   */
  directoryLoaded(timeoutMs: number): Promise<number>;
  /** Graceful stop; resolves with the CPU profile paths when profiling (one per thread). */
  stop(): Promise<string[]>;
  kill(): void;
  /** Every line the server logged (at warn level, so each one is a problem). */
  problems(): string[];
}

const childPath = fileURLToPath(new URL('./server-child.js', import.meta.url));

export async function startServer(o: ServerOptions): Promise<ServerHandle> {
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  if (o.allocProfileDir) mkdirSync(o.allocProfileDir, { recursive: true });
  const fd = openSync(o.logFile, 'a');
  const config = {
    ...benchServerSettings(o.sync),
    dataDir: o.dataDir,
    // A node on PostgreSQL needs the key of its code digests; the bench runs one such node.
    ...(o.store && { store: o.store, serverSecret: randomBytes(32).toString('hex') }),
    ...o.config,
  };
  const child: ChildProcess = fork(childPath, [], {
    execArgv: [
      ...benchServerFlags(),
      ...(o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : []),
    ],
    stdio: ['ignore', fd, fd, 'ipc'],
    env: {
      ...process.env,
      ...benchAllocator().env,
      ...o.env,
      BENCH_SERVER_CONFIG: JSON.stringify(config),
      ...(o.allocProfileDir && { BENCH_ALLOC_PROFILE_DIR: o.allocProfileDir }),
    },
  });
  closeSync(fd);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  let port: number;
  try {
    port = await withDeadline(
      new Promise<number>((res, rej) => {
        child.on('message', (m: { type?: string; port?: number }) => {
          if (m?.type === 'ready') res(m.port!);
        });
        void exited.then((code) => rej(new Error(`server exited with ${code} before listening`)));
      }),
      30_000,
      'server start',
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const pid = child.pid!;
  let last: ProcSample | undefined;
  const sample = () => {
    const s = procSample(pid);
    if (s) last = s;
    return s;
  };
  sample();
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  let loopId = 0;
  const loop = () =>
    new Promise<LoopSample | undefined>((res) => {
      if (!child.connected) return res(undefined);
      const id = ++loopId;
      const timer = setTimeout(() => {
        child.off('message', on);
        res(undefined);
      }, 2000);
      const on = (m: LoopSample & { type?: string; id?: number }) => {
        if (m?.type !== 'loop' || m.id !== id) return;
        clearTimeout(timer);
        child.off('message', on);
        res({ active: m.active, idle: m.idle, delayMaxMs: m.delayMaxMs, gcMs: m.gcMs, gcMaxMs: m.gcMaxMs });
      };
      child.on('message', on);
      child.send({ type: 'loop', id });
    });
  return {
    pid,
    port,
    loop,
    url: `http://127.0.0.1:${port}`,
    async directoryLoaded(timeoutMs) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
        const gauge = (name: string) =>
          Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
        if (gauge('parley_directory_loading') === 0) return gauge('parley_directory_chats');
        if (Date.now() > end)
          throw new Error(`the node was still loading its chat directory after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    sample,
    last: () => last,
    kill,
    async stop() {
      sample();
      if (child.connected) child.send({ type: 'stop' });
      try {
        await withDeadline(exited, 25_000, 'server stop');
      } catch {
        kill();
        await exited;
      }
      const files = (dir: string | undefined, ext: string) =>
        dir && existsSync(dir)
          ? readdirSync(dir)
              .filter((n) => n.endsWith(ext) && n.includes(`.${pid}.`))
              .map((n) => join(dir, n))
          : [];
      return [...files(o.profileDir, '.cpuprofile'), ...files(o.allocProfileDir, '.heapprofile')];
    },
    problems() {
      try {
        return readFileSync(o.logFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '');
      } catch {
        return [];
      }
    },
  };
}
