/**
 * 010: each member row keeps when another member's receipt position last moved over this
 * member's messages (`sent_receipt_at`, written with the move), so a reconnecting sender's
 * receipt catch-up reads only the chats where something moved for them. Existing rows start
 * at the newest move of any other member of their chat. Never edit once landed.
 */
export const migration = {
  version: 10,
  name: 'sent_receipt_at',
  sql: `
ALTER TABLE members ADD COLUMN sent_receipt_at bigint NOT NULL DEFAULT 0;
UPDATE members m SET sent_receipt_at = o.at
  FROM (SELECT a.chat_id, a.user_id, max(b.receipt_at) AS at
          FROM members a JOIN members b ON b.chat_id = a.chat_id AND b.user_id <> a.user_id
         GROUP BY a.chat_id, a.user_id) o
  WHERE o.chat_id = m.chat_id AND o.user_id = m.user_id AND o.at > 0;
`,
} as const;
