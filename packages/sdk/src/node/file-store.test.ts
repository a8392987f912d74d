import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { localStoreContract } from '../local-store.contract.js';
import { FileLocalStore } from './file-store.js';

const root = await mkdtemp(join(tmpdir(), 'parley-store-'));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;

localStoreContract('FileLocalStore', async () => {
  const path = join(root, `s${n++}`, 'store.json');
  const store = await FileLocalStore.open(path);
  return { store, reopen: () => FileLocalStore.open(path) };
});

test('FileLocalStore: the file is private (0600) and valid JSON after writes', async () => {
  const path = join(root, 'private', 'store.json');
  const store = await FileLocalStore.open(path);
  await store.setCursors([{ chatId: 'c', seq: 3 }]);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')).cursors, { c: 3 });
});

test('FileLocalStore: a corrupt file is reported, not silently reset', async () => {
  const path = join(root, 'corrupt.json');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, '{not json');
  await assert.rejects(FileLocalStore.open(path), /cannot read local store/);
});
