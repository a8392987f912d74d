/**
 * The SQLite Store run in a worker thread, so the event loop never waits for a disk sync
 * and SQLite's work lands on another core. Every call is forwarded in order; a call
 * resolves only after the worker's transaction committed, so durability is unchanged.
 */
import { Worker } from 'node:worker_threads';
import { type ErrorCode, isErrorCode, ParleyError } from '@parley/protocol';
import type { Store } from '../../../ports/store.js';
import type { SqliteStoreOptions, SqliteSynchronous } from '../sqlite/sqlite-store.js';

interface Answer {
  id: number;
  result?: unknown;
  error?: { code: string; message: string; retryAfterMs?: number };
}

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

export class SqliteWorkerStore {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  /** Resolves with the sync mode in effect once the database is open; rejects if it cannot be. */
  readonly ready: Promise<SqliteSynchronous>;

  private constructor(options: SqliteStoreOptions) {
    // Calls posted before the worker is up wait in its port and run once the database is open.
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: options });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once(
        'message',
        (first: { ready: boolean; synchronous?: SqliteSynchronous; error?: string }) => {
          if (first.ready) resolve(first.synchronous ?? 'FULL');
          else reject(new ParleyError('UNAVAILABLE', `cannot open the database: ${first.error}`));
          this.worker.on('message', (a: Answer) => this.answer(a));
        },
      );
    });
    this.ready.catch(() => {});
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', () => this.failAll(new Error('store worker exited')));
  }

  /** Starts the worker; every Store method is available at once (calls queue until it is open). */
  static open(options: SqliteStoreOptions): Store & { ready: Promise<SqliteSynchronous> } {
    const store = new SqliteWorkerStore(options);
    return new Proxy(store, {
      get(target, prop, receiver) {
        if (prop in target) return Reflect.get(target, prop, receiver);
        if (typeof prop !== 'string' || prop === 'then') return undefined;
        return (...args: unknown[]) => target.call(prop, args);
      },
    }) as unknown as Store & { ready: Promise<SqliteSynchronous> };
  }

  call(method: string, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new ParleyError('UNAVAILABLE', 'store is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.call('close', []);
    this.closed = true;
    await this.worker.terminate();
  }

  private answer(a: Answer): void {
    const p = this.pending.get(a.id);
    if (!p) return;
    this.pending.delete(a.id);
    if (!a.error) {
      p.resolve(a.result);
      return;
    }
    const code: ErrorCode = isErrorCode(a.error.code) ? a.error.code : 'INTERNAL';
    p.reject(
      new ParleyError(
        code,
        a.error.message,
        a.error.retryAfterMs === undefined ? {} : { retryAfterMs: a.error.retryAfterMs },
      ),
    );
  }

  private failAll(err: unknown): void {
    this.closed = true;
    for (const p of this.pending.values())
      p.reject(new ParleyError('UNAVAILABLE', 'store worker failed', { cause: err }));
    this.pending.clear();
  }
}
