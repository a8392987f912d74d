/**
 * Account erasure for the SQLite store (Store.accountErase): every table that names a user,
 * a device of theirs or their number is in ERASE_STEPS, the one place a new table is added.
 * The steps run in order inside the caller's transaction. Lists travel as JSON arrays
 * (json_each), so each step is one statement whatever their length.
 *
 * Parameters of every step: @user user id, @devices JSON array of the user's device ids
 * (revoked ones too), @codes JSON array of codes-table keys, @drop JSON array of chat ids
 * dropped whole.
 */
import type Database from 'better-sqlite3';
import type { AccountErase, AccountErased } from '../../../ports/store.js';
import type { ChatId, DeviceId } from '../../../ports/types.js';

const DEVICES = '(SELECT value FROM json_each(@devices))';
const DROP = '(SELECT value FROM json_each(@drop))';

/** In order: what hangs off the devices, the devices, the chats dropped whole, then the user's traces. */
export const ERASE_STEPS: ReadonlyArray<{ table: string; sql: string }> = [
  { table: 'cursors', sql: `DELETE FROM cursors WHERE device_id IN ${DEVICES}` },
  { table: 'one_time_keys', sql: `DELETE FROM one_time_keys WHERE device_id IN ${DEVICES}` },
  { table: 'device_keys', sql: `DELETE FROM device_keys WHERE device_id IN ${DEVICES}` },
  {
    table: 'one_time_grants',
    sql: `DELETE FROM one_time_grants WHERE device_id IN ${DEVICES} OR requester_user = @user`,
  },
  { table: 'link_codes', sql: 'DELETE FROM link_codes WHERE user_id = @user' },
  { table: 'codes', sql: 'DELETE FROM codes WHERE phone IN (SELECT value FROM json_each(@codes))' },
  // Chats nobody is left in go whole.
  { table: 'message_payloads', sql: `DELETE FROM message_payloads WHERE chat_id IN ${DROP}` },
  { table: 'reactions', sql: `DELETE FROM reactions WHERE chat_id IN ${DROP}` },
  { table: 'pins', sql: `DELETE FROM pins WHERE chat_id IN ${DROP}` },
  { table: 'invites', sql: `DELETE FROM invites WHERE chat_id IN ${DROP}` },
  { table: 'receipt_marks', sql: `DELETE FROM receipt_marks WHERE chat_id IN ${DROP}` },
  { table: 'cursors', sql: `DELETE FROM cursors WHERE chat_id IN ${DROP}` },
  { table: 'messages', sql: `DELETE FROM messages WHERE chat_id IN ${DROP}` },
  { table: 'members', sql: `DELETE FROM members WHERE chat_id IN ${DROP}` },
  { table: 'chats', sql: `DELETE FROM chats WHERE id IN ${DROP}` },
  // The user's traces in chats that go on.
  { table: 'members', sql: 'DELETE FROM members WHERE user_id = @user' },
  { table: 'receipt_marks', sql: 'DELETE FROM receipt_marks WHERE user_id = @user' },
  { table: 'reactions', sql: 'DELETE FROM reactions WHERE user_id = @user' },
  { table: 'pins', sql: 'DELETE FROM pins WHERE pinned_by = @user' },
  { table: 'invites', sql: 'DELETE FROM invites WHERE created_by = @user' },
  {
    table: 'chats',
    // A direct chat's key joins its two user ids with '|' (message-rows.ts directKeyOf).
    sql: `UPDATE chats SET direct_key = NULL WHERE direct_key IS NOT NULL AND (
      substr(direct_key, 1, length(@user) + 1) = @user || '|' OR
      substr(direct_key, -(length(@user) + 1)) = '|' || @user)`,
  },
  { table: 'media_uploads', sql: 'DELETE FROM media_uploads WHERE user_id = @user' },
  { table: 'registration_locks', sql: 'DELETE FROM registration_locks WHERE user_id = @user' },
  { table: 'discovery_lookups', sql: 'DELETE FROM discovery_lookups WHERE user_id = @user' },
  { table: 'profiles', sql: 'DELETE FROM profiles WHERE user_id = @user' },
  { table: 'blocks', sql: 'DELETE FROM blocks WHERE user_id = @user OR blocked_user_id = @user' },
  // Reports by or about the user, and those whose disclosed messages name them, go too; the
  // admin audit keeps what an operator did (it names only ids, never content).
  {
    table: 'reports',
    sql: `DELETE FROM reports WHERE reporter_user_id = @user OR target_user_id = @user
      OR instr(messages, '"' || @user || '"') > 0`,
  },
  // Push rows name the user and each device (a token moved to another user's device is not theirs).
  ...['push_registrations', 'push_jobs', 'push_attempts', 'push_dead_letters'].map((table) => ({
    table,
    sql: `DELETE FROM ${table} WHERE user_id = @user OR device_id IN ${DEVICES}`,
  })),
  { table: 'devices', sql: 'DELETE FROM devices WHERE user_id = @user' },
  { table: 'users', sql: 'DELETE FROM users WHERE id = @user' },
];

const QUERIES = {
  /** @user */
  devices: 'SELECT id FROM devices WHERE user_id = @user',
  /** @user, @left: chats of the user, and those just left, that no one else is in */
  drop: `SELECT id FROM chats WHERE id IN (
      SELECT chat_id FROM members WHERE user_id = @user
      UNION SELECT value FROM json_each(@left))
    AND NOT EXISTS (SELECT 1 FROM members m WHERE m.chat_id = chats.id AND m.user_id <> @user)`,
  /** @user: media the user uploaded that no other user did */
  media: `SELECT media_id FROM media_uploads u WHERE user_id = @user AND NOT EXISTS (
      SELECT 1 FROM media_uploads o WHERE o.media_id = u.media_id AND o.user_id <> @user)`,
  /** @devices: chats with messages sent from the user's devices (the messages_client_id index) */
  sentIn: `SELECT DISTINCT chat_id FROM messages WHERE sender_device IN ${DEVICES}`,
  /**
   * chat_id, user: the lowest acked seq of the other members' active devices in the chat
   * (NULL when they have none): every message at or below it was received everywhere.
   */
  receivedThrough: `SELECT min(c.acked_seq) AS seq FROM members m
    JOIN devices d ON d.user_id = m.user_id AND d.revoked_at IS NULL
    JOIN cursors c ON c.device_id = d.id AND c.chat_id = m.chat_id
    WHERE m.chat_id = ? AND m.user_id <> ?`,
  /** @devices, @chat, @upto: the user's messages of the chat received everywhere */
  received: `SELECT seq FROM messages
    WHERE chat_id = @chat AND seq <= @upto AND sender_device IN ${DEVICES}`,
  /** chat_id, seq */
  payloads: 'DELETE FROM message_payloads WHERE chat_id = ? AND seq = ?',
  /** chat_id, seq */
  reactions: 'DELETE FROM reactions WHERE chat_id = ? AND seq = ?',
  /** chat_id, seq */
  pin: 'DELETE FROM pins WHERE chat_id = ? AND seq = ?',
  /** chat_id, seq */
  message: 'DELETE FROM messages WHERE chat_id = ? AND seq = ?',
} as const;

export type Eraser = (input: AccountErase) => AccountErased;

/** Prepares the steps once; the returned function must run inside a transaction. */
export function prepareEraser(db: Database.Database): Eraser {
  const steps = ERASE_STEPS.map((s) => db.prepare(s.sql));
  const q = Object.fromEntries(Object.entries(QUERIES).map(([k, v]) => [k, db.prepare(v)])) as {
    [K in keyof typeof QUERIES]: Database.Statement;
  };
  return (input) => {
    const user = input.userId;
    const deviceIds = (q.devices.all({ user }) as Array<{ id: string }>).map((r) => r.id as DeviceId);
    const devices = JSON.stringify(deviceIds);
    const drop = (q.drop.all({ user, left: JSON.stringify(input.leftChatIds) }) as Array<{ id: string }>).map(
      (r) => r.id as ChatId,
    );
    const mediaIds = (q.media.all({ user }) as Array<{ media_id: string }>).map((r) => r.media_id);
    // The user's messages received by every other member's devices (the user's own do not count).
    const dropped = new Set<string>(drop);
    let erasedMessages = 0;
    for (const { chat_id: chat } of q.sentIn.all({ devices }) as Array<{ chat_id: string }>) {
      if (dropped.has(chat)) continue;
      const upto =
        (q.receivedThrough.get(chat, user) as { seq: number | null }).seq ?? Number.MAX_SAFE_INTEGER;
      for (const { seq } of q.received.all({ devices, chat, upto }) as Array<{ seq: number }>) {
        q.payloads.run(chat, seq);
        q.reactions.run(chat, seq);
        q.pin.run(chat, seq);
        erasedMessages += q.message.run(chat, seq).changes;
      }
    }
    const params = { user, devices, codes: JSON.stringify(input.codeKeys), drop: JSON.stringify(drop) };
    for (const s of steps) s.run(params);
    return { deviceIds, droppedChatIds: drop, erasedMessages, mediaIds };
  };
}
