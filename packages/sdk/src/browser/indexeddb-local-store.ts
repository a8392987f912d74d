/**
 * The SDK's LocalStore in IndexedDB, for the web client: per-chat cursors and named JSON
 * values, so a reload keeps what was received and drains only what is new. Each call is one
 * strict-durability transaction, resolved once committed; a cursor is raised inside its
 * transaction (read, compare, write), so concurrent calls and tabs never lower it.
 */
import type { ChatCursor, LocalStore } from '../local-store.js';
import {
  browserIdb,
  type IdbDatabase,
  type IdbEnvironment,
  openDatabase,
  requestResult,
  writeTransaction,
} from './idb.js';

const CURSORS = 'cursors';
const VALUES = 'values';

export class IndexedDbLocalStore implements LocalStore {
  private closed = false;

  private constructor(
    readonly name: string,
    private readonly db: IdbDatabase,
  ) {}

  /** Opens (or creates) the database `name`; `env` defaults to the page's IndexedDB. */
  static async open(name: string, env: IdbEnvironment = browserIdb()): Promise<IndexedDbLocalStore> {
    return new IndexedDbLocalStore(name, await openDatabase(env, name, [CURSORS, VALUES]));
  }

  async getCursor(chatId: string): Promise<number> {
    const seq = await requestResult(this.read(CURSORS).get(chatId));
    return typeof seq === 'number' ? seq : 0;
  }

  async setCursors(cursors: readonly ChatCursor[]): Promise<void> {
    if (cursors.length === 0) return;
    await writeTransaction(this.open(), CURSORS, (tx) => {
      const store = tx.objectStore(CURSORS);
      for (const { chatId, seq } of cursors) {
        const req = store.get(chatId);
        req.onsuccess = () => {
          if (typeof req.result !== 'number' || seq > req.result) store.put(seq, chatId);
        };
      }
    });
  }

  async load(key: string): Promise<unknown> {
    const text = await requestResult(this.read(VALUES).get(key));
    // Kept as JSON text: what loads is always a fresh copy of exactly what was saved.
    return typeof text === 'string' ? JSON.parse(text) : undefined;
  }

  async save(key: string, value: unknown): Promise<void> {
    const text = JSON.stringify(value);
    await writeTransaction(this.open(), VALUES, (tx) => tx.objectStore(VALUES).put(text, key));
  }

  /** Releases the database connection; later calls fail. */
  close(): void {
    this.closed = true;
    this.db.close();
  }

  private open(): IdbDatabase {
    if (this.closed) throw new Error(`local store ${this.name} is closed`);
    return this.db;
  }

  private read(store: string) {
    return this.open().transaction(store, 'readonly').objectStore(store);
  }
}
