/**
 * Numbered migrations, applied in one transaction that holds a transaction-scoped advisory
 * lock for the schema: nodes starting together queue on the lock, and each later one finds
 * the versions already recorded in schema_migrations, so every migration runs exactly once.
 */
import type pg from 'pg';
import { assertSchemaName, createPool, withClient } from './db.js';
import { toStoreError } from './errors.js';
import { migration as m001 } from './migrations/001_init.js';
import { migration as m002 } from './migrations/002_keys.js';
import { migration as m003 } from './migrations/003_one_time_grants.js';
import { migration as m004 } from './migrations/004_media_uploads.js';
import { migration as m005 } from './migrations/005_registration_locks.js';
import { migration as m006 } from './migrations/006_discovery_lookups.js';
import { migration as m007 } from './migrations/007_profiles.js';
import { migration as m008 } from './migrations/008_blocking_reports.js';
import { migration as m009 } from './migrations/009_receipt_at.js';
import { migration as m010 } from './migrations/010_sent_receipt_at.js';
import { migration as m011 } from './migrations/011_push.js';
import { migration as m012 } from './migrations/012_mutes.js';
import { migration as m013 } from './migrations/013_push_preview.js';
import { migration as m014 } from './migrations/014_media_refs.js';
import { migration as m015 } from './migrations/015_trim_receipt_marks.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  m001,
  m002,
  m003,
  m004,
  m005,
  m006,
  m007,
  m008,
  m009,
  m010,
  m011,
  m012,
  m013,
  m014,
  m015,
];

export interface MigrateResult {
  /** Versions this call applied (empty when the schema was up to date). */
  applied: number[];
  /** The newest version known to this code. */
  current: number;
  /** Versions recorded by newer code than this (a rolling upgrade in progress). */
  unknown: number[];
}

/**
 * Brings the schema up to date on one connection. `schema` (when given) is created first;
 * the connection's search_path must already name it.
 */
export async function applyMigrations(
  client: pg.ClientBase,
  schema: string | undefined,
): Promise<MigrateResult> {
  if (schema !== undefined) assertSchemaName(schema);
  await client.query('BEGIN');
  try {
    // Migrations may take long (and wait long for another node's), so the pool's statement
    // and lock timeouts are lifted for this transaction only.
    await client.query('SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0');
    // One lock per schema: test schemas and deployments side by side do not wait on each other.
    await client.query(
      "SELECT pg_advisory_xact_lock(hashtextextended('parley.migrate:' || coalesce($1, current_schema(), ''), 0))",
      [schema ?? null],
    );
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
        (r) => r.version,
      ),
    );
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    const known = new Set(migrations.map((m) => m.version));
    return {
      applied,
      current: migrations[migrations.length - 1]!.version,
      unknown: [...done].filter((v) => !known.has(v)).sort((a, b) => a - b),
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Migrates the database at `url` (for `parley migrate`, or before starting nodes) and
 * closes its connection. Errors are ParleyErrors (UNAVAILABLE when unreachable).
 */
export async function migrate(url: string, options: { schema?: string } = {}): Promise<MigrateResult> {
  let pool: pg.Pool | undefined;
  try {
    pool = createPool(url, { schema: options.schema, poolSize: 1 });
    pool.on('error', () => undefined); // an idle connection dropped: nothing to do, it is closed
    return await withClient(pool, (client) => applyMigrations(client, options.schema));
  } catch (err) {
    throw toStoreError(err);
  } finally {
    await pool?.end();
  }
}
