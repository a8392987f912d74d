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

/** The receipt mark rows of `chat` in `schema`, `kind:throughSeq` in key order. */
export async function receiptMarksIn(url: string, schema: string, chat: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ kind: number; through_seq: string }>(
      `SELECT kind, through_seq FROM ${schema}.receipt_marks WHERE chat_id = $1 ORDER BY user_id, kind, through_seq`,
      [chat],
    );
    return rows.map((r) => `${r.kind}:${r.through_seq}`);
  } finally {
    await client.end();
  }
}
