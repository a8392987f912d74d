/**
 * Worker thread with one SQLite connection: runs Store calls posted by the main thread one
 * at a time, in arrival order, and answers each with its result or a ParleyError code. The
 * writer owns the database; a read-only one (`readonly`) runs each call in one read
 * transaction, so a call's several reads see one snapshot.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ParleyError } from '@parley/protocol';
import { nameThread, THREAD_NAMES } from '../../../thread-name.js';
import { SqliteStore, type SqliteStoreOptions } from '../sqlite/sqlite-store.js';

interface Call {
  id: number;
  method: string;
  args: unknown[];
}

nameThread((workerData as SqliteStoreOptions).readonly ? THREAD_NAMES.storeReader : THREAD_NAMES.storeWriter);

let store: SqliteStore;
try {
  store = new SqliteStore(workerData as SqliteStoreOptions);
  parentPort!.postMessage({ ready: true, synchronous: store.synchronous });
} catch (err) {
  parentPort!.postMessage({ ready: false, error: (err as Error).message });
  process.exit(1);
}

parentPort!.on('message', (call: Call) => {
  const fn = (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[call.method];
  if (typeof fn !== 'function') {
    parentPort!.postMessage({
      id: call.id,
      error: { code: 'INTERNAL', message: `no store method ${call.method}` },
    });
    return;
  }
  const readonly = (workerData as SqliteStoreOptions).readonly && call.method !== 'close';
  const answer = readonly ? store.snapshot(() => fn.apply(store, call.args)) : fn.apply(store, call.args);
  answer.then(
    (result) => parentPort!.postMessage({ id: call.id, result }),
    (err: unknown) => {
      const e =
        err instanceof ParleyError
          ? { code: err.code, message: err.message, retryAfterMs: err.retryAfterMs }
          : { code: 'INTERNAL', message: (err as Error).message ?? String(err) };
      parentPort!.postMessage({ id: call.id, error: e });
    },
  );
});
