/**
 * BlobStore on the local disk: `<dir>/<first two hex digits>/<id>`. A body is written to a
 * temporary file while it is hashed, synced, and renamed into place only when its hash and
 * size check out, so a crash never leaves a partial body under its id.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { type FileHandle, link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ParleyError } from '@parley/protocol';
import {
  BLOB_ID,
  type BlobPutResult,
  type BlobRead,
  type BlobStore,
  type ByteRange,
  checkRange,
  type StoredBlob,
} from '../../../ports/blobs.js';

/** The folders bodies live in: the first two hex digits of their ids. */
const SUBDIR = /^[0-9a-f]{2}$/;

import { hashChecked, type KnownDigest, knownChecked, spoolChecked } from '../spool.js';

export class LocalBlobStore implements BlobStore {
  constructor(private readonly dir: string) {
    mkdirSync(join(dir, 'tmp'), { recursive: true, mode: 0o700 });
    // Temporary files of uploads cut off by a crash.
    for (const f of readdirSync(join(dir, 'tmp'))) rmSync(join(dir, 'tmp', f), { force: true });
  }

  private pathOf(id: string): string {
    if (!BLOB_ID.test(id)) throw new ParleyError('INVALID_ARGUMENT', 'a media id is 64 lowercase hex digits');
    return join(this.dir, id.slice(0, 2), id);
  }

  async has(id: string): Promise<boolean> {
    return (await this.size(id)) !== undefined;
  }

  async size(id: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(id))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async put(id: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<BlobPutResult> {
    const target = this.pathOf(id);
    const tmp = join(this.dir, 'tmp', `${id}.${randomBytes(6).toString('hex')}`);
    try {
      const size = await spoolChecked(tmp, id, body, maxBytes, true);
      if (await this.has(id)) {
        await rm(tmp, { force: true });
        return { size, created: false };
      }
      await mkdir(join(this.dir, id.slice(0, 2)), { recursive: true, mode: 0o700 });
      await rename(tmp, target);
      return { size, created: true };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Stores the file at `path` (on the same file system, e.g. a finished resumable upload)
   * under `id` without copying it: it is hashed, synced and hard-linked into place; the
   * caller removes `path` afterwards. DIGEST_MISMATCH / PAYLOAD_TOO_LARGE as `put`.
   */
  async adoptFile(id: string, path: string, maxBytes: number, known?: KnownDigest): Promise<BlobPutResult> {
    const target = this.pathOf(id);
    const file = await open(path, 'r');
    let size: number;
    try {
      if (known && (await file.stat()).size !== known.size)
        throw new ParleyError('DIGEST_MISMATCH', 'the body is not the one that was hashed');
      size = known
        ? knownChecked(id, known, maxBytes)
        : await hashChecked(id, file.createReadStream({ autoClose: false }), maxBytes);
      await file.sync();
    } finally {
      await file.close();
    }
    const dir = join(this.dir, id.slice(0, 2));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      await link(path, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { size, created: false };
      throw err;
    }
    const d = await open(dir, 'r');
    try {
      await d.sync(); // the new name survives a crash
    } finally {
      await d.close();
    }
    return { size, created: true };
  }

  async get(id: string, range?: ByteRange): Promise<BlobRead | undefined> {
    const path = this.pathOf(id);
    let handle: FileHandle;
    try {
      // One open file for size and bytes: a body removed meanwhile is read whole or not at all.
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      if (range) checkRange(range, size);
      const body = handle.createReadStream(range ? { start: range.start, end: range.end } : {});
      return { size, body };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async delete(ids: readonly string[]): Promise<number> {
    let removed = 0;
    for (const id of ids) {
      const path = this.pathOf(id);
      if (await this.has(id)) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  async list(after: string, limit: number): Promise<StoredBlob[]> {
    const out: StoredBlob[] = [];
    const subs = (await readdir(this.dir)).filter((d) => SUBDIR.test(d) && d >= after.slice(0, 2)).sort();
    for (const sub of subs) {
      const names = await readdir(join(this.dir, sub)).catch(() => [] as string[]);
      for (const f of names.filter((n) => BLOB_ID.test(n) && n > after).sort()) {
        if (out.length >= limit) return out;
        const st = await stat(join(this.dir, sub, f)).catch(() => undefined);
        if (st) out.push({ id: f, storedAt: st.mtimeMs });
      }
    }
    return out;
  }

  async close(): Promise<void> {}
}
