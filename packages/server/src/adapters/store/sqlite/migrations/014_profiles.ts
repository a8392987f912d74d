/**
 * 014: end-to-end encrypted profiles, one row per user (ciphertext and the owner's version
 * only; the server never sees a name), and group icons (a media id per chat). Never edit once
 * landed.
 */
export const sql = `
CREATE TABLE profiles (
  user_id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  ciphertext BLOB NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX profiles_updated ON profiles(updated_at, user_id);
ALTER TABLE chats ADD COLUMN icon_media_id TEXT NOT NULL DEFAULT '';
`;
