/** Parent side of the soak's client processes: fork, start, latest status, checks, the end. */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withDeadline } from '../util.js';
import type { WorkerPlan } from './fleet.js';
import type { FromWorker, ToWorker, WorkerCounts } from './worker.js';

const workerPath = fileURLToPath(new URL('./worker.js', import.meta.url));

export class WorkerHandle {
  last: WorkerCounts | undefined;
  readonly ready: Promise<number>;
  private readonly child: ChildProcess;
  private waiting: Array<{ type: 'checked' | 'final'; resolve(c: WorkerCounts): void }> = [];

  constructor(plan: WorkerPlan, url: string, rate: number, payloadBytes: number, seed: number) {
    this.child = fork(workerPath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let onReady: (n: number) => void = () => {};
    this.ready = new Promise<number>((resolve) => {
      onReady = resolve;
    });
    this.child.on('message', (m: FromWorker) => {
      if (m.type === 'ready') onReady(m.connected);
      else if (m.type === 'status') this.last = m.counts;
      else {
        this.last = m.counts;
        const i = this.waiting.findIndex((w) => w.type === m.type);
        if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(m.counts);
      }
    });
    this.tell({ type: 'start', plan, url, rate, payloadBytes, seed });
  }

  tell(m: ToWorker): void {
    if (this.child.connected) this.child.send(m);
  }

  private ask(m: ToWorker, answer: 'checked' | 'final', ms: number): Promise<WorkerCounts> {
    const p = new Promise<WorkerCounts>((resolve) => this.waiting.push({ type: answer, resolve }));
    this.tell(m);
    return withDeadline(p, ms, `client process ${answer === 'final' ? 'finish' : 'check'}`);
  }

  /** Walks every send: how many acked messages some recipient has not shown yet. */
  check(): Promise<WorkerCounts> {
    return this.ask({ type: 'check' }, 'checked', 60_000);
  }

  /** Closes the clients and returns the final counts. */
  finish(): Promise<WorkerCounts> {
    return this.ask({ type: 'finish' }, 'final', 120_000);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Sums numeric counts (and merges refusal codes and examples) across processes. */
export function sumCounts(all: readonly WorkerCounts[]): WorkerCounts {
  const out = { refused: {} as Record<string, number>, lostExamples: [] as string[] } as WorkerCounts;
  for (const c of all) {
    for (const [k, v] of Object.entries(c)) {
      if (typeof v === 'number') (out as unknown as Record<string, number>)[k] = ((out as never)[k] ?? 0) + v;
    }
    for (const [code, n] of Object.entries(c.refused)) out.refused[code] = (out.refused[code] ?? 0) + n;
    out.lostExamples!.push(...(c.lostExamples ?? []));
  }
  return out;
}
