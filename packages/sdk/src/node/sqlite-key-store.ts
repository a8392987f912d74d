/**
 * KeyValueStore in one SQLite file (Node only), for the device's private keys and sessions.
 * WAL with synchronous=FULL: a resolved put survives power loss. The file (and SQLite's WAL
 * file, which inherits its mode) is 0600 and its new parent directory 0700.
 *
 * One process at a time: the store holds SQLite's exclusive lock from open to close, so a
 * second opener (another `parley` process on the same profile) fails at once with
 * KEY_STORE_BUSY instead of both overwriting each other's sessions. The operating system
 * releases the lock when the holder exits, also on a crash.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { KeyValueStore } from '../crypto/types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  ns TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (ns, key)
) WITHOUT ROWID;
`;

/** Another process has the key store open. */
export class KeyStoreBusyError extends Error {
  readonly code = 'KEY_STORE_BUSY';
  constructor(readonly path: string) {
    super(`key store ${path} is in use by another process (one process per store)`);
    this.name = 'KeyStoreBusyError';
  }
}

export class SqliteKeyValueStore implements KeyValueStore {
  private readonly selectValue: Database.Statement<[string, string], { value: Buffer }>;
  private readonly upsert: Database.Statement<[string, string, Uint8Array]>;
  private readonly remove: Database.Statement<[string, string]>;
  private readonly selectKeys: Database.Statement<[string], { key: string }>;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {
    // Parameters: ns, key.
    this.selectValue = db.prepare('SELECT value FROM kv WHERE ns = ? AND key = ?');
    // Parameters: ns, key, value.
    this.upsert = db.prepare(
      'INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value',
    );
    // Parameters: ns, key.
    this.remove = db.prepare('DELETE FROM kv WHERE ns = ? AND key = ?');
    // Parameters: ns.
    this.selectKeys = db.prepare('SELECT key FROM kv WHERE ns = ?');
  }

  /** Opens (or creates) the store at `path`, creating missing parent directories. */
  static async open(path: string): Promise<SqliteKeyValueStore> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Create the file with mode 0600 before SQLite does (it would use the umask).
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    const db = new Database(path, { timeout: 500 });
    try {
      // Before the first access: in exclusive mode SQLite keeps the WAL index in memory (no
      // shm file) and holds its file lock until close.
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
      // A write takes the exclusive lock now, not at the first put.
      db.exec('BEGIN IMMEDIATE; COMMIT');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        throw new KeyStoreBusyError(path);
      }
      throw new Error(`cannot open key store ${path}: ${(err as Error).message}`, { cause: err });
    }
    return new SqliteKeyValueStore(path, db);
  }

  async get(ns: string, key: string): Promise<Uint8Array | undefined> {
    const row = this.selectValue.get(ns, key);
    return row ? new Uint8Array(row.value) : undefined;
  }

  async put(ns: string, key: string, value: Uint8Array): Promise<void> {
    this.upsert.run(ns, key, value);
  }

  async delete(ns: string, key: string): Promise<void> {
    this.remove.run(ns, key);
  }

  async keys(ns: string): Promise<string[]> {
    // Sorted here, not by SQLite, so the order is the same code-unit order as other stores.
    return this.selectKeys
      .all(ns)
      .map((row) => row.key)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
