/**
 * 021: the attachments each message references (sendRequest.mediaIds), which decide who may
 * fetch a media body; avatar uploads are marked so profile readers may fetch them; chats are
 * found by their icon. Never edit once landed.
 */
export const sql = `
CREATE TABLE media_refs (
  media_id TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (media_id, chat_id, seq)
) WITHOUT ROWID;
CREATE INDEX media_refs_message ON media_refs(chat_id, seq);
ALTER TABLE media_uploads ADD COLUMN avatar INTEGER NOT NULL DEFAULT 0;
CREATE INDEX chats_icon ON chats(icon_media_id) WHERE icon_media_id <> '';
`;
