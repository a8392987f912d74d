/**
 * WAL checkpoints off the commit path. By default SQLite copies the write-ahead log back into
 * the database file inside whichever commit pushes the log past 1,000 pages, so that commit
 * (and every send waiting on it) also pays for copying and syncing the database file. When
 * live messages land in many different chats, nearly every commit crosses that line.
 *
 * Here a worker thread with its own connection runs a PASSIVE checkpoint every `intervalMs`:
 * it never blocks the writer, and pages written several times between two checkpoints are
 * copied once. The writer keeps an inline checkpoint only as a backstop, when the log passes
 * `BACKSTOP_PAGES` (the worker stopped or fell far behind). Durability is unchanged: a commit
 * is durable once its log frames are synced, whoever copies them later.
 */
import { Worker } from 'node:worker_threads';

/** Pages after which the writer checkpoints by itself (64 MiB at the default page size). */
export const BACKSTOP_PAGES = 16_384;
/** The log file is cut back to this size when it restarts after a complete checkpoint. */
export const LOG_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface CheckpointStats {
  checkpoints: number;
  /** Log frames copied into the database file. */
  frames: number;
  failures: number;
}

export class WalCheckpointer {
  private readonly worker: Worker;
  private last: CheckpointStats = { checkpoints: 0, frames: 0, failures: 0 };
  private stopped: Promise<void> | undefined;

  constructor(path: string, intervalMs: number) {
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { path, intervalMs },
    });
    this.worker.on('message', (s: CheckpointStats) => {
      this.last = s;
    });
    // A failed worker leaves the backstop in charge; the store keeps working.
    this.worker.on('error', () => {});
    this.worker.unref();
  }

  get stats(): CheckpointStats {
    return this.last;
  }

  /** Stops the worker after its current checkpoint (before the writer closes the database). */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      this.worker.ref();
      this.worker.once('exit', () => resolve());
      this.worker.postMessage('stop');
    });
    return this.stopped;
  }
}
