/**
 * Scans every column of every table of a real database for rows that contain any of some
 * needles (a user id, a phone number, a phone hash), reading the schema from the database
 * itself (SQLite: sqlite_master and table_info; PostgreSQL: information_schema), so a table
 * added later is scanned without changing this file. A match anywhere in a value counts:
 * inside text, inside an array, inside encoded bytes.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

export interface Hit {
  table: string;
  column: string;
  row: Record<string, unknown>;
}

/** Needles as bytes; text columns are matched against their UTF-8 form. */
export type Needles = readonly Uint8Array[];

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export function scanSqlite(path: string, needles: Needles): Hit[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const hits: Hit[] = [];
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as Array<{ name: string }>;
    for (const { name: table } of tables) {
      const columns = db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as Array<{
        name: string;
      }>;
      for (const { name: column } of columns) {
        const q = db.prepare(
          `SELECT * FROM ${quote(table)} WHERE instr(CAST(${quote(column)} AS BLOB), ?) > 0`,
        );
        for (const needle of needles) {
          for (const row of q.all(Buffer.from(needle)) as Array<Record<string, unknown>>) {
            hits.push({ table, column, row });
          }
        }
      }
    }
    return hits;
  } finally {
    db.close();
  }
}

export async function scanPostgres(url: string, schema: string, needles: Needles): Promise<Hit[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const hits: Hit[] = [];
    const { rows: columns } = await client.query<{
      table_name: string;
      column_name: string;
      data_type: string;
    }>(
      `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
       ORDER BY c.table_name, c.ordinal_position`,
      [schema],
    );
    for (const { table_name: table, column_name: column, data_type: type } of columns) {
      const from = `${quote(schema)}.${quote(table)}`;
      // Bytes are searched as bytes; anything else (text, arrays, numbers) as its text form.
      const where =
        type === 'bytea'
          ? `position($1::bytea in ${quote(column)}) > 0`
          : `position($1::bytea in convert_to(${quote(column)}::text, 'UTF8')) > 0`;
      for (const needle of needles) {
        const { rows } = await client.query(`SELECT * FROM ${from} WHERE ${where}`, [Buffer.from(needle)]);
        for (const row of rows) hits.push({ table, column, row });
      }
    }
    return hits;
  } finally {
    await client.end();
  }
}

/** Every file under `dir` (a node's data directory: database, WAL, media), recursively. */
export function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((name) => join(dir, name))
    .filter((p) => statSync(p).isFile());
}
