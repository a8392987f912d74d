/**
 * 016: each member's last receipt move has its time on the member row (`receipt_at`, set in
 * the same write as the positions), so catching a reconnecting sender up on receipts reads
 * member rows, and the marks' time index (one more page written per ack) goes. Never edit
 * once landed.
 */
export const sql = `
ALTER TABLE members ADD COLUMN receipt_at INTEGER NOT NULL DEFAULT 0;
UPDATE members SET receipt_at = coalesce(
  (SELECT max(at) FROM receipt_marks r WHERE r.chat_id = members.chat_id AND r.user_id = members.user_id), 0);
DROP INDEX receipt_marks_at;
`;
