/**
 * 011: push notifications. `push_registrations` holds one registration per device (a token is
 * on one device only: unique per platform); `push_jobs` is the outbox, one pending row per
 * device written in the message commit's transaction and leased by workers on any node
 * (FOR UPDATE SKIP LOCKED); `push_attempts` keeps each device's last attempts and
 * `push_dead_letters` the jobs that gave up, for `parley admin push`. Never edit once landed.
 */
export const migration = {
  version: 11,
  name: 'push',
  sql: `
CREATE TABLE push_registrations (
  device_id text PRIMARY KEY,
  user_id text NOT NULL,
  platform text NOT NULL,
  token_key text NOT NULL,
  target jsonb NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE UNIQUE INDEX push_registrations_token ON push_registrations (platform, token_key);
CREATE INDEX push_registrations_user ON push_registrations (user_id);
CREATE TABLE push_jobs (
  device_id text PRIMARY KEY,
  user_id text NOT NULL,
  chat_id text NOT NULL,
  first_seq bigint NOT NULL,
  last_seq bigint NOT NULL,
  message_count integer NOT NULL,
  due_at bigint NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  lease_owner text NOT NULL DEFAULT '',
  lease_until bigint NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  mentioned boolean NOT NULL DEFAULT false
);
CREATE INDEX push_jobs_due ON push_jobs (due_at);
CREATE INDEX push_jobs_user ON push_jobs (user_id);
CREATE TABLE push_attempts (
  id bigserial PRIMARY KEY,
  device_id text NOT NULL,
  user_id text NOT NULL,
  at bigint NOT NULL,
  platform text NOT NULL,
  outcome text NOT NULL,
  status integer NOT NULL,
  reason text NOT NULL,
  latency_ms integer NOT NULL
);
CREATE INDEX push_attempts_device ON push_attempts (device_id, id);
CREATE INDEX push_attempts_user ON push_attempts (user_id);
CREATE TABLE push_dead_letters (
  id bigserial PRIMARY KEY,
  device_id text NOT NULL,
  user_id text NOT NULL,
  chat_id text NOT NULL,
  first_seq bigint NOT NULL,
  last_seq bigint NOT NULL,
  message_count integer NOT NULL,
  attempts integer NOT NULL,
  reason text NOT NULL,
  created_at bigint NOT NULL,
  dead_at bigint NOT NULL
);
CREATE INDEX push_dead_letters_device ON push_dead_letters (device_id);
CREATE INDEX push_dead_letters_user ON push_dead_letters (user_id);
`,
} as const;
