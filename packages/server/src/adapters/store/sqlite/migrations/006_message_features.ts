/** 006: message metadata (edit/delete/reaction/reply, mentions, forwards) and reactions. Never edit once landed. */
export const sql = `
ALTER TABLE messages ADD COLUMN msg_type INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN ref_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN reaction TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN forward_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
CREATE TABLE reactions (
  chat_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  emoji TEXT NOT NULL,
  PRIMARY KEY (chat_id, seq, user_id)
) WITHOUT ROWID;
`;
