/** 008: pinned messages. Never edit once landed. */
export const sql = `
CREATE TABLE pins (
  chat_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  pinned_by TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (chat_id, seq)
) WITHOUT ROWID;
`;
