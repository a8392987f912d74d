/**
 * The node under soak: `parley serve` (the CLI, as operators run it) in a child process on
 * one data dir, restarted by SIGTERM (graceful) or SIGKILL. Each run of the process is a
 * "life" with its own RSS samples (VmRSS from /proc/<pid>/status), since RSS starts over
 * at each restart. The node logs at warn level to a file; its port comes from its banner.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { procSample } from '../proc.js';
import { withDeadline } from '../util.js';

export interface Life {
  index: number;
  pid: number;
  port: number;
  startedAt: number;
  endedAt: number | undefined;
  /** How the life ended: the signal the soak sent, or 'end' for the final graceful stop. */
  endedBy: 'SIGTERM' | 'SIGKILL' | 'end' | undefined;
  exitCode: number | null;
  exitSignal: string | null;
  /** SIGTERM did not stop it within the grace period: it was SIGKILLed. */
  forced: boolean;
  /** [ms since the life started, VmRSS KiB] */
  rss: Array<[number, number]>;
  /** [ms since the life started, JS heap used in KiB] from the node's /metrics (main thread). */
  heap: Array<[number, number]>;
}

const cliMain = fileURLToPath(new URL('../../../../packages/cli/dist/src/main.js', import.meta.url));
const STOP_GRACE_MS = 30_000;

export class NodeProcess {
  readonly lives: Life[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly log: WriteStream;

  constructor(
    private readonly dataDir: string,
    logFile: string,
    private readonly extraEnv: Record<string, string> = {},
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  get current(): Life | undefined {
    const life = this.lives.at(-1);
    return life && life.endedAt === undefined ? life : undefined;
  }

  /** Starts the node; resolves with its port once it listens. */
  async start(): Promise<number> {
    const child = spawn(process.execPath, [cliMain, 'serve'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        // Settings from the caller's environment (PARLEY_STORE, …) would not match the seeded data.
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PARLEY_'))),
        PARLEY_HOST: '127.0.0.1',
        PARLEY_PORT: '0',
        PARLEY_DATA_DIR: this.dataDir,
        PARLEY_LOG_LEVEL: 'warn',
        // Users are seeded in the store, never registered by SMS: the console provider is enough.
        PARLEY_DEV: 'true',
        // Rate limits are abuse protection, not what a soak measures: at --rate 5000 a device
        // sends about 300 messages a minute, past the default sendsPerMinute.
        PARLEY_SENDS_PER_MINUTE: '10000000',
        ...this.extraEnv,
      },
    });
    this.child = child;
    child.stdout!.pipe(this.log, { end: false });
    const startedAt = Date.now();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.exited = exited;
    const port = await withDeadline(
      new Promise<number>((resolve, reject) => {
        let banner = '';
        child.stderr!.on('data', (d: Buffer) => {
          this.log.write(d);
          banner += d.toString('utf8');
          const m = /listening on http:\/\/[^:]+:(\d+)/.exec(banner);
          if (m) resolve(Number(m[1]));
        });
        void exited.then(() => reject(new Error(`the node exited with ${child.exitCode} before listening`)));
      }),
      60_000,
      'node start',
    ).catch((err) => {
      child.kill('SIGKILL');
      throw err;
    });
    const life: Life = {
      index: this.lives.length,
      pid: child.pid!,
      port,
      startedAt,
      endedAt: undefined,
      endedBy: undefined,
      exitCode: null,
      exitSignal: null,
      forced: false,
      rss: [],
      heap: [],
    };
    this.lives.push(life);
    child.once('exit', (code, signal) => {
      life.endedAt = Date.now();
      life.exitCode = code;
      life.exitSignal = signal;
    });
    this.sample();
    return port;
  }

  /** Reads the live node's RSS into its life's samples; returns it (KiB). */
  sample(): number | undefined {
    const life = this.current;
    if (!life) return undefined;
    const s = procSample(life.pid);
    if (!s) return undefined;
    life.rss.push([Date.now() - life.startedAt, s.rssKiB]);
    return s.rssKiB;
  }

  /** Reads the live node's JS heap use from /metrics into its life's samples (for the report). */
  async sampleHeap(): Promise<void> {
    const life = this.current;
    if (!life) return;
    try {
      const res = await fetch(`http://127.0.0.1:${life.port}/metrics`, { signal: AbortSignal.timeout(5000) });
      const m = /^parley_nodejs_heap_size_used_bytes (\d+)/m.exec(await res.text());
      if (m) life.heap.push([Date.now() - life.startedAt, Number(m[1]) / 1024]);
    } catch {
      // The node is restarting or busy: this sample is skipped.
    }
  }

  /** Stops the node with `signal` and waits for it to exit (SIGKILL after the grace period). */
  async stop(signal: 'SIGTERM' | 'SIGKILL', endedBy: Life['endedBy'] = signal): Promise<void> {
    const life = this.current;
    const child = this.child;
    if (!life || !child) return;
    this.sample();
    life.endedBy = endedBy;
    child.kill(signal);
    try {
      await withDeadline(this.exited, STOP_GRACE_MS, 'node stop');
    } catch {
      life.forced = true;
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** SIGKILL now, without waiting (the soak is giving up). */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  async close(): Promise<void> {
    await this.stop('SIGTERM', 'end');
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
