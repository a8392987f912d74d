/** 002: each user's last-seen time and who may see it. Never edit once landed. */
export const sql = `
ALTER TABLE users ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_seen_visibility TEXT NOT NULL DEFAULT 'everyone'
  CHECK (last_seen_visibility IN ('everyone', 'contacts', 'nobody'));
`;
