/** 007: disappearing timers per chat, expiry and view-once per message. Never edit once landed. */
export const sql = `
ALTER TABLE chats ADD COLUMN disappearing_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN view_once INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_expires ON messages(expires_at) WHERE expires_at > 0;
`;
