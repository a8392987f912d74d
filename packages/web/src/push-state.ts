/**
 * What the service worker may know while no tab is open, kept in the IndexedDB database
 * `parley-push` by the page (only while notifications with the tab closed are on): which device
 * this browser is, to find its key store for push previews, and the chats' names, for the
 * notification title. Names only: no message, no key, no token.
 */
const DB = 'parley-push';
const STORE = 'state';
const KEY = 'current';

export interface PushState {
  deviceId: string;
  /** Chat id to the name the chat list shows for it. */
  names: Record<string, string>;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run<T>(mode: IDBTransactionMode, use: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = use(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** The state, or undefined when there is none (notifications off, signed out) or it is not one. */
export async function loadPushState(): Promise<PushState | undefined> {
  const value: unknown = await run('readonly', (s) => s.get(KEY));
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.deviceId !== 'string' || typeof v.names !== 'object' || v.names === null) return undefined;
  return value as PushState;
}

export async function savePushState(state: PushState): Promise<void> {
  await run('readwrite', (s) => s.put(state, KEY));
}

export async function clearPushState(): Promise<void> {
  await run('readwrite', (s) => s.delete(KEY));
}
