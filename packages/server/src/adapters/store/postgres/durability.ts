/**
 * The durability check made at open: a resolved call must have survived the database
 * server's power loss, as SQLite's synchronous=FULL does for the embedded store.
 *
 * Rule: `fsync` must be on, and `synchronous_commit` must wait for the local WAL flush:
 * `on`, `remote_write` and `remote_apply` are accepted; `off` is refused (a commit returns
 * before its WAL reaches disk). `local` also flushes locally and is accepted when the server
 * has no synchronous standby (then it is the same as `on`); with synchronous_standby_names
 * set it is refused, because it would skip the standby the operator asked commits to wait
 * for, and a failover would lose acknowledged messages. Whether asynchronous replicas may be
 * promoted is the operator's choice and cannot be seen from here.
 */
import type pg from 'pg';

export interface PostgresDurability {
  synchronousCommit: string;
  fsync: string;
  synchronousStandbyNames: string;
  /** Why a resolved call might not survive power loss; undefined when it will. */
  problem: string | undefined;
}

export async function checkPostgresDurability(pool: pg.Pool): Promise<PostgresDurability> {
  const { rows } = await pool.query<{ sc: string; fsync: string; ssn: string }>(
    "SELECT current_setting('synchronous_commit') AS sc, current_setting('fsync') AS fsync, current_setting('synchronous_standby_names') AS ssn",
  );
  const { sc, fsync, ssn } = rows[0]!;
  return { synchronousCommit: sc, fsync, synchronousStandbyNames: ssn, problem: problemOf(sc, fsync, ssn) };
}

function problemOf(synchronousCommit: string, fsync: string, standbys: string): string | undefined {
  if (fsync !== 'on') return `fsync=${fsync}: the server does not flush commits to disk`;
  if (synchronousCommit === 'off') {
    return 'synchronous_commit=off: a commit returns before its WAL is flushed to disk';
  }
  if (synchronousCommit === 'local' && standbys.trim() !== '') {
    return 'synchronous_commit=local: commits skip the synchronous standby the server is configured for';
  }
  if (!['on', 'remote_write', 'remote_apply', 'local'].includes(synchronousCommit)) {
    return `synchronous_commit=${synchronousCommit} is not a setting this check knows to be durable`;
  }
  return undefined;
}
