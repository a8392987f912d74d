/**
 * 007: end-to-end encrypted profiles, one row per user (ciphertext and the owner's version
 * only; the server never sees a name), and group icons (a media id per chat). Never edit once
 * landed.
 */
export const migration = {
  version: 7,
  name: 'profiles',
  sql: `
CREATE TABLE profiles (
  user_id text PRIMARY KEY,
  version bigint NOT NULL,
  ciphertext bytea NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX profiles_updated ON profiles (updated_at, user_id);
ALTER TABLE chats ADD COLUMN icon_media_id text NOT NULL DEFAULT '';
`,
} as const;
