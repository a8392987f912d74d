/**
 * 011: who uploaded which media body, so deleting an account removes the bodies no one else
 * uploaded. Never edit once landed.
 */
export const sql = `
CREATE TABLE media_uploads (
  media_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  uploaded_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, media_id)
) WITHOUT ROWID;
CREATE INDEX media_uploads_media ON media_uploads(media_id);
CREATE INDEX media_uploads_at ON media_uploads(uploaded_at);
`;
