/**
 * Chat mutes and do-not-disturb in SQLite: a member's mute on its member row, the user's
 * do-not-disturb on the user row. Statements are prepared on first use (a database without
 * migration 019 never prepares them).
 */
import type Database from 'better-sqlite3';
import type { AlertSettings } from '../../../ports/store.js';
import type { ChatId, ChatKind, UserId } from '../../../ports/types.js';
import { type Prepared, preparedOnFirstUse } from './prepared.js';

const sql = {
  /** muted_until, chat_id, user_id */
  chatMuteSet: 'UPDATE members SET muted_until = ? WHERE chat_id = ? AND user_id = ?',
  /** dnd_until, id */
  doNotDisturbSet: 'UPDATE users SET dnd_until = ? WHERE id = ?',
  /** id */
  doNotDisturbOf: 'SELECT dnd_until FROM users WHERE id = ?',
  /** chat_id, user_id: the chat's kind and the member's mute */
  memberMute: `SELECT c.kind, m.muted_until FROM members m JOIN chats c ON c.id = m.chat_id
    WHERE m.chat_id = ? AND m.user_id = ?`,
} as const;

export class SqliteMutes {
  private readonly prepared: () => Prepared<typeof sql>;

  constructor(db: Database.Database) {
    this.prepared = preparedOnFirstUse(db, sql);
  }

  private get st(): Prepared<typeof sql> {
    return this.prepared();
  }

  chatMuteSet(chatId: ChatId, userId: UserId, until: number): boolean {
    return this.st.chatMuteSet.run(until, chatId, userId).changes > 0;
  }

  doNotDisturbSet(userId: UserId, until: number): boolean {
    return this.st.doNotDisturbSet.run(until, userId).changes > 0;
  }

  alertSettings(userId: UserId, chatId?: ChatId): AlertSettings {
    const u = this.st.doNotDisturbOf.get(userId) as { dnd_until: number } | undefined;
    const out: AlertSettings = { doNotDisturbUntil: u?.dnd_until ?? 0 };
    if (chatId === undefined) return out;
    const m = this.st.memberMute.get(chatId, userId) as { kind: ChatKind; muted_until: number } | undefined;
    if (m) out.chat = { kind: m.kind, mutedUntil: m.muted_until };
    return out;
  }
}
