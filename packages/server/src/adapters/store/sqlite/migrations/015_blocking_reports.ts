/**
 * 015: blocking, reports and moderation. `blocks` holds each user's block list; a message sent
 * into a direct chat by a user the other member had blocked is `withheld` from that member for
 * good. `reports` are users' reports (with the messages the reporter chose to disclose, as
 * JSON), `admin_audit` records every `parley admin` action, and `users.suspended_at` marks a
 * suspended account. Never edit once landed.
 */
export const sql = `
ALTER TABLE messages ADD COLUMN withheld INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN suspended_at INTEGER;
ALTER TABLE users ADD COLUMN suspend_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX users_suspended ON users(suspended_at) WHERE suspended_at IS NOT NULL;
CREATE TABLE blocks (
  user_id TEXT NOT NULL,
  blocked_user_id TEXT NOT NULL,
  blocked_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, blocked_user_id)
) WITHOUT ROWID;
CREATE INDEX blocks_blocked ON blocks(blocked_user_id);
CREATE TABLE reports (
  id TEXT PRIMARY KEY,
  reporter_user_id TEXT NOT NULL,
  target_user_id TEXT,
  chat_id TEXT,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  messages TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',
  resolved_at INTEGER,
  resolution TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reports_status ON reports(status, created_at);
CREATE INDEX reports_reporter ON reports(reporter_user_id);
CREATE INDEX reports_target ON reports(target_user_id);
CREATE TABLE admin_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL
);
`;
