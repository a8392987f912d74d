/**
 * Account erasure for the PostgreSQL store (Store.accountErase): every table that names a
 * user, a device of theirs or their number is in ERASE_STEPS, the one place a new table is
 * added. The steps run in order in one transaction, after the user's row is locked.
 *
 * A step's arguments are among: the user id, the user's device ids (revoked ones too), the
 * codes-table keys, and the chat ids dropped whole.
 */
import type { AccountErase, AccountErased } from '../../../ports/store.js';
import type { ChatId, DeviceId } from '../../../ports/types.js';
import type { Db } from './db.js';

export const eraseSql = {
  /** $1 user id: locks the user (a racing erase or link waits) and lists every device of theirs */
  eraseDevicesOf: `SELECT d.id FROM users u LEFT JOIN devices d ON d.user_id = u.id
    WHERE u.id = $1 FOR UPDATE OF u`,
  /** $1 user id, $2 chat ids just left: chats of the user, and those left, no one else is in */
  eraseChatsToDrop: `SELECT c.id FROM chats c
    WHERE (c.id = ANY($2::text[]) OR c.id IN (SELECT chat_id FROM members WHERE user_id = $1))
      AND NOT EXISTS (SELECT 1 FROM members m WHERE m.chat_id = c.id AND m.user_id <> $1)`,
  /** $1 user id: media the user uploaded that no other user did */
  eraseMediaOnlyOf: `SELECT media_id FROM media_uploads u WHERE user_id = $1 AND NOT EXISTS (
      SELECT 1 FROM media_uploads o WHERE o.media_id = u.media_id AND o.user_id <> $1)`,
  /**
   * $1 user id, $2 device ids, $3 chat ids dropped: the user's messages (from any of their
   * devices, found by the messages_client_id index) at or below the lowest acked seq of the
   * other members' active devices in the chat, i.e. received everywhere; erased with their
   * per-device bodies, reactions and pins. Returns how many messages went.
   */
  eraseReceivedMessages: `WITH sent AS (
      SELECT DISTINCT chat_id FROM messages
      WHERE sender_device = ANY($2::text[]) AND chat_id <> ALL($3::text[])),
    bound AS (
      SELECT s.chat_id, coalesce((SELECT min(c.acked_seq) FROM members m
        JOIN devices d ON d.user_id = m.user_id AND d.revoked_at IS NULL
        JOIN cursors c ON c.device_id = d.id AND c.chat_id = m.chat_id
        WHERE m.chat_id = s.chat_id AND m.user_id <> $1), 9223372036854775807) AS upto
      FROM sent s),
    received AS (
      SELECT m.chat_id, m.seq FROM messages m JOIN bound b ON b.chat_id = m.chat_id
      WHERE m.sender_device = ANY($2::text[]) AND m.seq <= b.upto),
    payloads AS (DELETE FROM message_payloads x USING received r WHERE x.chat_id = r.chat_id AND x.seq = r.seq),
    reactions AS (DELETE FROM reactions x USING received r WHERE x.chat_id = r.chat_id AND x.seq = r.seq),
    pins AS (DELETE FROM pins x USING received r WHERE x.chat_id = r.chat_id AND x.seq = r.seq),
    gone AS (DELETE FROM messages x USING received r WHERE x.chat_id = r.chat_id AND x.seq = r.seq RETURNING 1)
    SELECT count(*)::int AS n FROM gone`,
} as const;

type Arg = 'user' | 'devices' | 'codes' | 'drop';

/**
 * In order: what hangs off the devices, the chats dropped whole, then the user's traces.
 * `args` are the statement's $1, $2, ... in order.
 */
export const ERASE_STEPS = {
  eraseCursorsOfDevices: { sql: 'DELETE FROM cursors WHERE device_id = ANY($1::text[])', args: ['devices'] },
  eraseOneTimeKeys: { sql: 'DELETE FROM one_time_keys WHERE device_id = ANY($1::text[])', args: ['devices'] },
  eraseDeviceKeys: { sql: 'DELETE FROM device_keys WHERE device_id = ANY($1::text[])', args: ['devices'] },
  eraseGrants: {
    sql: 'DELETE FROM one_time_grants WHERE device_id = ANY($1::text[]) OR requester_user = $2',
    args: ['devices', 'user'],
  },
  eraseLinkCodes: { sql: 'DELETE FROM link_codes WHERE user_id = $1', args: ['user'] },
  eraseCodes: { sql: 'DELETE FROM codes WHERE phone = ANY($1::text[])', args: ['codes'] },
  // Chats nobody is left in go whole.
  eraseDroppedPayloads: {
    sql: 'DELETE FROM message_payloads WHERE chat_id = ANY($1::text[])',
    args: ['drop'],
  },
  eraseDroppedReactions: { sql: 'DELETE FROM reactions WHERE chat_id = ANY($1::text[])', args: ['drop'] },
  eraseDroppedPins: { sql: 'DELETE FROM pins WHERE chat_id = ANY($1::text[])', args: ['drop'] },
  eraseDroppedInvites: { sql: 'DELETE FROM invites WHERE chat_id = ANY($1::text[])', args: ['drop'] },
  eraseDroppedMarks: { sql: 'DELETE FROM receipt_marks WHERE chat_id = ANY($1::text[])', args: ['drop'] },
  eraseDroppedCursors: { sql: 'DELETE FROM cursors WHERE chat_id = ANY($1::text[])', args: ['drop'] },
  eraseDroppedMessages: { sql: 'DELETE FROM messages WHERE chat_id = ANY($1::text[])', args: ['drop'] },
  eraseDroppedMembers: { sql: 'DELETE FROM members WHERE chat_id = ANY($1::text[])', args: ['drop'] },
  eraseDroppedChats: { sql: 'DELETE FROM chats WHERE id = ANY($1::text[])', args: ['drop'] },
  // The user's traces in chats that go on.
  eraseMemberships: { sql: 'DELETE FROM members WHERE user_id = $1', args: ['user'] },
  eraseMarks: { sql: 'DELETE FROM receipt_marks WHERE user_id = $1', args: ['user'] },
  eraseReactions: { sql: 'DELETE FROM reactions WHERE user_id = $1', args: ['user'] },
  erasePins: { sql: 'DELETE FROM pins WHERE pinned_by = $1', args: ['user'] },
  eraseInvites: { sql: 'DELETE FROM invites WHERE created_by = $1', args: ['user'] },
  // A direct chat's key joins its two user ids with '|' (message-rows.ts directKeyOf).
  eraseDirectKeys: {
    sql: `UPDATE chats SET direct_key = NULL WHERE direct_key IS NOT NULL
      AND (starts_with(direct_key, $1 || '|') OR right(direct_key, length($1) + 1) = '|' || $1)`,
    args: ['user'],
  },
  eraseMediaUploads: { sql: 'DELETE FROM media_uploads WHERE user_id = $1', args: ['user'] },
  eraseRegistrationLock: { sql: 'DELETE FROM registration_locks WHERE user_id = $1', args: ['user'] },
  eraseDiscoveryLookups: { sql: 'DELETE FROM discovery_lookups WHERE user_id = $1', args: ['user'] },
  eraseProfile: { sql: 'DELETE FROM profiles WHERE user_id = $1', args: ['user'] },
  eraseBlocks: { sql: 'DELETE FROM blocks WHERE user_id = $1 OR blocked_user_id = $1', args: ['user'] },
  // Reports by or about the user, and those whose disclosed messages name them, go too; the
  // admin audit keeps what an operator did (it names only ids, never content).
  eraseReports: {
    sql: `DELETE FROM reports WHERE reporter_user_id = $1 OR target_user_id = $1
      OR jsonb_path_exists(messages, '$[*] ? (@.senderUserId == $u)', jsonb_build_object('u', $1::text))`,
    args: ['user'],
  },
  // Push rows name the user and each device (a token moved to another user's device is not theirs).
  erasePushRegistrations: {
    sql: 'DELETE FROM push_registrations WHERE user_id = $1 OR device_id = ANY($2::text[])',
    args: ['user', 'devices'],
  },
  erasePushJobs: {
    sql: 'DELETE FROM push_jobs WHERE user_id = $1 OR device_id = ANY($2::text[])',
    args: ['user', 'devices'],
  },
  erasePushAttempts: {
    sql: 'DELETE FROM push_attempts WHERE user_id = $1 OR device_id = ANY($2::text[])',
    args: ['user', 'devices'],
  },
  erasePushDeadLetters: {
    sql: 'DELETE FROM push_dead_letters WHERE user_id = $1 OR device_id = ANY($2::text[])',
    args: ['user', 'devices'],
  },
  eraseDevices: { sql: 'DELETE FROM devices WHERE user_id = $1', args: ['user'] },
  eraseUser: { sql: 'DELETE FROM users WHERE id = $1', args: ['user'] },
} as const satisfies Record<string, { sql: string; args: readonly Arg[] }>;

type StepName = keyof typeof ERASE_STEPS;

/** The steps' SQL, merged into the adapter's named statements (statements.ts). */
export const eraseStepSql = Object.fromEntries(
  Object.entries(ERASE_STEPS).map(([name, s]) => [name, s.sql]),
) as { [K in StepName]: (typeof ERASE_STEPS)[K]['sql'] };

/** Runs the erasure in the caller's transaction. */
export async function eraseAccount(db: Db, input: AccountErase): Promise<AccountErased> {
  const user = input.userId;
  const found = await db.rows<{ id: string | null }>('eraseDevicesOf', [user]);
  const deviceIds = found.flatMap((r) => (r.id === null ? [] : [r.id as DeviceId]));
  const drop = (await db.rows<{ id: string }>('eraseChatsToDrop', [user, input.leftChatIds])).map(
    (r) => r.id as ChatId,
  );
  const mediaIds = (await db.rows<{ media_id: string }>('eraseMediaOnlyOf', [user])).map((r) => r.media_id);
  const [{ n } = { n: 0 }] = await db.rows<{ n: number }>('eraseReceivedMessages', [user, deviceIds, drop]);
  const values: Record<Arg, unknown> = { user, devices: deviceIds, codes: input.codeKeys, drop };
  for (const [name, s] of Object.entries(ERASE_STEPS) as Array<[StepName, { args: readonly Arg[] }]>) {
    await db.count(
      name,
      s.args.map((a) => values[a]),
    );
  }
  return { deviceIds, droppedChatIds: drop, erasedMessages: n, mediaIds };
}
