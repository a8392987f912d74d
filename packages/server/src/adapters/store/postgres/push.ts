/**
 * The push outbox in PostgreSQL (Store push methods, see ports/store-push.ts). Workers on
 * every node lease due jobs with FOR UPDATE SKIP LOCKED, so one job goes to one worker; a
 * crashed node's leases run out and the jobs are leased again. `recordJobs` runs inside the
 * message commit's transaction.
 */
import type { CommitResult, SendCommit } from '../../../ports/store.js';
import type { PushDeviceStatus, PushJob, PushJobFinish, PushStore } from '../../../ports/store-push.js';
import type { DeviceId, UserId } from '../../../ports/types.js';
import {
  type AttemptRow,
  type DeadRow,
  deviceStatuses,
  type JobRow,
  type RegistrationRow,
  targetOf,
  toJob,
} from '../push-rows.js';
import type { Db } from './db.js';

export const pushSql = {
  /**
   * $1 device[] (sorted: rows are locked in device order, so commits never deadlock here),
   * $2 user[], $3 chat[], $4 seq[], $5 due_at[], $6 created_at[], $7 mentioned[], $8 preview[]: one more
   * message per device
   */
  pushJobsUpsert: `INSERT INTO push_jobs AS j (device_id, user_id, chat_id, first_seq, last_seq, message_count, due_at, created_at, mentioned, preview)
    SELECT d, u, c, s, s, 1, due, at, m, p FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
      $6::bigint[], $7::boolean[], $8::bytea[]) AS t(d, u, c, s, due, at, m, p)
    ORDER BY d
    ON CONFLICT (device_id) DO UPDATE SET chat_id = excluded.chat_id, last_seq = excluded.last_seq,
      message_count = j.message_count + 1, mentioned = j.mentioned OR excluded.mentioned, preview = excluded.preview`,
  /** $1 platform, $2 token_key, $3 device_id: other devices holding this token (locked) */
  pushRegHolders: `SELECT device_id FROM push_registrations WHERE platform = $1 AND token_key = $2 AND device_id <> $3
    FOR UPDATE`,
  /** $1 device_id[] */
  pushRegDelete: 'DELETE FROM push_registrations WHERE device_id = ANY($1::text[])',
  /** $1 device_id[] */
  pushJobDelete: 'DELETE FROM push_jobs WHERE device_id = ANY($1::text[])',
  /** $1 device_id, $2 user_id, $3 platform, $4 token_key, $5 target (json), $6 now */
  pushRegUpsert: `INSERT INTO push_registrations (device_id, user_id, platform, token_key, target, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6)
    ON CONFLICT (device_id) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform,
      token_key = excluded.token_key, target = excluded.target, updated_at = excluded.updated_at`,
  /** $1 device_id */
  pushRegGet: 'SELECT * FROM push_registrations WHERE device_id = $1',
  /** $1 device_id[] */
  pushRegsOf: 'SELECT * FROM push_registrations WHERE device_id = ANY($1::text[])',
  /** $1 after, $2 limit */
  pushRegPage:
    'SELECT device_id, user_id FROM push_registrations WHERE device_id > $1 ORDER BY device_id LIMIT $2',
  /** $1 owner, $2 lease_until, $3 now, $4 limit */
  pushJobsLease: `UPDATE push_jobs j SET lease_owner = $1, lease_until = $2 FROM (
      SELECT device_id FROM push_jobs WHERE due_at <= $3 AND lease_until <= $3
      ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED) t
    WHERE j.device_id = t.device_id RETURNING j.*`,
  /** $1 device_id, $2 owner (locked) */
  pushJobLeased: 'SELECT * FROM push_jobs WHERE device_id = $1 AND lease_owner = $2 FOR UPDATE',
  /** $1 device_id, $2 owner, $3 message_count */
  pushJobDeleteTaken:
    'DELETE FROM push_jobs WHERE device_id = $1 AND lease_owner = $2 AND message_count = $3',
  /** $1 taken count, $2 device_id, $3 owner: keeps the messages that came after the lease */
  pushJobKeepRest: `UPDATE push_jobs SET message_count = message_count - $1, attempts = 0, lease_owner = '', lease_until = 0
    WHERE device_id = $2 AND lease_owner = $3`,
  /** $1 due_at, $2 device_id, $3 owner */
  pushJobRetry: `UPDATE push_jobs SET attempts = attempts + 1, due_at = $1, lease_owner = '', lease_until = 0
    WHERE device_id = $2 AND lease_owner = $3`,
  /** $1 device, $2 user, $3 chat, $4 first_seq, $5 last_seq, $6 count, $7 attempts, $8 reason, $9 created_at, $10 dead_at */
  pushDeadInsert: `INSERT INTO push_dead_letters
    (device_id, user_id, chat_id, first_seq, last_seq, message_count, attempts, reason, created_at, dead_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
  /** $1 device, $2 user, $3 at, $4 platform, $5 outcome, $6 status, $7 reason, $8 latency_ms */
  pushAttemptInsert: `INSERT INTO push_attempts (device_id, user_id, at, platform, outcome, status, reason, latency_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  /** $1 device_id, $2 keep */
  pushAttemptsTrim: `DELETE FROM push_attempts WHERE device_id = $1 AND id NOT IN (
    SELECT id FROM push_attempts WHERE device_id = $1 ORDER BY id DESC LIMIT $2)`,
  /** $1 user_id */
  pushStatusDevices: `SELECT id AS device_id FROM devices WHERE user_id = $1
    UNION SELECT device_id FROM push_registrations WHERE user_id = $1
    UNION SELECT device_id FROM push_jobs WHERE user_id = $1
    UNION SELECT device_id FROM push_attempts WHERE user_id = $1
    UNION SELECT device_id FROM push_dead_letters WHERE user_id = $1`,
  /** $1 user_id */
  pushRegsOfUser: 'SELECT * FROM push_registrations WHERE user_id = $1',
  /** $1 user_id */
  pushJobsOfUser: 'SELECT * FROM push_jobs WHERE user_id = $1',
  /** $1 user_id */
  pushAttemptsOfUser: 'SELECT * FROM push_attempts WHERE user_id = $1 ORDER BY id DESC',
  /** $1 user_id */
  pushDeadOfUser: 'SELECT * FROM push_dead_letters WHERE user_id = $1 ORDER BY id DESC',
  /** $1 user_id or NULL for all, $2 now: dead letters back to jobs (one per device), returns devices */
  pushDeadRequeue: `WITH gone AS (
      DELETE FROM push_dead_letters WHERE $1::text IS NULL OR user_id = $1 RETURNING *),
    per AS (
      SELECT device_id, min(user_id) AS user_id, (array_agg(chat_id ORDER BY id DESC))[1] AS chat_id,
        min(first_seq) AS first_seq, max(last_seq) AS last_seq, sum(message_count)::int AS n, min(created_at) AS at
      FROM gone GROUP BY device_id)
    INSERT INTO push_jobs AS j (device_id, user_id, chat_id, first_seq, last_seq, message_count, due_at, created_at)
    SELECT device_id, user_id, chat_id, first_seq, last_seq, n, $2, at FROM per
    ON CONFLICT (device_id) DO UPDATE SET message_count = j.message_count + excluded.message_count,
      due_at = least(j.due_at, excluded.due_at)
    RETURNING device_id`,
} as const;

/** In the commit's transaction: one job row per recipient of each new message. */
export async function recordPushJobs(
  db: Db,
  batch: readonly SendCommit[],
  results: readonly CommitResult[],
): Promise<void> {
  type Row = {
    d: string;
    u: string;
    c: string;
    s: number;
    due: number;
    at: number;
    m: boolean;
    p: Buffer | null;
  };
  let rows: Row[] = [];
  for (let i = 0; i < batch.length; i++) {
    const push = batch[i]!.push;
    const r = results[i]!;
    if (!push || push.to.length === 0 || !r.ok || r.duplicate) continue;
    for (const to of push.to)
      rows.push({
        d: to.deviceId,
        u: to.userId,
        c: batch[i]!.chatId,
        s: r.seq,
        due: push.dueAt,
        at: r.serverTime,
        m: to.mentioned === true,
        p: to.preview ? Buffer.from(to.preview.buffer, to.preview.byteOffset, to.preview.byteLength) : null,
      });
  }
  // ON CONFLICT touches a row once per statement: a device's later messages go in later rounds.
  while (rows.length > 0) {
    const seen = new Set<string>();
    const now: Row[] = [];
    const later: Row[] = [];
    for (const row of rows) {
      (seen.has(row.d) ? later : now).push(row);
      seen.add(row.d);
    }
    now.sort((a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : 0));
    await db.count('pushJobsUpsert', [
      now.map((x) => x.d),
      now.map((x) => x.u),
      now.map((x) => x.c),
      now.map((x) => x.s),
      now.map((x) => x.due),
      now.map((x) => x.at),
      now.map((x) => x.m),
      now.map((x) => x.p),
    ]);
    rows = later;
  }
}

export async function pushRegister(
  db: Db,
  reg: Parameters<PushStore['pushRegister']>[0],
  now: number,
): Promise<DeviceId[]> {
  const moved = (
    await db.rows<{ device_id: string }>('pushRegHolders', [reg.platform, reg.tokenKey, reg.deviceId])
  ).map((r) => r.device_id as DeviceId);
  if (moved.length > 0) {
    await db.count('pushRegDelete', [moved]);
    await db.count('pushJobDelete', [moved]);
  }
  await db.count('pushRegUpsert', [
    reg.deviceId,
    reg.userId,
    reg.platform,
    reg.tokenKey,
    JSON.stringify(reg.target),
    now,
  ]);
  return moved;
}

export async function pushUnregister(db: Db, deviceIds: readonly DeviceId[]): Promise<number> {
  const n = await db.count('pushRegDelete', [deviceIds]);
  await db.count('pushJobDelete', [deviceIds]);
  return n;
}

export async function pushJobsLease(
  db: Db,
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
): Promise<PushJob[]> {
  const rows = await db.rows<JobRow>('pushJobsLease', [owner, now + leaseMs, now, limit]);
  if (rows.length === 0) return [];
  rows.sort((a, b) => a.due_at - b.due_at);
  const regs = await db.rows<RegistrationRow>('pushRegsOf', [rows.map((r) => r.device_id)]);
  const byDevice = new Map(regs.map((r) => [r.device_id, targetOf(r)]));
  return rows.map((r) => toJob(r, byDevice.get(r.device_id)));
}

/** In one transaction; rows are locked in device order, as commits lock them. */
export async function pushJobsFinish(
  db: Db,
  ends: readonly PushJobFinish[],
  now: number,
  keep: number,
): Promise<void> {
  const ordered = [...ends].sort((x, y) =>
    x.job.deviceId < y.job.deviceId ? -1 : x.job.deviceId > y.job.deviceId ? 1 : 0,
  );
  for (const e of ordered) await finishOne(db, e, now, keep);
}

async function finishOne(db: Db, { job, end, attempt }: PushJobFinish, now: number, keep: number) {
  const [row] = await db.rows<JobRow>('pushJobLeased', [job.deviceId, job.leaseOwner]);
  if (!row) return; // the lease ran out and another worker took the job
  if (attempt) {
    await db.count('pushAttemptInsert', [
      job.deviceId,
      job.userId,
      attempt.at,
      attempt.platform,
      attempt.outcome,
      attempt.status,
      attempt.reason,
      Math.round(attempt.latencyMs),
    ]);
    await db.count('pushAttemptsTrim', [job.deviceId, keep]);
  }
  if (end.kind === 'retry') {
    await db.count('pushJobRetry', [end.dueAt, job.deviceId, job.leaseOwner]);
    return;
  }
  if (end.kind === 'dead') {
    await db.count('pushDeadInsert', [
      job.deviceId,
      job.userId,
      row.chat_id,
      row.first_seq,
      row.last_seq,
      job.messageCount,
      row.attempts + 1,
      end.reason,
      row.created_at,
      now,
    ]);
  }
  if (end.kind === 'invalid-token') {
    await db.count('pushRegDelete', [[job.deviceId]]);
    await db.count('pushJobDelete', [[job.deviceId]]);
    return;
  }
  if ((await db.count('pushJobDeleteTaken', [job.deviceId, job.leaseOwner, job.messageCount])) === 0)
    await db.count('pushJobKeepRest', [job.messageCount, job.deviceId, job.leaseOwner]);
}

export async function pushStatus(db: Db, userId: UserId): Promise<PushDeviceStatus[]> {
  const ids = (await db.rows<{ device_id: string }>('pushStatusDevices', [userId])).map((r) => r.device_id);
  return deviceStatuses(
    ids,
    await db.rows<RegistrationRow>('pushRegsOfUser', [userId]),
    await db.rows<JobRow>('pushJobsOfUser', [userId]),
    await db.rows<AttemptRow>('pushAttemptsOfUser', [userId]),
    await db.rows<DeadRow>('pushDeadOfUser', [userId]),
  );
}
