/**
 * 023: a chat's last seq is the larger of `chats.last_seq` and its newest message row's seq,
 * so a message no longer writes the chat's row as well (one random page fewer per message).
 * `chats.last_seq` stays a floor: before a chat's newest message row is deleted (retention,
 * expiry, erasure), this trigger raises it to that row's seq, so a seq is never handed out twice.
 * Never edit once landed.
 */
export const sql = `
CREATE TRIGGER messages_keep_last_seq BEFORE DELETE ON messages
BEGIN
  UPDATE chats SET last_seq = OLD.seq WHERE id = OLD.chat_id AND last_seq < OLD.seq
    AND NOT EXISTS (SELECT 1 FROM messages WHERE chat_id = OLD.chat_id AND seq > OLD.seq);
END;
`;
