/**
 * Parent side of the generator: forks gen-worker processes, sends them commands over IPC,
 * reads their CPU and memory from /proc, and always tears them down (SIGKILL as a last resort).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GenCmd } from './gen-types.js';
import { type ProcSample, procSample } from './proc.js';
import { sleep } from './util.js';

const workerPath = fileURLToPath(new URL('./gen-worker.js', import.meta.url));

interface Pending {
  pid: number | undefined;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class GenPool {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly last = new Map<number, ProcSample>();

  private constructor(readonly procs: ChildProcess[]) {
    for (const p of procs) {
      p.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
        const w = this.pending.get(m.id);
        if (!w) return;
        this.pending.delete(m.id);
        if (m.ok) w.resolve(m.result);
        else w.reject(new Error(`generator: ${m.error}`));
      });
      p.on('exit', (code, signal) => {
        for (const [id, w] of this.pending) {
          if (w.pid === p.pid) {
            this.pending.delete(id);
            w.reject(new Error(`generator ${p.pid} exited (${code ?? signal})`));
          }
        }
      });
    }
  }

  static start(n: number): GenPool {
    return new GenPool(
      Array.from({ length: n }, () =>
        fork(workerPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
      ),
    );
  }

  get size(): number {
    return this.procs.length;
  }

  call<T>(i: number, cmd: GenCmd): Promise<T> {
    const p = this.procs[i]!;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { pid: p.pid, resolve: resolve as (v: unknown) => void, reject });
      p.send({ id, cmd });
    });
  }

  all<T>(cmd: GenCmd | ((i: number) => GenCmd)): Promise<T[]> {
    return Promise.all(this.procs.map((_, i) => this.call<T>(i, typeof cmd === 'function' ? cmd(i) : cmd)));
  }

  /** CPU seconds of all generator processes (the last reading for ones that exited). */
  cpuSec(): number {
    let s = 0;
    for (const p of this.procs) {
      const r = procSample(p.pid!);
      if (r) this.last.set(p.pid!, r);
      s += this.last.get(p.pid!)?.cpuSec ?? 0;
    }
    return s;
  }

  rssKiB(): number {
    return this.procs.reduce((a, p) => a + (procSample(p.pid!)?.rssKiB ?? 0), 0);
  }

  /** Asks every process to close its sockets and exit; kills what is left after 10 s. */
  async close(): Promise<void> {
    this.cpuSec();
    const alive = this.procs.filter((p) => p.exitCode === null && p.signalCode === null);
    const exits = alive.map((p) => new Promise<void>((r) => p.once('exit', () => r())));
    for (const p of alive) if (p.connected) p.send({ id: 0, cmd: { op: 'close' } });
    await Promise.race([Promise.all(exits), sleep(10_000)]);
    this.kill();
  }

  kill(): void {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}
