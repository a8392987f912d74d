/** SQL of chat mutes and do-not-disturb (PostgreSQL); spread into statements.ts. */
export const mutesSql = {
  /** $1 chat_id, $2 user_id, $3 muted_until */
  chatMuteSet: 'UPDATE members SET muted_until = $3 WHERE chat_id = $1 AND user_id = $2',
  /** $1 id, $2 dnd_until */
  doNotDisturbSet: 'UPDATE users SET dnd_until = $2 WHERE id = $1',
  /**
   * $1 user_id, $2 chat_id (NULL for none): the user's do-not-disturb and, when they are a
   * member of the chat, its kind and their mute (NULLs otherwise); no row for an unknown user.
   */
  alertSettings: `SELECT u.dnd_until, c.kind, m.muted_until FROM users u
    LEFT JOIN members m ON m.chat_id = $2 AND m.user_id = u.id
    LEFT JOIN chats c ON c.id = m.chat_id
    WHERE u.id = $1`,
} as const;
