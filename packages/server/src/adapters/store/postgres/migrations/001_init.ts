/**
 * 001: the whole schema of the SQLite store's migrations 001-008, in PostgreSQL types
 * (bigint seqs and times, bytea payloads and keys, text ids). Never edit once landed.
 *
 * Expiry deletes rows in small batches by primary key (see messagesExpire in
 * statements.ts) instead of partitioning messages by time. A time partition would make
 * retention a cheap DROP, but PostgreSQL requires every unique index of a partitioned
 * table to include the partition key, so neither the per-chat (chat_id, seq) key nor the
 * (sender_device, client_id) idempotency index could be enforced across partitions; and
 * disappearing timers and deletes for everyone remove single messages at any age anyway.
 * Batches of a few thousand rows by key, in short transactions that skip locked rows,
 * never block the send path; autovacuum reclaims the space.
 */
export const migration = {
  version: 1,
  name: 'init',
  sql: `
CREATE TABLE users (
  id text PRIMARY KEY,
  phone text NOT NULL UNIQUE,
  phone_hash bytea NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  last_seen_at bigint NOT NULL DEFAULT 0,
  last_seen_visibility text NOT NULL DEFAULT 'everyone'
    CHECK (last_seen_visibility IN ('everyone', 'contacts', 'nobody')),
  read_receipts boolean NOT NULL DEFAULT true
);

CREATE TABLE devices (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users(id),
  is_primary boolean NOT NULL,
  name text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  revoked_at bigint
);
CREATE INDEX devices_user ON devices (user_id) WHERE revoked_at IS NULL;

CREATE TABLE codes (
  phone text PRIMARY KEY,
  code_hash text NOT NULL,
  expires_at bigint NOT NULL,
  attempts integer NOT NULL,
  sent_at bigint NOT NULL
);

CREATE TABLE link_codes (
  code_hash text PRIMARY KEY,
  user_id text NOT NULL,
  expires_at bigint NOT NULL
);

CREATE TABLE chats (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('direct', 'group')),
  name text NOT NULL,
  description text NOT NULL,
  created_at bigint NOT NULL,
  last_seq bigint NOT NULL,
  direct_key text UNIQUE,
  only_admins_send boolean NOT NULL DEFAULT false,
  only_admins_edit_info boolean NOT NULL DEFAULT false,
  disappearing_seconds integer NOT NULL DEFAULT 0
);

CREATE TABLE members (
  chat_id text NOT NULL,
  user_id text NOT NULL,
  role text NOT NULL CHECK (role IN ('member', 'admin', 'creator')),
  joined_at bigint NOT NULL,
  joined_seq bigint NOT NULL,
  read_seq bigint NOT NULL DEFAULT 0,
  delivered_seq bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE cursors (
  device_id text NOT NULL,
  chat_id text NOT NULL,
  acked_seq bigint NOT NULL,
  end_seq bigint,
  PRIMARY KEY (device_id, chat_id)
);

CREATE TABLE messages (
  chat_id text NOT NULL,
  seq bigint NOT NULL,
  sender_user text NOT NULL,
  sender_device text NOT NULL,
  client_id text NOT NULL,
  server_time bigint NOT NULL,
  kind smallint NOT NULL,
  body bytea,
  msg_type smallint NOT NULL DEFAULT 0,
  ref_seq bigint NOT NULL DEFAULT 0,
  reaction text NOT NULL DEFAULT '',
  mentions text[] NOT NULL DEFAULT '{}',
  forward_count integer NOT NULL DEFAULT 0,
  deleted boolean NOT NULL DEFAULT false,
  view_once boolean NOT NULL DEFAULT false,
  expires_at bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (chat_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages (sender_device, client_id);
CREATE INDEX messages_time ON messages (server_time);
CREATE INDEX messages_expires ON messages (expires_at) WHERE expires_at > 0;

CREATE TABLE message_payloads (
  chat_id text NOT NULL,
  seq bigint NOT NULL,
  device_id text NOT NULL,
  body bytea NOT NULL,
  PRIMARY KEY (chat_id, seq, device_id)
);

CREATE TABLE invites (
  chat_id text PRIMARY KEY,
  code text NOT NULL UNIQUE,
  created_by text NOT NULL,
  created_at bigint NOT NULL
);

CREATE TABLE receipt_marks (
  chat_id text NOT NULL,
  user_id text NOT NULL,
  kind smallint NOT NULL CHECK (kind IN (1, 2)),
  through_seq bigint NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (chat_id, user_id, kind, through_seq)
);
CREATE INDEX receipt_marks_at ON receipt_marks (chat_id, at);

CREATE TABLE reactions (
  chat_id text NOT NULL,
  seq bigint NOT NULL,
  user_id text NOT NULL,
  emoji text NOT NULL,
  PRIMARY KEY (chat_id, seq, user_id)
);

CREATE TABLE pins (
  chat_id text NOT NULL,
  seq bigint NOT NULL,
  pinned_by text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (chat_id, seq)
);
`,
} as const;
