/**
 * Media references and access in SQLite: the attachments each message declared
 * (`media_refs`, written in the send's transaction), who may fetch a body, and what the
 * retention job keeps. Statements are prepared on first use, so a node that never sees a
 * media id never prepares them.
 */
import type Database from 'better-sqlite3';
import type { MediaAccess } from '../../../ports/store.js';
import type { ChatId, UserId } from '../../../ports/types.js';
import { type Prepared, preparedOnFirstUse } from './prepared.js';

const sql = {
  /** media_id, chat_id, seq */
  refInsert: 'INSERT OR IGNORE INTO media_refs (media_id, chat_id, seq) VALUES (?, ?, ?)',
  /** chat_id, seq */
  refsOfMessageDelete: 'DELETE FROM media_refs WHERE chat_id = ? AND seq = ?',
  /** @chat, @ref: a message deleted for everyone, and its edits, reference nothing any more */
  refsWipe: `DELETE FROM media_refs WHERE chat_id = @chat AND (seq = @ref OR seq IN (
    SELECT seq FROM messages WHERE chat_id = @chat AND msg_type = 1 AND ref_seq = @ref))`,
  /** @media, @user: uploader, member of a chat that declared it in a live message, or of a chat with it as icon */
  granted: `SELECT
      EXISTS (SELECT 1 FROM media_uploads WHERE user_id = @user AND media_id = @media)
      OR EXISTS (SELECT 1 FROM media_refs r
        JOIN members m ON m.chat_id = r.chat_id AND m.user_id = @user
        JOIN messages g ON g.chat_id = r.chat_id AND g.seq = r.seq AND g.deleted = 0
        WHERE r.media_id = @media)
      OR EXISTS (SELECT 1 FROM chats c JOIN members m ON m.chat_id = c.id AND m.user_id = @user
        WHERE c.icon_media_id = @media) AS granted`,
  /** @media, @user: users who uploaded it as their avatar and are @user or share a chat with @user */
  avatarOwners: `SELECT u.user_id FROM media_uploads u WHERE u.media_id = @media AND u.avatar = 1
      AND (u.user_id = @user OR EXISTS (SELECT 1 FROM members a JOIN members b ON b.chat_id = a.chat_id
        WHERE a.user_id = u.user_id AND b.user_id = @user))`,
  /** @media, @uploaded, @messages: 1 when the retention job must keep the body */
  kept: `SELECT
      EXISTS (SELECT 1 FROM media_uploads WHERE media_id = @media AND uploaded_at >= @uploaded)
      OR EXISTS (SELECT 1 FROM media_refs r
        JOIN messages g ON g.chat_id = r.chat_id AND g.seq = r.seq AND g.deleted = 0
        WHERE r.media_id = @media AND g.server_time >= @messages)
      OR EXISTS (SELECT 1 FROM chats WHERE icon_media_id = @media)
      OR EXISTS (SELECT 1 FROM media_uploads u WHERE u.media_id = @media AND u.avatar = 1
        AND NOT EXISTS (SELECT 1 FROM media_uploads v WHERE v.user_id = u.user_id AND v.avatar = 1
          AND v.uploaded_at > u.uploaded_at)) AS kept`,
  /** media_id */
  refsForget: 'DELETE FROM media_refs WHERE media_id = ?',
  /** media_id */
  uploadsForget: 'DELETE FROM media_uploads WHERE media_id = ?',
} as const;

export class SqliteMedia {
  private readonly prepared: () => Prepared<typeof sql>;

  constructor(db: Database.Database) {
    this.prepared = preparedOnFirstUse(db, sql);
  }

  private get st(): Prepared<typeof sql> {
    return this.prepared();
  }

  /** In the send's transaction; the caller skips it when the message declares nothing. */
  refsInsert(chatId: ChatId, seq: number, mediaIds: readonly string[]): void {
    for (const id of mediaIds) this.st.refInsert.run(id, chatId, seq);
  }

  /** In the transaction that removes the message. */
  refsOfMessageDelete(chatId: ChatId, seq: number): void {
    this.st.refsOfMessageDelete.run(chatId, seq);
  }

  /** In the transaction of a delete for everyone of message `ref`. */
  refsWipe(chatId: ChatId, ref: number): void {
    this.st.refsWipe.run({ chat: chatId, ref });
  }

  access(mediaId: string, userId: UserId): MediaAccess {
    const args = { media: mediaId, user: userId };
    const granted = (this.st.granted.get(args) as { granted: number }).granted === 1;
    const owners = this.st.avatarOwners.all(args) as Array<{ user_id: string }>;
    return { granted, avatarOwners: owners.map((r) => r.user_id as UserId) };
  }

  kept(ids: readonly string[], uploadedSince: number, messagesSince: number): string[] {
    return ids.filter(
      (media) =>
        (this.st.kept.get({ media, uploaded: uploadedSince, messages: messagesSince }) as { kept: number })
          .kept === 1,
    );
  }

  forget(ids: readonly string[]): number {
    let n = 0;
    for (const id of ids) n += this.st.refsForget.run(id).changes + this.st.uploadsForget.run(id).changes;
    return n;
  }
}
