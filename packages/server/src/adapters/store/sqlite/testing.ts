/** What the SQLite store tests read past the port. */
import Database from 'better-sqlite3';
import type { ChatId } from '../../../ports/types.js';

/** The receipt mark rows of `chat` in the database file at `path`, `kind:throughSeq` in key order. */
export async function receiptMarksIn(path: string, chat: ChatId): Promise<string[]> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare(
        'SELECT kind, through_seq FROM receipt_marks WHERE chat_id = ? ORDER BY user_id, kind, through_seq',
      )
      .all(chat) as Array<{ kind: number; through_seq: number }>;
    return rows.map((r) => `${r.kind}:${r.through_seq}`);
  } finally {
    db.close();
  }
}
