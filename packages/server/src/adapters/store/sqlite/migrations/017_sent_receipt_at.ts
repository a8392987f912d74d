/**
 * 017: each member row keeps when another member's receipt position last moved over this
 * member's messages (`sent_receipt_at`, written with the move, on the same page as the moved
 * row), so a reconnecting sender's receipt catch-up reads only the chats where something
 * moved for them. Existing rows start at the newest move of any other member of their chat.
 * Never edit once landed.
 */
export const sql = `
ALTER TABLE members ADD COLUMN sent_receipt_at INTEGER NOT NULL DEFAULT 0;
UPDATE members SET sent_receipt_at = coalesce(
  (SELECT max(o.receipt_at) FROM members o WHERE o.chat_id = members.chat_id AND o.user_id != members.user_id), 0);
`;
