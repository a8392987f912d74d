/**
 * 022: each user keeps the newest of its member rows' `sent_receipt_at` (written in the same
 * transaction), so a connecting device whose user has had no receipt move since it was last
 * seen reads one row instead of every member row of the user. Existing users start at the
 * newest stamp of their member rows. Never edit once landed.
 */
export const sql = `
ALTER TABLE users ADD COLUMN sent_receipt_at INTEGER NOT NULL DEFAULT 0;
UPDATE users SET sent_receipt_at = coalesce(
  (SELECT max(m.sent_receipt_at) FROM members m WHERE m.user_id = users.id), 0);
`;
