/** For tests against a real PostgreSQL: fresh schema names, and dropping a schema afterwards. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const freshSchema = () => `parley_t_${randomBytes(6).toString('hex')}`;

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
