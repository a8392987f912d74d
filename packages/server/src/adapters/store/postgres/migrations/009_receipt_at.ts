/**
 * 009: each member's last receipt move has its time on the member row (`receipt_at`, set in
 * the same write as the positions), so catching a reconnecting sender up on receipts reads
 * member rows, and the marks' time index (one more page written per ack) goes. Never edit
 * once landed.
 */
export const migration = {
  version: 9,
  name: 'receipt_at',
  sql: `
ALTER TABLE members ADD COLUMN receipt_at bigint NOT NULL DEFAULT 0;
UPDATE members m SET receipt_at = r.at
  FROM (SELECT chat_id, user_id, max(at) AS at FROM receipt_marks GROUP BY chat_id, user_id) r
  WHERE r.chat_id = m.chat_id AND r.user_id = m.user_id;
DROP INDEX receipt_marks_at;
`,
} as const;
