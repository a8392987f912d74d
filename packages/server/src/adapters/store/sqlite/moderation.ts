/**
 * Blocking, reports, suspension and the admin audit in SQLite. Statements are prepared on
 * first use; each function runs on the caller's connection (inside its transaction if any).
 */
import type Database from 'better-sqlite3';
import type { AdminStats, AuditEntry, BlockEntry, ReportRecord, ReportStatus } from '../../../ports/store.js';
import type { UserId } from '../../../ports/types.js';
import { type AuditRow, blockListFull, type ReportRow, toAudit, toReport } from '../report-rows.js';
import { type Prepared, preparedOnFirstUse } from './prepared.js';

const sql = {
  /** user_id, blocked_user_id, blocked_at */
  blockInsert: 'INSERT OR IGNORE INTO blocks (user_id, blocked_user_id, blocked_at) VALUES (?, ?, ?)',
  /** user_id */
  blockCount: 'SELECT count(*) AS n FROM blocks WHERE user_id = ?',
  /** user_id, blocked_user_id */
  blockExists: 'SELECT 1 FROM blocks WHERE user_id = ? AND blocked_user_id = ?',
  /** user_id, blocked_user_id */
  blockDelete: 'DELETE FROM blocks WHERE user_id = ? AND blocked_user_id = ?',
  /** user_id */
  blocksOf:
    'SELECT blocked_user_id, blocked_at FROM blocks WHERE user_id = ? ORDER BY blocked_at, blocked_user_id',
  /** user_id, blocked_user_id, limit: every block after the pair, in pair order */
  blocksPage: `SELECT user_id, blocked_user_id FROM blocks WHERE (user_id, blocked_user_id) > (?, ?)
    ORDER BY user_id, blocked_user_id LIMIT ?`,
  /** @id, @reporter, @target, @chat, @reason, @detail, @messages (JSON), @at */
  reportInsert: `INSERT INTO reports (id, reporter_user_id, target_user_id, chat_id, reason, detail, messages, created_at)
    VALUES (@id, @reporter, @target, @chat, @reason, @detail, @messages, @at)`,
  /** limit */
  reportsAll: 'SELECT * FROM reports ORDER BY created_at DESC, id DESC LIMIT ?',
  /** status, limit */
  reportsByStatus: 'SELECT * FROM reports WHERE status = ? ORDER BY created_at DESC, id DESC LIMIT ?',
  /** id */
  reportGet: 'SELECT * FROM reports WHERE id = ?',
  /** resolved_at, resolution, id */
  reportResolve: `UPDATE reports SET status = 'resolved', resolved_at = ?, resolution = ? WHERE id = ? AND status = 'open'`,
  /** suspended_at, reason, id */
  userSuspend: 'UPDATE users SET suspended_at = ?, suspend_reason = ? WHERE id = ? AND suspended_at IS NULL',
  /** id */
  userUnsuspend: `UPDATE users SET suspended_at = NULL, suspend_reason = '' WHERE id = ? AND suspended_at IS NOT NULL`,
  /** id */
  userSuspension: 'SELECT suspended_at, suspend_reason FROM users WHERE id = ? AND suspended_at IS NOT NULL',
  /** since, limit */
  usersSuspendedSince: `SELECT id, suspended_at FROM users WHERE suspended_at >= ?
    ORDER BY suspended_at, id LIMIT ?`,
  /** at, actor, action, target, detail (JSON) */
  auditInsert: 'INSERT INTO admin_audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)',
  /** limit */
  auditList: 'SELECT at, actor, action, target, detail FROM admin_audit ORDER BY id DESC LIMIT ?',
  stats: `SELECT
      (SELECT count(*) FROM users) AS accounts,
      (SELECT count(*) FROM devices WHERE revoked_at IS NULL) AS devices,
      (SELECT count(*) FROM chats) AS chats,
      (SELECT count(*) FROM messages) AS messages,
      (SELECT count(*) FROM reports) AS reports,
      (SELECT count(*) FROM reports WHERE status = 'open') AS openReports,
      (SELECT count(*) FROM users WHERE suspended_at IS NOT NULL) AS suspended`,
} as const;

export class SqliteModeration {
  private readonly prepared: () => Prepared<typeof sql>;

  constructor(private readonly db: Database.Database) {
    this.prepared = preparedOnFirstUse(db, sql);
  }

  private get st(): Prepared<typeof sql> {
    return this.prepared();
  }

  blockAdd(userId: UserId, blocked: UserId, now: number, max: number): boolean {
    return this.db.transaction(() => {
      if (this.st.blockExists.get(userId, blocked)) return false;
      if ((this.st.blockCount.get(userId) as { n: number }).n >= max) throw blockListFull(max);
      return this.st.blockInsert.run(userId, blocked, now).changes > 0;
    })();
  }

  blockRemove(userId: UserId, blocked: UserId): boolean {
    return this.st.blockDelete.run(userId, blocked).changes > 0;
  }

  blocksOf(userId: UserId): BlockEntry[] {
    return (this.st.blocksOf.all(userId) as Array<{ blocked_user_id: string; blocked_at: number }>).map(
      (r) => ({ userId: r.blocked_user_id as UserId, blockedAt: r.blocked_at }),
    );
  }

  blocksPage(
    after: { userId: UserId; blockedUserId: UserId } | undefined,
    limit: number,
  ): Array<{ userId: UserId; blockedUserId: UserId }> {
    const rows = this.st.blocksPage.all(after?.userId ?? '', after?.blockedUserId ?? '', limit) as Array<{
      user_id: string;
      blocked_user_id: string;
    }>;
    return rows.map((r) => ({ userId: r.user_id as UserId, blockedUserId: r.blocked_user_id as UserId }));
  }

  reportCreate(r: Omit<ReportRecord, 'status' | 'resolvedAt' | 'resolution'>): void {
    this.st.reportInsert.run({
      id: r.id,
      reporter: r.reporterUserId,
      target: r.targetUserId ?? null,
      chat: r.chatId ?? null,
      reason: r.reason,
      detail: r.detail,
      messages: JSON.stringify(r.messages),
      at: r.createdAt,
    });
  }

  reportsList(q: { status?: ReportStatus; limit: number }): ReportRecord[] {
    const rows = (
      q.status ? this.st.reportsByStatus.all(q.status, q.limit) : this.st.reportsAll.all(q.limit)
    ) as ReportRow[];
    return rows.map(toReport);
  }

  reportGet(id: string): ReportRecord | undefined {
    const r = this.st.reportGet.get(id) as ReportRow | undefined;
    return r && toReport(r);
  }

  reportResolve(id: string, now: number, resolution: string): boolean {
    return this.st.reportResolve.run(now, resolution, id).changes > 0;
  }

  userSuspend(userId: UserId, now: number, reason: string): boolean {
    return this.st.userSuspend.run(now, reason, userId).changes > 0;
  }

  userUnsuspend(userId: UserId): boolean {
    return this.st.userUnsuspend.run(userId).changes > 0;
  }

  userSuspension(userId: UserId): { at: number; reason: string } | undefined {
    const r = this.st.userSuspension.get(userId) as
      | { suspended_at: number; suspend_reason: string }
      | undefined;
    return r && { at: r.suspended_at, reason: r.suspend_reason };
  }

  usersSuspendedSince(since: number, limit: number): Array<{ userId: UserId; at: number }> {
    return (this.st.usersSuspendedSince.all(since, limit) as Array<{ id: string; suspended_at: number }>).map(
      (r) => ({ userId: r.id as UserId, at: r.suspended_at }),
    );
  }

  auditRecord(e: AuditEntry): void {
    this.st.auditInsert.run(e.at, e.actor, e.action, e.target, JSON.stringify(e.detail));
  }

  auditList(limit: number): AuditEntry[] {
    return (this.st.auditList.all(limit) as AuditRow[]).map(toAudit);
  }

  stats(): AdminStats {
    return this.st.stats.get() as AdminStats;
  }
}
