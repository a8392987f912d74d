/**
 * 018: push notifications. `push_registrations` holds one registration per device (a token is
 * on one device only: unique per platform); `push_jobs` is the outbox, one pending row per
 * device written in the message commit's transaction and leased by a worker; `push_attempts`
 * keeps each device's last attempts and `push_dead_letters` the jobs that gave up, for
 * `parley admin push`. Written with IF NOT EXISTS, so a database rewound to an older
 * user_version (a migration test) can run it again. Never edit once landed.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS push_registrations (
  device_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  platform TEXT NOT NULL,
  token_key TEXT NOT NULL,
  target TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS push_registrations_token ON push_registrations (platform, token_key);
CREATE INDEX IF NOT EXISTS push_registrations_user ON push_registrations (user_id);
CREATE TABLE IF NOT EXISTS push_jobs (
  device_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  message_count INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  mentioned INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS push_jobs_due ON push_jobs (due_at);
CREATE INDEX IF NOT EXISTS push_jobs_user ON push_jobs (user_id);
CREATE TABLE IF NOT EXISTS push_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  platform TEXT NOT NULL,
  outcome TEXT NOT NULL,
  status INTEGER NOT NULL,
  reason TEXT NOT NULL,
  latency_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS push_attempts_device ON push_attempts (device_id, id);
CREATE INDEX IF NOT EXISTS push_attempts_user ON push_attempts (user_id);
CREATE TABLE IF NOT EXISTS push_dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  message_count INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  dead_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS push_dead_letters_device ON push_dead_letters (device_id);
CREATE INDEX IF NOT EXISTS push_dead_letters_user ON push_dead_letters (user_id);
`;
