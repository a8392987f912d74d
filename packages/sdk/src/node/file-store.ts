/**
 * A LocalStore in one JSON file (Node only). Every change is written atomically (temp file,
 * fsync, rename, fsync of the directory) before its promise resolves; changes made while a
 * write is running are coalesced into the next one. File mode 0600: it names contacts.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ChatCursor, LocalStore } from '../local-store.js';

interface FileContent {
  version: 1;
  cursors: Record<string, number>;
  values: Record<string, unknown>;
}

export class FileLocalStore implements LocalStore {
  private scheduled: Promise<void> | undefined;
  private tail: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly content: FileContent,
  ) {}

  /** Opens (or starts) the store at `path`; a missing file is an empty store. */
  static async open(path: string): Promise<FileLocalStore> {
    let content: FileContent = { version: 1, cursors: {}, values: {} };
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<FileContent>;
      content = { version: 1, cursors: parsed.cursors ?? {}, values: parsed.values ?? {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`cannot read local store ${path}: ${(err as Error).message}`, { cause: err });
      }
    }
    return new FileLocalStore(path, content);
  }

  async getCursor(chatId: string): Promise<number> {
    return this.content.cursors[chatId] ?? 0;
  }

  async setCursors(cursors: readonly ChatCursor[]): Promise<void> {
    let changed = false;
    for (const { chatId, seq } of cursors) {
      if (seq > (this.content.cursors[chatId] ?? 0)) {
        this.content.cursors[chatId] = seq;
        changed = true;
      }
    }
    if (changed) await this.persist();
  }

  async load(key: string): Promise<unknown> {
    const value = this.content.values[key];
    return value === undefined ? undefined : structuredClone(value);
  }

  async save(key: string, value: unknown): Promise<void> {
    this.content.values[key] = JSON.parse(JSON.stringify(value));
    await this.persist();
  }

  /** Resolves after a write that started after this call (so it includes every change so far). */
  private persist(): Promise<void> {
    if (!this.scheduled) {
      const write = this.tail.then(() => {
        this.scheduled = undefined;
        return this.writeFile(JSON.stringify(this.content));
      });
      this.scheduled = write;
      this.tail = write.catch(() => {});
    }
    return this.scheduled;
  }

  private async writeFile(text: string): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp-${process.pid}`;
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.path);
    try {
      const d = await open(dir, 'r');
      try {
        await d.sync(); // makes the rename itself durable
      } finally {
        await d.close();
      }
    } catch {
      // Some platforms cannot fsync a directory; the rename is still atomic.
    }
  }
}
