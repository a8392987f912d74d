/** 005: delivered positions, receipt marks (one row per advance) and the read-receipts setting. Never edit once landed. */
export const sql = `
ALTER TABLE members ADD COLUMN delivered_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN read_receipts INTEGER NOT NULL DEFAULT 1;
CREATE TABLE receipt_marks (
  chat_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  kind INTEGER NOT NULL CHECK (kind IN (1, 2)),
  through_seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (chat_id, user_id, kind, through_seq)
) WITHOUT ROWID;
CREATE INDEX receipt_marks_at ON receipt_marks(chat_id, at);
`;
