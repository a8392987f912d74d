/**
 * Names the calling thread for the operating system, so `top -H`, `ps -L` and
 * `/proc/<pid>/task/<tid>/comm` tell the node's threads apart (a worker thread is otherwise
 * called "node", like the main thread). Linux only and best effort: elsewhere, or without
 * /proc, it does nothing. A thread can rename only itself, so each worker calls it first.
 */
import { writeFileSync } from 'node:fs';

/** The kernel keeps 15 bytes of a thread's name. */
const THREAD_NAME_MAX = 15;

/** The names the node gives its threads (operations.md, "Threads"). */
export const THREAD_NAMES = {
  storeWriter: 'parley-writer',
  storeReader: 'parley-reader',
  checkpointer: 'parley-ckpt',
} as const;

export function nameThread(name: string): boolean {
  if (process.platform !== 'linux') return false;
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, THREAD_NAME_MAX));
    return true;
  } catch {
    return false;
  }
}
