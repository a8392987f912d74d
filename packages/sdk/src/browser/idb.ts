/**
 * The little of IndexedDB the SDK's browser stores use, typed structurally (the SDK builds
 * without the DOM library) and wrapped in promises. A page passes nothing and gets the
 * browser's own `indexedDB`; tests in Node pass an implementation from the registry.
 * Every write is a `readwrite` transaction with `durability: 'strict'`, resolved on its
 * `complete` event: the browser has then flushed it to disk, not only queued it.
 */

export type IdbKey = string | number | IdbKey[];

export interface IdbRequest<T = unknown> {
  result: T;
  error: { name: string; message: string } | null;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}

export interface IdbObjectStore {
  get(key: IdbKey): IdbRequest;
  put(value: unknown, key: IdbKey): IdbRequest;
  delete(key: IdbKey): IdbRequest;
  getAllKeys(range?: unknown): IdbRequest<IdbKey[]>;
}

export interface IdbTransaction {
  objectStore(name: string): IdbObjectStore;
  error: { name: string; message: string } | null;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  abort(): void;
}

export interface IdbDatabase {
  readonly objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): unknown;
  transaction(
    stores: string | string[],
    mode: 'readonly' | 'readwrite',
    options?: { durability: 'strict' | 'relaxed' | 'default' },
  ): IdbTransaction;
  close(): void;
  onversionchange: (() => void) | null;
}

export interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
}

/** What the stores need from the platform: `indexedDB` and `IDBKeyRange`. */
export interface IdbEnvironment {
  indexedDB: { open(name: string, version: number): IdbOpenRequest };
  IDBKeyRange: { bound(lower: IdbKey, upper: IdbKey): unknown };
}

/** The page's own IndexedDB; fails clearly where there is none. */
export function browserIdb(): IdbEnvironment {
  const g = globalThis as unknown as Partial<IdbEnvironment>;
  if (!g.indexedDB || !g.IDBKeyRange) throw new Error('no IndexedDB here: pass an IdbEnvironment');
  return { indexedDB: g.indexedDB, IDBKeyRange: g.IDBKeyRange };
}

/** Opens (or creates) database `name` at version 1 with the given object stores. */
export function openDatabase(
  env: IdbEnvironment,
  name: string,
  stores: readonly string[],
): Promise<IdbDatabase> {
  return new Promise((resolve, reject) => {
    const req = env.indexedDB.open(name, 1);
    req.onupgradeneeded = () => {
      for (const store of stores) {
        if (!req.result.objectStoreNames.contains(store)) req.result.createObjectStore(store);
      }
    };
    req.onsuccess = () => {
      const db = req.result;
      // Another tab deleting or upgrading the database: let it, later calls here fail.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    req.onerror = () => reject(idbError(`cannot open IndexedDB database ${name}`, req.error));
    req.onblocked = () => reject(new Error(`IndexedDB database ${name} is held open at an older version`));
  });
}

/** The result of one request. */
export function requestResult<T>(req: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(idbError('IndexedDB request failed', req.error));
  });
}

/**
 * Runs `work` in one strict-durability readwrite transaction over `stores` and resolves once
 * the transaction completed (committed and flushed); a failure aborts all of it.
 */
export function writeTransaction(
  db: IdbDatabase,
  stores: string | string[],
  work: (tx: IdbTransaction) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(stores, 'readwrite', { durability: 'strict' });
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(idbError('IndexedDB transaction failed', tx.error));
    tx.onabort = () => reject(idbError('IndexedDB transaction aborted', tx.error));
    try {
      work(tx);
    } catch (err) {
      tx.abort();
      reject(err);
    }
  });
}

function idbError(what: string, cause: { name: string; message: string } | null): Error {
  return new Error(cause ? `${what}: ${cause.name}: ${cause.message}` : what, { cause });
}
