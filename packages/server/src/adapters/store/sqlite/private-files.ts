/**
 * The database holds phone numbers, device-token digests and pending code digests: its file
 * and SQLite's -wal and -shm files beside it are readable by their owner only (0600). SQLite
 * creates -wal and -shm with the mode of the database file, so creating that file first with
 * 0600 is enough; files of an older install are narrowed to 0600 when the store opens.
 */
import { chmodSync, closeSync, openSync } from 'node:fs';

export function makeDatabaseFilesPrivate(path: string): void {
  if (path === ':memory:' || path === '') return;
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    try {
      chmodSync(file, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
