import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { keyValueStoreContract } from '../crypto/key-value-store.contract.js';
import { SqliteKeyValueStore } from './sqlite-key-store.js';

const root = await mkdtemp(join(tmpdir(), 'parley-kv-'));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;

keyValueStoreContract(
  'SqliteKeyValueStore',
  async () => {
    const path = join(root, `s${n++}`, 'keys.db');
    const store = await SqliteKeyValueStore.open(path);
    return { store, reopen: () => SqliteKeyValueStore.open(path) };
  },
  { durable: true },
);

test('SqliteKeyValueStore: creates missing parent directories and a private (0600) file', async () => {
  const path = join(root, 'deep', 'er', 'keys.db');
  const store = await SqliteKeyValueStore.open(path);
  await store.put('ns', 'k', new Uint8Array([1]));
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(`${path}-wal`)).mode & 0o777, 0o600);
  assert.equal((await stat(join(root, 'deep', 'er'))).mode & 0o777, 0o700);
  await store.close();
});

test('SqliteKeyValueStore: get returns a plain Uint8Array, not a Buffer', async () => {
  const store = await SqliteKeyValueStore.open(join(root, 'plain.db'));
  await store.put('ns', 'k', new Uint8Array([1, 2]));
  const value = await store.get('ns', 'k');
  assert.equal(Object.getPrototypeOf(value), Uint8Array.prototype);
  await store.close();
});
