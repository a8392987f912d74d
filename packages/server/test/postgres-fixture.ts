/** Stores for node tests that run on both backends: SQLite in a temporary folder, PostgreSQL on a fresh schema. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStore } from '../src/adapters/store/postgres/postgres-store.js';
import { dropSchema, freshSchema } from '../src/adapters/store/postgres/testing.js';
import { SqliteWorkerStore } from '../src/adapters/store/sqlite-worker/worker-store.js';
import type { Store } from '../src/ports/store.js';

/** A PostgresStore on a fresh schema of the test database, and `done` to drop that schema. */
export async function freshPostgresStore(
  url: string,
): Promise<{ store: PostgresStore; done: () => Promise<void> }> {
  const schema = freshSchema();
  const store = await PostgresStore.open(url, { schema, poolSize: 8 });
  // The node closes the store when it stops; then the schema goes.
  return { store, done: () => dropSchema(url, schema) };
}

export interface StoreBackend {
  name: string;
  skip?: string;
  open: () => Promise<{ store: Store; done: () => Promise<void> }>;
}

/**
 * A SQLite store (in its worker threads, in a new folder named from `tmpPrefix`) and a
 * PostgreSQL one (skipped without PARLEY_TEST_POSTGRES_URL); `done` removes what it made.
 */
export function storeBackends(tmpPrefix: string): StoreBackend[] {
  const url = process.env.PARLEY_TEST_POSTGRES_URL;
  return [
    {
      name: 'SQLite',
      open: async () => {
        const dir = mkdtempSync(join(tmpdir(), tmpPrefix));
        const store = SqliteWorkerStore.open({ path: join(dir, 'parley.db') });
        return { store, done: async () => rmSync(dir, { recursive: true, force: true }) };
      },
    },
    {
      name: 'PostgreSQL',
      ...(url === undefined && { skip: 'PARLEY_TEST_POSTGRES_URL is not set' }),
      open: () => freshPostgresStore(url!),
    },
  ];
}
