/**
 * A file a lone node makes once in its data dir and reads on every start (the server secret,
 * the VAPID key pair): written and synced under another name, then linked into place, so a
 * crash or two nodes starting at once never leave a partial file; mode 0600 in a 0700 dir.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** The text of <dir>/<name>, written from `make()` first when the file does not exist. */
export function dataDirFileOnce(dir: string, name: string, make: () => string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, name);
  if (!existsSync(path)) {
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, make());
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
    } catch (err) {
      // Another start linked its file first: that one is kept.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(tmp, { force: true });
    }
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
  chmodSync(path, 0o600);
  return readFileSync(path, 'utf8');
}
