/**
 * 004: who uploaded which media body, so deleting an account removes the bodies no one else
 * uploaded. Never edit once landed.
 */
export const migration = {
  version: 4,
  name: 'media_uploads',
  sql: `
CREATE TABLE media_uploads (
  media_id text NOT NULL,
  user_id text NOT NULL,
  uploaded_at bigint NOT NULL,
  PRIMARY KEY (user_id, media_id)
);
CREATE INDEX media_uploads_media ON media_uploads (media_id);
CREATE INDEX media_uploads_at ON media_uploads (uploaded_at);
`,
} as const;
