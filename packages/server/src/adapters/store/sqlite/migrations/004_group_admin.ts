/** 004: group settings and invite codes. Never edit once landed. */
export const sql = `
ALTER TABLE chats ADD COLUMN only_admins_send INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN only_admins_edit_info INTEGER NOT NULL DEFAULT 0;
CREATE TABLE invites (
  chat_id TEXT PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
`;
