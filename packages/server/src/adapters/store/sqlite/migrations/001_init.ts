/** 001: accounts, devices, codes, chats, members, cursors, messages. Never edit once landed. */
export const sql = `
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  phone TEXT NOT NULL UNIQUE,
  phone_hash BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  is_primary INTEGER NOT NULL,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  revoked_at INTEGER
) WITHOUT ROWID;
CREATE INDEX devices_user ON devices(user_id) WHERE revoked_at IS NULL;

CREATE TABLE codes (
  phone TEXT PRIMARY KEY,
  code_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  sent_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE link_codes (
  code_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE chats (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  direct_key TEXT UNIQUE
) WITHOUT ROWID;

CREATE TABLE members (
  chat_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('member', 'admin', 'creator')),
  joined_at INTEGER NOT NULL,
  joined_seq INTEGER NOT NULL,
  PRIMARY KEY (chat_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members(user_id);

CREATE TABLE cursors (
  device_id TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  acked_seq INTEGER NOT NULL,
  end_seq INTEGER,
  PRIMARY KEY (device_id, chat_id)
) WITHOUT ROWID;

CREATE TABLE messages (
  chat_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  sender_user TEXT NOT NULL,
  sender_device TEXT NOT NULL,
  client_id TEXT NOT NULL,
  server_time INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  body BLOB,
  PRIMARY KEY (chat_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_client_id ON messages(sender_device, client_id);
CREATE INDEX messages_time ON messages(server_time);

CREATE TABLE message_payloads (
  chat_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY (chat_id, seq, device_id)
) WITHOUT ROWID;
`;
