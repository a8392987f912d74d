/**
 * `parley migrate`: applies the store's schema migrations and exits. Nodes also apply them
 * at start (under an advisory lock on PostgreSQL); this runs them ahead of a rollout.
 */
import { join, resolve } from 'node:path';
import { ParleyError } from '@parley/protocol';
import { loadConfig } from './config/load.js';

const HELP = `Usage: parley migrate [--store sqlite|postgres://...] [--data-dir DIR]

Applies the schema migrations of the configured store and exits. The same settings as
"parley serve" are read (flags, then PARLEY_* environment); only --store and --data-dir
matter here. Safe to run while nodes are up and from several places at once.
`;

export async function migrateMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    const config = loadConfig({ env, argv });
    if (config.store === 'sqlite') {
      const { SqliteStore } = await import('./adapters/store/sqlite/sqlite-store.js');
      const path = join(resolve(config.dataDir), 'parley.db');
      const store = new SqliteStore({ path, synchronous: 'FULL' });
      await store.close();
      process.stdout.write(`SQLite schema at ${path} is up to date\n`);
      return 0;
    }
    const { migrate } = await import('./adapters/store/postgres/migrate.js');
    const r = await migrate(config.store);
    process.stdout.write(
      r.applied.length
        ? `applied migrations ${r.applied.join(', ')}; schema version ${r.current}\n`
        : `schema is up to date (version ${r.current})\n`,
    );
    if (r.unknown.length) {
      process.stdout.write(`note: versions ${r.unknown.join(', ')} were applied by newer code\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof ParleyError) {
      const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
      process.stderr.write(`parley migrate: ${err.message}${cause}\n`);
      return 1;
    }
    throw err;
  }
}
