import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeContract } from '../../../ports/store.contract.js';
import { SqliteWorkerStore } from './worker-store.js';

storeContract('SqliteWorkerStore (file, worker thread)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'parley-sqlite-worker-'));
  const store = SqliteWorkerStore.open({ path: join(dir, 'parley.db') });
  await store.ready;
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});
