/** SQL of media references, access and retention (PostgreSQL); spread into statements.ts. */
export const mediaSql = {
  /** $1 media_id[], $2 chat_id[], $3 seq[]: the references a batch's messages declared */
  mediaRefsInsert: `INSERT INTO media_refs (media_id, chat_id, seq)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING`,
  /** $1 chat_id, $2 ref seq: a message deleted for everyone, and its edits, reference nothing any more */
  mediaRefsWipe: `DELETE FROM media_refs WHERE chat_id = $1 AND (seq = $2 OR seq IN (
    SELECT seq FROM messages WHERE chat_id = $1 AND msg_type = 1 AND ref_seq = $2))`,
  /** $1 media_id, $2 user_id: uploader, member of a chat that declared it in a live message, or of a chat with it as icon */
  mediaGranted: `SELECT
      EXISTS (SELECT 1 FROM media_uploads WHERE user_id = $2 AND media_id = $1)
      OR EXISTS (SELECT 1 FROM media_refs r
        JOIN members m ON m.chat_id = r.chat_id AND m.user_id = $2
        JOIN messages g ON g.chat_id = r.chat_id AND g.seq = r.seq AND NOT g.deleted
        WHERE r.media_id = $1)
      OR EXISTS (SELECT 1 FROM chats c JOIN members m ON m.chat_id = c.id AND m.user_id = $2
        WHERE c.icon_media_id = $1) AS granted`,
  /** $1 media_id, $2 user_id: users who uploaded it as their avatar and are $2 or share a chat with $2 */
  mediaAvatarOwners: `SELECT u.user_id FROM media_uploads u WHERE u.media_id = $1 AND u.avatar
      AND (u.user_id = $2 OR EXISTS (SELECT 1 FROM members a JOIN members b ON b.chat_id = a.chat_id
        WHERE a.user_id = u.user_id AND b.user_id = $2))`,
  /** $1 media_id[], $2 uploaded since, $3 messages since: the ids the retention job must keep */
  mediaKept: `SELECT id FROM unnest($1::text[]) AS k(id) WHERE
      EXISTS (SELECT 1 FROM media_uploads WHERE media_id = k.id AND uploaded_at >= $2)
      OR EXISTS (SELECT 1 FROM media_refs r
        JOIN messages g ON g.chat_id = r.chat_id AND g.seq = r.seq AND NOT g.deleted
        WHERE r.media_id = k.id AND g.server_time >= $3)
      OR EXISTS (SELECT 1 FROM chats WHERE icon_media_id = k.id)
      OR EXISTS (SELECT 1 FROM media_uploads u WHERE u.media_id = k.id AND u.avatar
        AND NOT EXISTS (SELECT 1 FROM media_uploads v WHERE v.user_id = u.user_id AND v.avatar
          AND v.uploaded_at > u.uploaded_at))`,
  /** $1 media_id[] */
  mediaRefsForget: 'DELETE FROM media_refs WHERE media_id = ANY($1::text[])',
  /** $1 media_id[] */
  mediaUploadsForget: 'DELETE FROM media_uploads WHERE media_id = ANY($1::text[])',
} as const;
