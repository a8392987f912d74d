/**
 * Statements prepared on first use, for the SQLite modules of one feature each: a database
 * whose feature is never used (or that an older schema lacks) never prepares them.
 */
import type Database from 'better-sqlite3';

export type Prepared<S> = { [K in keyof S]: Database.Statement };

/** Returns the statements of `sql`, each prepared the first time any of them is asked for. */
export function preparedOnFirstUse<S extends Record<string, string>>(
  db: Database.Database,
  sql: S,
): () => Prepared<S> {
  let prepared: Prepared<S> | undefined;
  return () => {
    prepared ??= Object.fromEntries(Object.entries(sql).map(([k, v]) => [k, db.prepare(v)])) as Prepared<S>;
    return prepared;
  };
}
