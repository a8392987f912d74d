/**
 * 008: blocking, reports and moderation. `blocks` holds each user's block list; a message sent
 * into a direct chat by a user the other member had blocked is `withheld` from that member for
 * good. `reports` are users' reports (with the messages the reporter chose to disclose, as
 * JSON), `admin_audit` records every `parley admin` action, and `users.suspended_at` marks a
 * suspended account. Never edit once landed.
 */
export const migration = {
  version: 8,
  name: 'blocking_reports',
  sql: `
ALTER TABLE messages ADD COLUMN withheld boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN suspended_at bigint;
ALTER TABLE users ADD COLUMN suspend_reason text NOT NULL DEFAULT '';
CREATE INDEX users_suspended ON users (suspended_at) WHERE suspended_at IS NOT NULL;
CREATE TABLE blocks (
  user_id text NOT NULL,
  blocked_user_id text NOT NULL,
  blocked_at bigint NOT NULL,
  PRIMARY KEY (user_id, blocked_user_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_user_id);
CREATE TABLE reports (
  id text PRIMARY KEY,
  reporter_user_id text NOT NULL,
  target_user_id text,
  chat_id text,
  reason text NOT NULL,
  detail text NOT NULL,
  messages jsonb NOT NULL,
  created_at bigint NOT NULL,
  status text NOT NULL DEFAULT 'open',
  resolved_at bigint,
  resolution text NOT NULL DEFAULT ''
);
CREATE INDEX reports_status ON reports (status, created_at);
CREATE INDEX reports_reporter ON reports (reporter_user_id);
CREATE INDEX reports_target ON reports (target_user_id);
CREATE TABLE admin_audit (
  id bigserial PRIMARY KEY,
  at bigint NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  detail jsonb NOT NULL
);
`,
} as const;
