import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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

/** Opens the store at `path` in a child process, which prints "open" and waits to be killed. */
function holdInChild(path: string): Promise<{ kill(): Promise<void> }> {
  const module = new URL('./sqlite-key-store.js', import.meta.url).href;
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { SqliteKeyValueStore } = await import(${JSON.stringify(module)});
       await SqliteKeyValueStore.open(${JSON.stringify(path)});
       console.log('open');
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('open'))
        resolve({
          kill: () =>
            new Promise<void>((res) => {
              child.once('exit', () => res());
              child.kill('SIGKILL');
            }),
        });
    });
    child.once('exit', (code) => reject(new Error(`the child exited (${code}) before opening the store`)));
  });
}

test('SqliteKeyValueStore: one process at a time; the lock goes with the holder, also on SIGKILL', async () => {
  const path = join(root, 'locked', 'keys.db');
  const first = await SqliteKeyValueStore.open(path);
  await first.put('ns', 'k', new Uint8Array([7]));
  await assert.rejects(SqliteKeyValueStore.open(path), { code: 'KEY_STORE_BUSY', name: 'KeyStoreBusyError' });
  await first.close();

  const holder = await holdInChild(path);
  await assert.rejects(SqliteKeyValueStore.open(path), { code: 'KEY_STORE_BUSY' });
  await holder.kill();
  const after = await SqliteKeyValueStore.open(path);
  assert.deepEqual(await after.get('ns', 'k'), new Uint8Array([7]), 'what the first holder wrote is kept');
  await after.close();
});
