/**
 * The SQLite Store run in worker threads, so the event loop never waits for a disk sync
 * and SQLite's work lands on other cores. The writer thread owns the database: every call
 * is forwarded to it in order, and a call resolves only after its transaction committed, so
 * durability is unchanged. A reader thread with its own read-only connection answers the
 * reads of the send and delivery paths (`READS`), so they never queue behind a commit and
 * its disk sync. A read sees everything committed before it was asked (WAL snapshots), so a
 * caller that read after a write resolved sees that write. Until the reader is up, or if it
 * fails, the writer answers reads too.
 */
import { Worker } from 'node:worker_threads';
import { type ErrorCode, isErrorCode, ParleyError } from '@parley/protocol';
import type { Store } from '../../../ports/store.js';
import type { SqliteStoreOptions, SqliteSynchronous } from '../sqlite/sqlite-store.js';

/** Pure reads answered by the reader thread (each runs in one read transaction there). */
export const READS: ReadonlySet<string> = new Set([
  'chatGet',
  'chatMembersPage',
  'devicesOfUsers',
  'cursorsOf',
  'messagesRead',
  'messagesHistory',
  'chatSummaries',
  'deviceByTokenHash',
  'usersExist',
  'chatDirectFind',
  'alertSettings',
  'mediaAccess',
  // The retention job's question for each page of bodies: kept off the writer, so commits never wait on it.
  'mediaKept',
]);

/**
 * Reads of many rows (a device's cursors, backlog and history pages, chat lists, the
 * directory's pages). At most `BULK_IN_FLIGHT` of them wait at the reader at once; the rest
 * wait here, so a point read (a token, a chat, a user's devices) asked meanwhile waits for
 * at most that many of them instead of every one queued before it: a storm of connects
 * does not hold back the next device's authentication, nor a send's directory miss.
 */
const BULK_READS: ReadonlySet<string> = new Set([
  'cursorsOf',
  'messagesRead',
  'messagesHistory',
  'chatSummaries',
  'chatMembersPage',
]);
const BULK_IN_FLIGHT = 2;

/**
 * `postMessage` copies the whole ArrayBuffer under a typed array. A payload decoded from a
 * frame is a view into the buffer of the socket read it came in (several KiB, up to 64 KiB
 * when many frames arrived together), so each view is copied into a buffer of its own
 * before a call is posted: a message then costs its own bytes, not its read's. Copy on
 * write: the caller's objects are left as they are.
 */
export function ownBuffers(v: unknown): unknown {
  if (v instanceof Uint8Array) return v.byteLength === v.buffer.byteLength ? v : new Uint8Array(v);
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = ownBuffers(v[i]);
      if (x === v[i]) continue;
      out ??= v.slice();
      out[i] = x;
    }
    return out ?? v;
  }
  if (v instanceof Map) {
    let out: Map<unknown, unknown> | undefined;
    for (const [k, x] of v) {
      const y = ownBuffers(x);
      if (y === x) continue;
      out ??= new Map(v);
      out.set(k, y);
    }
    return out ?? v;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  let out: Record<string, unknown> | undefined;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    const y = ownBuffers(x);
    if (y === x) continue;
    out ??= { ...(v as Record<string, unknown>) };
    out[k] = y;
  }
  return out ?? v;
}

interface Answer {
  id: number;
  result?: unknown;
  error?: { code: string; message: string; retryAfterMs?: number };
}

type Pending = {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  method: string;
  args: unknown[];
};

/** One worker thread running a SqliteStore, and the calls waiting for its answers. */
class StoreThread {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  private nextId = 1;
  failed = false;
  /** Resolves with the sync mode once the database is open; rejects if it cannot be. */
  readonly ready: Promise<SqliteSynchronous>;

  constructor(options: SqliteStoreOptions, onFail: (t: StoreThread, err: unknown) => void) {
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
    const fail = (err: unknown) => {
      if (this.failed) return;
      this.failed = true;
      onFail(this, err);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(new Error('store worker exited')));
  }

  call(method: string, args: unknown[], p: Omit<Pending, 'method' | 'args'>): void {
    const id = this.nextId++;
    this.pending.set(id, { ...p, method, args });
    this.worker.postMessage({ id, method, args: ownBuffers(args) });
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
}

/** What the node hears about the store's threads. */
export interface SqliteWorkerHooks {
  /** The reader thread failed: reads go to the writer from now on. */
  readerFailed?: (err: unknown) => void;
}

export class SqliteWorkerStore {
  private readonly writer: StoreThread;
  private reader: StoreThread | undefined;
  private readerUp = false;
  private closed = false;
  /** Reads sent to the reader thread so far. */
  readsOnReader = 0;
  /** Bulk reads at the reader, and those waiting for their turn (see BULK_READS). */
  private bulkInFlight = 0;
  private readonly bulkWaiting: Array<{
    method: string;
    args: unknown[];
    resolve: (v: unknown) => void;
    reject: (e: unknown) => void;
  }> = [];
  /** Times a reader thread that answered reads failed (0 in a healthy node). */
  readerFailures = 0;

  /** True while reads go to the reader thread (false before it is up and after it failed). */
  get readerAnswering(): boolean {
    return this.readerUp;
  }

  /** Resolves with the sync mode in effect once the database is open; rejects if it cannot be. */
  readonly ready: Promise<SqliteSynchronous>;
  /** Resolves true once the reader thread answers reads, false if it could not start. */
  readonly readerReady: Promise<boolean>;
  private readerSettled: (up: boolean) => void = () => {};

  private constructor(
    private readonly options: SqliteStoreOptions,
    private readonly hooks: SqliteWorkerHooks,
  ) {
    this.writer = new StoreThread(options, (_, err) => this.writerFailed(err));
    this.ready = this.writer.ready;
    this.readerReady = new Promise((resolve) => {
      this.readerSettled = resolve;
    });
    // The reader opens the file the writer created and migrated.
    if (options.path !== ':memory:') {
      this.ready.then(
        () => this.startReader(),
        () => this.readerSettled(false),
      );
    } else this.readerSettled(false);
  }

  /** Starts the workers; every Store method is available at once (calls queue until it is open). */
  static open(
    options: SqliteStoreOptions,
    hooks: SqliteWorkerHooks = {},
  ): Store & { ready: Promise<SqliteSynchronous> } {
    const store = new SqliteWorkerStore(options, hooks);
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
    const onReader = this.readerUp && READS.has(method);
    const thread = onReader ? this.reader! : this.writer;
    if (thread.failed) return Promise.reject(new ParleyError('UNAVAILABLE', 'store worker failed'));
    if (onReader && BULK_READS.has(method)) {
      return new Promise((resolve, reject) => {
        this.bulkWaiting.push({ method, args, resolve, reject });
        this.sendBulk();
      });
    }
    if (onReader) this.readsOnReader++;
    return new Promise((resolve, reject) => thread.call(method, args, { resolve, reject }));
  }

  /** Posts waiting bulk reads while fewer than BULK_IN_FLIGHT are at the reader. */
  private sendBulk(): void {
    while (this.bulkInFlight < BULK_IN_FLIGHT && this.bulkWaiting.length > 0) {
      const read = this.bulkWaiting.shift()!;
      if (!this.readerUp || this.reader!.failed) {
        // The reader went away meanwhile: the writer answers.
        this.call(read.method, read.args).then(read.resolve, read.reject);
        continue;
      }
      this.bulkInFlight++;
      this.readsOnReader++;
      const done = () => {
        this.bulkInFlight--;
        this.sendBulk();
      };
      this.reader!.call(read.method, read.args, {
        resolve: (v) => {
          done();
          read.resolve(v);
        },
        reject: (e) => {
          done();
          read.reject(e);
        },
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const reader = this.reader;
    this.readerUp = false;
    if (reader && !reader.failed) {
      await new Promise((resolve) => reader.call('close', [], { resolve, reject: resolve }));
      reader.failed = true;
      await reader.worker.terminate();
    }
    await this.call('close', []);
    this.closed = true;
    this.writer.failed = true;
    await this.writer.worker.terminate();
  }

  private startReader(): void {
    if (this.closed) {
      this.readerSettled(false);
      return;
    }
    const reader = new StoreThread({ ...this.options, readonly: true }, (t, err) => {
      // Reads go back to the writer, including those the reader had not answered.
      const wasUp = this.readerUp;
      this.readerUp = false;
      if (wasUp) {
        this.readerFailures++;
        this.hooks.readerFailed?.(err);
      }
      for (const p of t.pending.values()) this.call(p.method, p.args).then(p.resolve, p.reject);
      t.pending.clear();
    });
    this.reader = reader;
    reader.ready.then(
      () => {
        if (!reader.failed && !this.closed) this.readerUp = true;
        this.readerSettled(this.readerUp);
      },
      () => this.readerSettled(false),
    );
  }

  private writerFailed(err: unknown): void {
    this.closed = true;
    for (const t of [this.writer, this.reader]) {
      if (!t) continue;
      for (const p of t.pending.values())
        p.reject(new ParleyError('UNAVAILABLE', 'store worker failed', { cause: err }));
      t.pending.clear();
    }
  }
}
