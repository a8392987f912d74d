/** Worker thread of WalCheckpointer: a PASSIVE checkpoint of the database every `intervalMs`. */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { nameThread, THREAD_NAMES } from '../../../thread-name.js';
import type { CheckpointStats } from './checkpointer.js';

nameThread(THREAD_NAMES.checkpointer);
const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const stats: CheckpointStats = { checkpoints: 0, frames: 0, failures: 0 };
let db: Database.Database | undefined;

const timer = setInterval(() => {
  try {
    db ??= new Database(path, { fileMustExist: true });
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ checkpointed: number }>;
    stats.checkpoints++;
    stats.frames += Math.max(0, r?.checkpointed ?? 0);
  } catch {
    // Busy or failing: the next tick tries again, and the writer's backstop bounds the log.
    stats.failures++;
  }
  parentPort!.postMessage(stats);
}, intervalMs);

parentPort!.on('message', () => {
  clearInterval(timer);
  db?.close();
  process.exit(0);
});
