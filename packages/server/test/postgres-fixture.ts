/** A PostgresStore on a fresh schema of the test database, and `done` to drop that schema. */
import { PostgresStore } from '../src/adapters/store/postgres/postgres-store.js';
import { dropSchema, freshSchema } from '../src/adapters/store/postgres/testing.js';

export async function freshPostgresStore(
  url: string,
): Promise<{ store: PostgresStore; done: () => Promise<void> }> {
  const schema = freshSchema();
  const store = await PostgresStore.open(url, { schema, poolSize: 8 });
  // The node closes the store when it stops; then the schema goes.
  return { store, done: () => dropSchema(url, schema) };
}
