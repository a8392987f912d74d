import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { keyValueStoreContract } from '../crypto/key-value-store.contract.js';
import { localStoreContract } from '../local-store.contract.js';
import type { IdbEnvironment } from './idb.js';
import { IndexedDbKeyValueStore } from './indexeddb-key-store.js';
import { IndexedDbLocalStore } from './indexeddb-local-store.js';

const env: IdbEnvironment = { indexedDB, IDBKeyRange };
let n = 0;

keyValueStoreContract(
  'IndexedDbKeyValueStore',
  async () => {
    const name = `keys-${n++}`;
    return {
      store: await IndexedDbKeyValueStore.open(name, env),
      reopen: () => IndexedDbKeyValueStore.open(name, env),
    };
  },
  { durable: true },
);

localStoreContract('IndexedDbLocalStore', async () => {
  const name = `local-${n++}`;
  return {
    store: await IndexedDbLocalStore.open(name, env),
    reopen: () => IndexedDbLocalStore.open(name, env),
  };
});

test('IndexedDbKeyValueStore: keys of one namespace never include a namespace that extends its name', async () => {
  const store = await IndexedDbKeyValueStore.open(`keys-${n++}`, env);
  await store.put('ns', 'k', Uint8Array.of(1));
  await store.put('ns2', 'k', Uint8Array.of(2));
  await store.put('n', 'k', Uint8Array.of(3));
  await store.put('ns', '', Uint8Array.of(4));
  assert.deepEqual(await store.keys('ns'), ['', 'k']);
  assert.deepEqual(await store.keys('n'), ['k']);
  await store.close();
});

test('IndexedDbKeyValueStore: a value written by one connection is read by another at once', async () => {
  const name = `keys-${n++}`;
  const a = await IndexedDbKeyValueStore.open(name, env);
  const b = await IndexedDbKeyValueStore.open(name, env);
  await a.put('ns', 'k', Uint8Array.of(7, 8));
  assert.deepEqual(await b.get('ns', 'k'), Uint8Array.of(7, 8));
  await a.close();
  await b.close();
});

test('IndexedDbLocalStore: calls after close fail, and the cursor written before is kept', async () => {
  const name = `local-${n++}`;
  const store = await IndexedDbLocalStore.open(name, env);
  await store.setCursors([{ chatId: 'c', seq: 4 }]);
  store.close();
  await assert.rejects(store.getCursor('c'), /closed/);
  await assert.rejects(store.save('k', 1), /closed/);
  const again = await IndexedDbLocalStore.open(name, env);
  assert.equal(await again.getCursor('c'), 4);
  again.close();
});
