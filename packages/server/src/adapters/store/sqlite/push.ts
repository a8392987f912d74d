/**
 * The push outbox in SQLite (Store push methods, see ports/store-push.ts). Statements are
 * prepared on first use; each function runs on the caller's connection, and `recordJobs`
 * inside the message commit's transaction. One node owns a SQLite file, so a lease only
 * guards against the node's own overlapping runs.
 */
import type Database from 'better-sqlite3';
import type { PushPlatform } from '../../../ports/push.js';
import type { CommitResult, SendCommit } from '../../../ports/store.js';
import type {
  PushCommit,
  PushDeviceStatus,
  PushJob,
  PushJobFinish,
  PushStore,
} from '../../../ports/store-push.js';
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
import { type Prepared, preparedOnFirstUse } from './prepared.js';

const sql = {
  /** device_id, user_id, chat_id, seq, seq, due_at, created_at, mentioned, preview: one more message for the device's job */
  jobUpsert: `INSERT INTO push_jobs (device_id, user_id, chat_id, first_seq, last_seq, message_count, due_at, created_at, mentioned, preview)
    VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
    ON CONFLICT (device_id) DO UPDATE SET chat_id = excluded.chat_id, last_seq = excluded.last_seq,
      message_count = message_count + 1, mentioned = max(mentioned, excluded.mentioned), preview = excluded.preview`,
  /** platform, token_key, device_id: other devices holding this token */
  regHolders:
    'SELECT device_id FROM push_registrations WHERE platform = ? AND token_key = ? AND device_id <> ?',
  /** device_id */
  regDelete: 'DELETE FROM push_registrations WHERE device_id = ?',
  /** device_id */
  jobDelete: 'DELETE FROM push_jobs WHERE device_id = ?',
  /** device_id, user_id, platform, token_key, target, now */
  regUpsert: `INSERT INTO push_registrations (device_id, user_id, platform, token_key, target, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (device_id) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform,
      token_key = excluded.token_key, target = excluded.target, updated_at = excluded.updated_at`,
  /** device_id */
  regGet: 'SELECT * FROM push_registrations WHERE device_id = ?',
  /** after, limit */
  regPage: 'SELECT device_id, user_id FROM push_registrations WHERE device_id > ? ORDER BY device_id LIMIT ?',
  /** owner, lease_until, now, now, limit */
  jobsLease: `UPDATE push_jobs SET lease_owner = ?, lease_until = ? WHERE device_id IN (
      SELECT device_id FROM push_jobs WHERE due_at <= ? AND lease_until <= ? ORDER BY due_at LIMIT ?)
    RETURNING *`,
  /** device_id, owner, message_count */
  jobDeleteTaken: 'DELETE FROM push_jobs WHERE device_id = ? AND lease_owner = ? AND message_count = ?',
  /** taken count, device_id, owner: keeps the messages that came after the lease */
  jobKeepRest: `UPDATE push_jobs SET message_count = message_count - ?, attempts = 0, lease_owner = '', lease_until = 0
    WHERE device_id = ? AND lease_owner = ?`,
  /** due_at, device_id, owner */
  jobRetry: `UPDATE push_jobs SET attempts = attempts + 1, due_at = ?, lease_owner = '', lease_until = 0
    WHERE device_id = ? AND lease_owner = ?`,
  /** device_id, owner */
  jobLeased: 'SELECT * FROM push_jobs WHERE device_id = ? AND lease_owner = ?',
  /** device_id, user_id, chat_id, first_seq, last_seq, message_count, attempts, reason, created_at, dead_at */
  deadInsert: `INSERT INTO push_dead_letters
    (device_id, user_id, chat_id, first_seq, last_seq, message_count, attempts, reason, created_at, dead_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  /** device_id, user_id, at, platform, outcome, status, reason, latency_ms */
  attemptInsert: `INSERT INTO push_attempts (device_id, user_id, at, platform, outcome, status, reason, latency_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  /** device_id, device_id, keep */
  attemptsTrim: `DELETE FROM push_attempts WHERE device_id = ? AND id NOT IN (
    SELECT id FROM push_attempts WHERE device_id = ? ORDER BY id DESC LIMIT ?)`,
  /** user_id (x5): every device of the user and every device with push rows of the user */
  statusDevices: `SELECT id AS device_id FROM devices WHERE user_id = ?
    UNION SELECT device_id FROM push_registrations WHERE user_id = ?
    UNION SELECT device_id FROM push_jobs WHERE user_id = ?
    UNION SELECT device_id FROM push_attempts WHERE user_id = ?
    UNION SELECT device_id FROM push_dead_letters WHERE user_id = ?`,
  /** user_id */
  regsOfUser: 'SELECT * FROM push_registrations WHERE user_id = ?',
  jobsOfUser: 'SELECT * FROM push_jobs WHERE user_id = ?',
  attemptsOfUser: 'SELECT * FROM push_attempts WHERE user_id = ? ORDER BY id DESC',
  deadOfUser: 'SELECT * FROM push_dead_letters WHERE user_id = ? ORDER BY id DESC',
  deadAll: 'SELECT * FROM push_dead_letters ORDER BY id',
  /** user_id */
  deadOfUserAsc: 'SELECT * FROM push_dead_letters WHERE user_id = ? ORDER BY id',
  /** id */
  deadDelete: 'DELETE FROM push_dead_letters WHERE id = ?',
  /** device_id, user_id, chat_id, first_seq, last_seq, message_count, due_at, created_at */
  jobRequeue: `INSERT INTO push_jobs (device_id, user_id, chat_id, first_seq, last_seq, message_count, due_at, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (device_id) DO UPDATE SET message_count = message_count + excluded.message_count,
      due_at = min(due_at, excluded.due_at)`,
} as const;

/** Synchronous: the store wraps each call (error translation, worker thread). */
export class SqlitePush {
  private readonly prepared: () => Prepared<typeof sql>;

  constructor(private readonly db: Database.Database) {
    this.prepared = preparedOnFirstUse(db, sql);
  }

  private get s(): Prepared<typeof sql> {
    return this.prepared();
  }

  /** In the commit's transaction: one job row per recipient of each new message. */
  recordJobs(batch: readonly SendCommit[], results: readonly CommitResult[]): void {
    for (let i = 0; i < batch.length; i++) {
      const push: PushCommit | undefined = batch[i]!.push;
      const r = results[i]!;
      if (!push || push.to.length === 0 || !r.ok || r.duplicate) continue;
      const chatId = batch[i]!.chatId;
      for (const d of push.to)
        this.s.jobUpsert.run(
          d.deviceId,
          d.userId,
          chatId,
          r.seq,
          r.seq,
          push.dueAt,
          r.serverTime,
          d.mentioned ? 1 : 0,
          d.preview ?? null,
        );
    }
  }

  pushRegister(reg: Parameters<PushStore['pushRegister']>[0], now: number): DeviceId[] {
    return this.db.transaction(() => {
      const moved = (
        this.s.regHolders.all(reg.platform, reg.tokenKey, reg.deviceId) as RegistrationRow[]
      ).map((r) => r.device_id as DeviceId);
      for (const id of moved) {
        this.s.regDelete.run(id);
        this.s.jobDelete.run(id);
      }
      this.s.regUpsert.run(
        reg.deviceId,
        reg.userId,
        reg.platform,
        reg.tokenKey,
        JSON.stringify(reg.target),
        now,
        now,
      );
      return moved;
    })();
  }

  pushUnregister(deviceIds: readonly DeviceId[]): number {
    return this.db.transaction(() => {
      let n = 0;
      for (const id of deviceIds) {
        n += this.s.regDelete.run(id).changes;
        this.s.jobDelete.run(id);
      }
      return n;
    })();
  }

  pushRegistrationGet(deviceId: DeviceId) {
    const r = this.s.regGet.get(deviceId) as RegistrationRow | undefined;
    return (
      r && {
        deviceId,
        userId: r.user_id as UserId,
        platform: r.platform as PushPlatform,
        tokenKey: r.token_key,
        target: targetOf(r),
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      }
    );
  }

  pushRegisteredPage(after: DeviceId | '', limit: number) {
    const rows = this.s.regPage.all(after, limit) as Array<{ device_id: string; user_id: string }>;
    return rows.map((r) => ({ deviceId: r.device_id as DeviceId, userId: r.user_id as UserId }));
  }

  pushJobsLease(owner: string, now: number, leaseMs: number, limit: number): PushJob[] {
    return this.db.transaction(() => {
      const rows = this.s.jobsLease.all(owner, now + leaseMs, now, now, limit) as JobRow[];
      rows.sort((a, b) => a.due_at - b.due_at);
      return rows.map((r) => {
        const reg = this.s.regGet.get(r.device_id) as RegistrationRow | undefined;
        return toJob(r, reg && targetOf(reg));
      });
    })();
  }

  pushJobsFinish(ends: readonly PushJobFinish[], now: number, keep: number): void {
    this.db.transaction(() => {
      for (const e of ends) this.finishOne(e, now, keep);
    })();
  }

  /** One end, inside pushJobsFinish's transaction. */
  private finishOne({ job, end, attempt }: PushJobFinish, now: number, keep: number): void {
    const row = this.s.jobLeased.get(job.deviceId, job.leaseOwner) as JobRow | undefined;
    if (!row) return; // the lease ran out and another run took the job
    if (attempt) {
      this.s.attemptInsert.run(
        job.deviceId,
        job.userId,
        attempt.at,
        attempt.platform,
        attempt.outcome,
        attempt.status,
        attempt.reason,
        Math.round(attempt.latencyMs),
      );
      this.s.attemptsTrim.run(job.deviceId, job.deviceId, keep);
    }
    if (end.kind === 'retry') {
      this.s.jobRetry.run(end.dueAt, job.deviceId, job.leaseOwner);
      return;
    }
    if (end.kind === 'dead') {
      this.s.deadInsert.run(
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
      );
    }
    if (end.kind === 'invalid-token') {
      this.s.regDelete.run(job.deviceId);
      this.s.jobDelete.run(job.deviceId);
      return;
    }
    if (this.s.jobDeleteTaken.run(job.deviceId, job.leaseOwner, job.messageCount).changes === 0)
      this.s.jobKeepRest.run(job.messageCount, job.deviceId, job.leaseOwner);
  }

  pushStatus(userId: UserId): PushDeviceStatus[] {
    const ids = (
      this.s.statusDevices.all(userId, userId, userId, userId, userId) as Array<{ device_id: string }>
    ).map((r) => r.device_id);
    return deviceStatuses(
      ids,
      this.s.regsOfUser.all(userId) as RegistrationRow[],
      this.s.jobsOfUser.all(userId) as JobRow[],
      this.s.attemptsOfUser.all(userId) as AttemptRow[],
      this.s.deadOfUser.all(userId) as DeadRow[],
    );
  }

  pushDeadRetry(userId: UserId | undefined, now: number): number {
    return this.db.transaction(() => {
      const rows = (userId ? this.s.deadOfUserAsc.all(userId) : this.s.deadAll.all()) as Array<
        DeadRow & { id: number; user_id: string; first_seq: number }
      >;
      const devices = new Set<string>();
      for (const r of rows) {
        this.s.jobRequeue.run(
          r.device_id,
          r.user_id,
          r.chat_id,
          r.first_seq,
          r.last_seq,
          r.message_count,
          now,
          r.created_at,
        );
        this.s.deadDelete.run(r.id);
        devices.add(r.device_id);
      }
      return devices.size;
    })();
  }
}
