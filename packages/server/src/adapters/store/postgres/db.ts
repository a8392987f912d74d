/**
 * The adapter's pool and its two ways to run statements: one at a time on the pool, or
 * several in one transaction on one connection, retried from the start on a deadlock or
 * serialization failure. Statements are named, so each connection parses them once.
 */
import { ParleyError } from '@parley/protocol';
import pg from 'pg';
import { isRetryable } from './errors.js';
import { type StatementName, sql } from './statements.js';

export type Row = Record<string, unknown>;

/** Runs the adapter's named statements; implemented by the pool and by a transaction. */
export interface Db {
  rows<R = Row>(name: StatementName, values?: readonly unknown[]): Promise<R[]>;
  /** How many rows the statement changed (or returned). */
  count(name: StatementName, values?: readonly unknown[]): Promise<number>;
}

export interface PoolOptions {
  /** Schema for every table (created by the migrations); the server default when absent. */
  schema?: string | undefined;
  poolSize?: number | undefined;
  /**
   * statement_timeout of every connection, in ms (default 30 000): a statement running
   * longer is cancelled. 0 leaves the server's own setting (off unless configured there).
   */
  statementTimeoutMs?: number | undefined;
  /**
   * lock_timeout of every connection, in ms (default 10 000): a statement waiting longer for
   * a lock is cancelled. 0 leaves the server's own setting (off unless configured there).
   */
  lockTimeoutMs?: number | undefined;
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

const INT8 = 20;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A pool whose connections parse int8 (seqs, times, counts) as numbers, start with the
 * statement and lock timeouts set (startup parameters, so a stuck query or lock wait fails
 * instead of hanging a node), with JIT compilation off (see `withStartupOptions`) and, when
 * a schema is given, with search_path set to it: every connection, also those opened later.
 */
export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const statementTimeout = timeoutMs(
    'statementTimeoutMs',
    options.statementTimeoutMs,
    DEFAULT_STATEMENT_TIMEOUT_MS,
  );
  const lockTimeout = timeoutMs('lockTimeoutMs', options.lockTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS);
  const types = new pg.TypeOverrides();
  // Seqs and millisecond timestamps stay far below 2^53.
  types.setTypeParser(INT8, Number);
  return new pg.Pool({
    connectionString: withStartupOptions(url, options.schema),
    max: options.poolSize ?? 10,
    types,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: 'parley',
    // Not sent when undefined: the server's setting stays.
    statement_timeout: statementTimeout > 0 ? statementTimeout : undefined,
    lock_timeout: lockTimeout > 0 ? lockTimeout : undefined,
  });
}

function timeoutMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0 || value > 2_147_483_647) {
    throw new ParleyError('INVALID_ARGUMENT', `${name} must be a whole number of milliseconds, 0 or more`);
  }
  return value;
}

/**
 * Adds to the connection's startup options, keeping any given ones:
 * - `-c jit=off`, unless the URL's options set `jit` themselves. Every statement here is a
 *   short one, but on large tables the planner's estimates pass the JIT threshold, and
 *   compiling then takes 100-200 ms a call against 1-30 ms to run the statement (measured on
 *   the chat directory's pages and the connect's receipt catch-up with 499,500 chats:
 *   docs/performance.md).
 * - `-c search_path=<schema>` when a schema is given.
 */
function withStartupOptions(url: string, schema: string | undefined): string {
  if (schema !== undefined) assertSchemaName(schema);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // The URL may hold a password: never repeat it.
    if (schema !== undefined) {
      throw new ParleyError('INVALID_ARGUMENT', 'the PostgreSQL URL is not a postgres:// URL');
    }
    return url; // left to the driver, which reports what is wrong with it
  }
  const given = u.searchParams.get('options') ?? '';
  const added = [
    ...(/(^|\s)(-c\s*|--)jit=/.test(given) ? [] : ['-c jit=off']),
    ...(schema !== undefined ? [`-c search_path=${schema}`] : []),
  ];
  u.searchParams.set('options', [given, ...added].filter((o) => o !== '').join(' '));
  return u.toString();
}

/** Schema names are spliced into SQL and startup options, so only plain identifiers pass. */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new ParleyError('INVALID_ARGUMENT', 'the PostgreSQL schema must be a lowercase SQL identifier');
  }
}

function executor(q: pg.Pool | pg.PoolClient): Db {
  return {
    async rows<R>(name: StatementName, values: readonly unknown[] = []) {
      const r = await q.query({ name, text: sql[name], values: values as unknown[] });
      return r.rows as R[];
    },
    async count(name: StatementName, values: readonly unknown[] = []) {
      const r = await q.query({ name, text: sql[name], values: values as unknown[] });
      return r.rowCount ?? 0;
    },
  };
}

export function poolDb(pool: pg.Pool): Db {
  return executor(pool);
}

/**
 * Runs `fn` on one connection of the pool. `drop` marks the connection unusable, so it is
 * closed instead of going back to the pool.
 */
export async function withClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, drop: (err: Error) => void) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const drop = (err: Error) => {
    broken = err;
  };
  // A checked-out connection has no pool listener: a server-side drop between two
  // statements would otherwise be an unhandled 'error' event and end the process.
  client.on('error', drop);
  try {
    return await fn(client, drop);
  } finally {
    client.off('error', drop);
    client.release(broken);
  }
}

const MAX_ATTEMPTS = 6;

export interface TransactionOptions {
  /**
   * Commit without waiting for the WAL flush (`SET LOCAL synchronous_commit = off`). Only
   * for writes the port says need not survive power loss.
   */
  relaxed?: boolean;
}

/**
 * Runs `fn` in one READ COMMITTED transaction on one connection. A deadlock, serialization
 * failure or RetryTransaction rolls back and runs `fn` again (a few times, with jitter), so
 * `fn` must have no effect outside the database.
 */
export async function transaction<T>(
  pool: pg.Pool,
  fn: (db: Db) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const begin = options.relaxed ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN';
  for (let attempt = 1; ; attempt++) {
    try {
      return await withClient(pool, async (client, drop) => {
        await client.query(begin);
        try {
          const out = await fn(executor(client));
          await client.query('COMMIT');
          return out;
        } catch (err) {
          await client.query('ROLLBACK').catch(drop);
          throw err;
        }
      });
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(err)) throw err;
    }
    await new Promise((r) => setTimeout(r, (1 << attempt) * (1 + Math.random())));
  }
}
