/**
 * 024: receipt marks that cover only messages which no longer exist are removed; from now on
 * the retention job removes them with the messages (messagesExpire). A mark through seq `t`
 * answers "when was it delivered / read" for messages up to `t`, so once a chat's oldest kept
 * message is past `t` nothing asks for it again. Never edit once landed.
 */
export const sql = `
DELETE FROM receipt_marks WHERE through_seq <
  (SELECT ifnull(min(seq), 9223372036854775807) FROM messages WHERE chat_id = receipt_marks.chat_id);
`;
