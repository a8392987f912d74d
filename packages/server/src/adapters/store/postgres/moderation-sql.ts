/** SQL of blocking, reports, suspension and the admin audit (PostgreSQL); spread into statements.ts. */
export const moderationSql = {
  /** $1 user_id: locks the user's row, so concurrent blocks of one user count one at a time */
  blockLockUser: 'SELECT id FROM users WHERE id = $1 FOR UPDATE',
  /** $1 user_id, $2 blocked_user_id */
  blockExists: 'SELECT 1 FROM blocks WHERE user_id = $1 AND blocked_user_id = $2',
  /** $1 user_id */
  blockCount: 'SELECT count(*)::int AS n FROM blocks WHERE user_id = $1',
  /** $1 user_id, $2 blocked_user_id, $3 blocked_at */
  blockInsert: `INSERT INTO blocks (user_id, blocked_user_id, blocked_at) VALUES ($1, $2, $3)
    ON CONFLICT DO NOTHING`,
  /** $1 user_id, $2 blocked_user_id */
  blockDelete: 'DELETE FROM blocks WHERE user_id = $1 AND blocked_user_id = $2',
  /** $1 user_id */
  blocksOf: `SELECT blocked_user_id, blocked_at FROM blocks WHERE user_id = $1
    ORDER BY blocked_at, blocked_user_id COLLATE "C"`,
  /** $1 user_id ('' for the first page), $2 blocked_user_id, $3 limit: every block after the pair */
  blocksPage: `SELECT user_id, blocked_user_id FROM blocks
    WHERE user_id COLLATE "C" > $1 OR (user_id = $1 AND blocked_user_id COLLATE "C" > $2)
    ORDER BY user_id COLLATE "C", blocked_user_id COLLATE "C" LIMIT $3`,
  /** $1 id, $2 reporter, $3 target, $4 chat, $5 reason, $6 detail, $7 messages (jsonb), $8 created_at */
  reportInsert: `INSERT INTO reports (id, reporter_user_id, target_user_id, chat_id, reason, detail, messages, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)`,
  /** $1 status (NULL: any), $2 limit */
  reportsList: `SELECT * FROM reports WHERE ($1::text IS NULL OR status = $1)
    ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $2`,
  /** $1 id */
  reportGet: 'SELECT * FROM reports WHERE id = $1',
  /** $1 id, $2 resolved_at, $3 resolution */
  reportResolve: `UPDATE reports SET status = 'resolved', resolved_at = $2, resolution = $3
    WHERE id = $1 AND status = 'open'`,
  /** $1 id, $2 suspended_at, $3 reason */
  userSuspend:
    'UPDATE users SET suspended_at = $2, suspend_reason = $3 WHERE id = $1 AND suspended_at IS NULL',
  /** $1 id */
  userUnsuspend: `UPDATE users SET suspended_at = NULL, suspend_reason = '' WHERE id = $1 AND suspended_at IS NOT NULL`,
  /** $1 id */
  userSuspension: 'SELECT suspended_at, suspend_reason FROM users WHERE id = $1 AND suspended_at IS NOT NULL',
  /** $1 since, $2 limit */
  usersSuspendedSince: `SELECT id, suspended_at FROM users WHERE suspended_at >= $1
    ORDER BY suspended_at, id COLLATE "C" LIMIT $2`,
  /** $1 at, $2 actor, $3 action, $4 target, $5 detail (jsonb) */
  auditInsert:
    'INSERT INTO admin_audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5::jsonb)',
  /** $1 limit */
  auditList: 'SELECT at, actor, action, target, detail FROM admin_audit ORDER BY id DESC LIMIT $1',
  adminStats: `SELECT
      (SELECT count(*)::int FROM users) AS accounts,
      (SELECT count(*)::int FROM devices WHERE revoked_at IS NULL) AS devices,
      (SELECT count(*)::int FROM chats) AS chats,
      (SELECT count(*)::int FROM messages) AS messages,
      (SELECT count(*)::int FROM reports) AS reports,
      (SELECT count(*)::int FROM reports WHERE status = 'open') AS "openReports",
      (SELECT count(*)::int FROM users WHERE suspended_at IS NOT NULL) AS suspended`,
} as const;
