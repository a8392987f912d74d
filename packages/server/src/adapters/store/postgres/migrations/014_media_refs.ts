/**
 * 014: the attachments each message references (sendRequest.mediaIds), which decide who may
 * fetch a media body; avatar uploads are marked so profile readers may fetch them; chats are
 * found by their icon. Never edit once landed.
 */
export const migration = {
  version: 14,
  name: 'media_refs',
  sql: `
CREATE TABLE media_refs (
  media_id text NOT NULL,
  chat_id text NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (media_id, chat_id, seq)
);
CREATE INDEX media_refs_message ON media_refs (chat_id, seq);
ALTER TABLE media_uploads ADD COLUMN avatar boolean NOT NULL DEFAULT false;
CREATE INDEX chats_icon ON chats (icon_media_id) WHERE icon_media_id <> '';
`,
} as const;
