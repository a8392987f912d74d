/**
 * 015: receipt marks that cover only messages which no longer exist are removed; from now on
 * the retention job removes them with the messages (messagesExpire). A mark through seq `t`
 * answers "when was it delivered / read" for messages up to `t`, so once a chat's oldest kept
 * message is past `t` nothing asks for it again. Never edit once landed.
 */
export const migration = {
  version: 15,
  name: 'trim_receipt_marks',
  sql: `
DELETE FROM receipt_marks r WHERE r.through_seq <
  coalesce((SELECT min(m.seq) FROM messages m WHERE m.chat_id = r.chat_id), 9223372036854775807);
`,
} as const;
