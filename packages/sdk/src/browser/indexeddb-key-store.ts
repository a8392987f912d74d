/**
 * KeyValueStore in IndexedDB, for a browser device's private keys and sessions. One object
 * store, keyed by [namespace, key] so one key range lists a namespace in IndexedDB's string
 * order (UTF-16 code units, as the port asks). A resolved put or delete is a committed
 * strict-durability transaction. Values are kept as bytes: curve and Kyber private keys
 * cannot be non-extractable CryptoKeys (docs/security.md, "Browser devices").
 */
import type { KeyValueStore } from '../crypto/types.js';
import {
  browserIdb,
  type IdbDatabase,
  type IdbEnvironment,
  openDatabase,
  requestResult,
  writeTransaction,
} from './idb.js';

const STORE = 'kv';

export class IndexedDbKeyValueStore implements KeyValueStore {
  private closed = false;

  private constructor(
    readonly name: string,
    private readonly db: IdbDatabase,
    private readonly env: IdbEnvironment,
  ) {}

  /** Opens (or creates) the database `name`; `env` defaults to the page's IndexedDB. */
  static async open(name: string, env: IdbEnvironment = browserIdb()): Promise<IndexedDbKeyValueStore> {
    return new IndexedDbKeyValueStore(name, await openDatabase(env, name, [STORE]), env);
  }

  async get(ns: string, key: string): Promise<Uint8Array | undefined> {
    const value = await requestResult(this.read().get([ns, key]));
    return value === undefined ? undefined : new Uint8Array(value as ArrayBuffer);
  }

  async put(ns: string, key: string, value: Uint8Array): Promise<void> {
    // An ArrayBuffer of its own: the caller may change `value` afterwards.
    const copy = value.slice().buffer;
    await writeTransaction(this.open(), STORE, (tx) => tx.objectStore(STORE).put(copy, [ns, key]));
  }

  async delete(ns: string, key: string): Promise<void> {
    await writeTransaction(this.open(), STORE, (tx) => tx.objectStore(STORE).delete([ns, key]));
  }

  async keys(ns: string): Promise<string[]> {
    // Every [ns, string] key sorts after [ns, ''] and before [ns, []] (arrays follow strings).
    const range = this.env.IDBKeyRange.bound([ns, ''], [ns, []]);
    const keys = await requestResult(this.read().getAllKeys(range));
    return keys.map((k) => (k as [string, string])[1]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private open(): IdbDatabase {
    if (this.closed) throw new Error(`key store ${this.name} is closed`);
    return this.db;
  }

  private read() {
    return this.open().transaction(STORE, 'readonly').objectStore(STORE);
  }
}
