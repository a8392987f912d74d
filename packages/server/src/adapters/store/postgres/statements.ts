/**
 * Every SQL statement of the PostgreSQL store. Each runs as a named prepared statement;
 * the comment above it names its parameters ($1, $2, ...) in order. Arrays are passed
 * whole (`= ANY($1::text[])`, `unnest(...)`) so a batch costs one round trip, not one per row.
 */
import { eraseSql, eraseStepSql } from './erase.js';
import { mediaSql } from './media-sql.js';
import { moderationSql } from './moderation-sql.js';
import { mutesSql } from './mutes-sql.js';
import { pushSql } from './push.js';

/**
 * The chat row of each of a user's or device's rows, one index lookup each. A plain join
 * here is planned as a scan of every chat hashed against the rows (with the default
 * `random_page_cost`, a thousand lookups cost more than one scan on paper), which took
 * 120-180 ms a device with 499,500 chats against 7-9 ms for the lookups. `OFFSET 0` keeps
 * the subquery from being pulled up into that join; a row whose chat is gone is dropped,
 * as by the join. `of` is the outer row's chat id column.
 */
const chatRowOf = (of: string, columns = '*') =>
  `CROSS JOIN LATERAL (SELECT ${columns} FROM chats WHERE id = ${of} OFFSET 0) c`;

/**
 * The step of an expiry statement that removes the receipt marks covering none of a chat's
 * messages left once the rows in `gone` are deleted (migration 015). The statement's other
 * steps see the rows as they were before it, so the deleted ones are left out by hand.
 */
const MARKS_OF_GONE = `marks AS (DELETE FROM receipt_marks r USING (SELECT DISTINCT chat_id FROM gone) c
      WHERE r.chat_id = c.chat_id AND r.through_seq < coalesce((SELECT min(m.seq) FROM messages m
        WHERE m.chat_id = c.chat_id AND NOT EXISTS (SELECT 1 FROM gone g WHERE g.chat_id = m.chat_id AND g.seq = m.seq)),
        9223372036854775807))`;

/**
 * The payload messages of a batch: $1 chat_id[], $2 seq[], $3 sender_user[], $4
 * sender_device[], $5 client_id[], $6 server_time[], $7 body[] (NULL: per-device bodies),
 * $8 msg_type[], $9 ref_seq[], $10 reaction[], $11 mentions[] (comma-joined), $12
 * forward_count[], $13 view_once[], $14 expires_at[], $15 withheld[]. A (sender_device,
 * client_id) that another transaction stored meanwhile is skipped; the caller sees it by the
 * inserted count.
 */
const MESSAGES_INSERT = `INSERT INTO messages (chat_id, seq, sender_user, sender_device, client_id, server_time, kind,
      body, msg_type, ref_seq, reaction, mentions, forward_count, view_once, expires_at, withheld)
    SELECT chat_id, seq, sender_user, sender_device, client_id, server_time, 0, body, msg_type, ref_seq, reaction,
      coalesce(string_to_array(nullif(mentions, ''), ','), '{}'), forward_count, view_once, expires_at, withheld
    FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bytea[],
      $8::smallint[], $9::bigint[], $10::text[], $11::text[], $12::integer[], $13::boolean[], $14::bigint[], $15::boolean[])
      AS v(chat_id, seq, sender_user, sender_device, client_id, server_time, body, msg_type, ref_seq, reaction,
        mentions, forward_count, view_once, expires_at, withheld)
    ON CONFLICT (sender_device, client_id) DO NOTHING`;

export const sql = {
  ...eraseSql,
  ...eraseStepSql,
  ...moderationSql,
  ...pushSql,
  ...mutesSql,
  ...mediaSql,
  // -- accounts -------------------------------------------------------------------------------
  /** $1 phone */
  userByPhone: 'SELECT id, phone, created_at FROM users WHERE phone = $1',
  /** $1 phone_hash[] */
  usersByPhoneHash: 'SELECT id, phone_hash FROM users WHERE phone_hash = ANY($1::bytea[])',
  /** $1 id */
  userGet: 'SELECT id, phone, created_at FROM users WHERE id = $1',
  /** $1 media_id, $2 user_id, $3 uploaded_at, $4 avatar (a repeat never unmarks one) */
  mediaUploadRecord: `INSERT INTO media_uploads (media_id, user_id, uploaded_at, avatar) VALUES ($1, $2, $3, $4)
    ON CONFLICT (user_id, media_id) DO UPDATE SET uploaded_at = excluded.uploaded_at,
      avatar = media_uploads.avatar OR excluded.avatar`,
  /** $1 cutoff, $2 limit */
  mediaUploadsExpire: `DELETE FROM media_uploads WHERE (user_id, media_id) IN (
    SELECT user_id, media_id FROM media_uploads WHERE uploaded_at < $1 AND NOT avatar LIMIT $2)`,
  /** $1 user_id, $2 cutoff: forgets the user's lookups made at or before cutoff */
  discoveryForget: 'DELETE FROM discovery_lookups WHERE user_id = $1 AND looked_up_at <= $2',
  /** $1 user_id */
  discoveryOfUser: 'SELECT digest, looked_up_at FROM discovery_lookups WHERE user_id = $1',
  /** $1 user_id, $2 digest[], $3 looked_up_at */
  discoveryInsert: `INSERT INTO discovery_lookups (user_id, digest, looked_up_at)
    SELECT $1, d, $3 FROM unnest($2::text[]) AS d ON CONFLICT (user_id, digest) DO NOTHING`,
  /** $1 user_id: serializes one user's budget across nodes (the user may not exist) */
  discoveryLock: "SELECT pg_advisory_xact_lock(hashtextextended('parley.discovery:' || $1, 0))",
  /** $1 cutoff, $2 limit */
  discoveryExpire: `DELETE FROM discovery_lookups WHERE (user_id, digest) IN (
    SELECT user_id, digest FROM discovery_lookups WHERE looked_up_at < $1 LIMIT $2)`,
  /** $1 id[] */
  usersExisting: 'SELECT id FROM users WHERE id = ANY($1::text[])',
  /**
   * $1 id, $2 phone, $3 phone_hash, $4 created_at: the user of the phone, created if new.
   * The no-op update returns (and locks) an existing row, so two nodes registering the
   * same phone at once agree on one user and revoke each other's primary in turn.
   */
  userUpsert: `INSERT INTO users (id, phone, phone_hash, created_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (phone) DO UPDATE SET phone = excluded.phone RETURNING id`,
  /** $1 user_id: locks the user, so device limits hold with several nodes linking at once */
  userLock: 'SELECT id FROM users WHERE id = $1 FOR UPDATE',
  /** $1 user_id, $2 revoked_at: revokes the active primary, returning its id */
  primaryRevoke: `UPDATE devices SET revoked_at = $2
    WHERE user_id = $1 AND is_primary AND revoked_at IS NULL RETURNING id`,
  /** $1 id, $2 user_id, $3 is_primary, $4 name, $5 token_hash, $6 created_at (= last_seen_at) */
  deviceInsert: `INSERT INTO devices (id, user_id, is_primary, name, token_hash, created_at, last_seen_at)
    VALUES ($1, $2, $3, $4, $5, $6, $6)`,
  /** $1 user_id */
  deviceCount: 'SELECT count(*) AS n FROM devices WHERE user_id = $1 AND revoked_at IS NULL',
  /** $1 token_hash */
  deviceByToken: `SELECT d.id, d.user_id, d.is_primary, d.name, d.created_at, d.last_seen_at, u.suspended_at
    FROM devices d JOIN users u ON u.id = d.user_id WHERE d.token_hash = $1 AND d.revoked_at IS NULL`,
  /** $1 user_id[] */
  devicesOfUsers: `SELECT id, user_id FROM devices WHERE user_id = ANY($1::text[]) AND revoked_at IS NULL
    ORDER BY created_at, id COLLATE "C"`,
  /** $1 user_id */
  deviceList: `SELECT id, user_id, is_primary, name, created_at, last_seen_at
    FROM devices WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, id COLLATE "C"`,
  /** $1 id, $2 revoked_at */
  deviceRevoke: 'UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL',
  /** $1 id, $2 last_seen_at (never moves back) */
  devicesTouch: 'UPDATE devices SET last_seen_at = greatest(last_seen_at, $2) WHERE id = ANY($1::text[])',
  /**
   * $1 cutoff, $2 revoked_at: revokes linked devices whose user has no active primary seen
   * at or after the cutoff, and drops their cursors, in one statement.
   */
  orphansRetire: `WITH retired AS (
      UPDATE devices d SET revoked_at = $2
      WHERE d.revoked_at IS NULL AND NOT d.is_primary AND NOT EXISTS (
        SELECT 1 FROM devices p WHERE p.user_id = d.user_id AND p.is_primary
          AND p.revoked_at IS NULL AND p.last_seen_at >= $1)
      RETURNING d.id),
    dropped AS (DELETE FROM cursors WHERE device_id IN (SELECT id FROM retired))
    SELECT id FROM retired ORDER BY id COLLATE "C"`,

  /** $1 id */
  userPresence: 'SELECT last_seen_at, last_seen_visibility, read_receipts FROM users WHERE id = $1',
  /** $1 id, $2 last_seen_at (never moves back) */
  userLastSeenSet: 'UPDATE users SET last_seen_at = greatest(last_seen_at, $2) WHERE id = $1',
  /** $1 id, $2 last_seen_visibility */
  userVisibilitySet: 'UPDATE users SET last_seen_visibility = $2 WHERE id = $1',
  /** $1 id, $2 read_receipts */
  userReadReceiptsSet: 'UPDATE users SET read_receipts = $2 WHERE id = $1',
  /** $1 user_id, $2 other user_id[]: the others sharing a chat with the user */
  usersSharingChat: `SELECT DISTINCT b.user_id FROM members a JOIN members b ON b.chat_id = a.chat_id
    WHERE a.user_id = $1 AND b.user_id = ANY($2::text[])`,

  // -- codes ----------------------------------------------------------------------------------
  /** $1 phone */
  codeGet: 'SELECT phone, code_hash, expires_at, attempts, sent_at FROM codes WHERE phone = $1',
  /** $1 phone, $2 code_hash, $3 expires_at, $4 attempts, $5 sent_at */
  codePut: `INSERT INTO codes (phone, code_hash, expires_at, attempts, sent_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at,
      attempts = excluded.attempts, sent_at = excluded.sent_at`,
  /**
   * $1 phone, $2 max attempts, $3 now: one attempt, only on a live code with attempts to spare.
   * A racing update waits for the row lock and re-checks the condition on the new row.
   */
  codeAttemptTake: `UPDATE codes SET attempts = attempts + 1 WHERE phone = $1 AND attempts < $2 AND expires_at > $3
    RETURNING phone, code_hash, expires_at, attempts, sent_at`,
  /** $1 phone, $2 code_hash: only the code that was checked, not a newer one */
  codeConsume: 'DELETE FROM codes WHERE phone = $1 AND code_hash = $2',
  /** $1 phone, $2 code_hash: gives back an attempt, only on the code that was checked */
  codeAttemptReturn:
    'UPDATE codes SET attempts = attempts - 1 WHERE phone = $1 AND code_hash = $2 AND attempts > 0',

  // -- registration lock --------------------------------------------------------------------
  /** $1 user_id: the lock, with the latest last_seen_at of the user's devices (revoked ones too) */
  registrationLockGet: `SELECT l.user_id, l.pin_hash, l.set_at, l.failed_attempts, l.locked_until,
      coalesce((SELECT max(d.last_seen_at) FROM devices d WHERE d.user_id = l.user_id), 0) AS last_seen_at
    FROM registration_locks l WHERE l.user_id = $1`,
  /** $1 user_id, $2 pin_hash, $3 set_at: a new PIN starts with no wrong tries and no lockout */
  registrationLockSet: `INSERT INTO registration_locks (user_id, pin_hash, set_at, failed_attempts, locked_until)
    VALUES ($1, $2, $3, 0, 0)
    ON CONFLICT (user_id) DO UPDATE SET pin_hash = excluded.pin_hash, set_at = excluded.set_at,
      failed_attempts = 0, locked_until = 0`,
  /** $1 user_id */
  registrationLockDelete: 'DELETE FROM registration_locks WHERE user_id = $1',
  /**
   * $1 user_id, $2 now, $3 max tries, $4 lockout ms: one try, only while not locked out (the row
   * lock makes racing tries queue, and each re-reads the row); a lockout that ended
   * (locked_until > 0) restarts the count at this try; reaching $3 starts a lockout
   */
  registrationLockAttemptTake: `UPDATE registration_locks SET
      failed_attempts = CASE WHEN locked_until > 0 THEN 1 ELSE failed_attempts + 1 END,
      locked_until = CASE WHEN (CASE WHEN locked_until > 0 THEN 1 ELSE failed_attempts + 1 END) >= $3::integer
        THEN $2::bigint + $4::bigint ELSE 0 END
    WHERE user_id = $1 AND locked_until <= $2::bigint
    RETURNING user_id, pin_hash, set_at, failed_attempts, locked_until`,
  /** $1 user_id, $2 pin_hash: only the PIN that was checked */
  registrationLockAttemptsReset:
    'UPDATE registration_locks SET failed_attempts = 0, locked_until = 0 WHERE user_id = $1 AND pin_hash = $2',
  /** $1 code_hash, $2 user_id, $3 expires_at */
  linkCodePut: `INSERT INTO link_codes (code_hash, user_id, expires_at) VALUES ($1, $2, $3)
    ON CONFLICT (code_hash) DO UPDATE SET user_id = excluded.user_id, expires_at = excluded.expires_at`,
  /** $1 code_hash: consumed once, whichever node asks first */
  linkCodeTake: 'DELETE FROM link_codes WHERE code_hash = $1 RETURNING user_id, expires_at',

  // -- chats ----------------------------------------------------------------------------------
  /**
   * $1 id, $2 kind, $3 name, $4 description, $5 created_at, $6 direct_key (last_seq 1: the
   * CREATED update). Inserts nothing when the pair already has a direct chat, waiting for a
   * concurrent insert of that pair to commit or roll back first.
   */
  chatInsert: `INSERT INTO chats (id, kind, name, description, created_at, last_seq, direct_key)
    VALUES ($1, $2, $3, $4, $5, 1, $6) ON CONFLICT (direct_key) DO NOTHING`,
  /**
   * $1 id[], $2 kind[], $3 name[], $4 description[], $5 created_at[], $6 direct_key[]: the
   * chats of chatCreateMany (last_seq 1). A pair that already has a direct chat, or comes
   * again later in the arrays, is skipped; returns the ids inserted.
   */
  chatsInsertMany: `INSERT INTO chats (id, kind, name, description, created_at, last_seq, direct_key)
    SELECT id, kind, name, description, created_at, 1, direct_key
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[])
      AS v(id, kind, name, description, created_at, direct_key)
    ON CONFLICT (direct_key) DO NOTHING RETURNING id`,
  /** $1 id: the chat with its members (json, in join order) read in one snapshot */
  /** $1 after_id, $2 limit: a page of chats by id, each with its members (json, in join order) */
  chatMembersPage: `SELECT c.id, c.kind, c.only_admins_send,
      (SELECT coalesce(json_agg(json_build_object('u', m.user_id, 'r', m.role)
         ORDER BY m.joined_seq, m.joined_at, m.user_id COLLATE "C"), '[]') FROM members m WHERE m.chat_id = c.id) AS members
    FROM chats c WHERE c.id > $1 ORDER BY c.id LIMIT $2`,
  chatGet: `SELECT c.id, c.kind, c.name, c.description, c.created_at, c.last_seq, c.only_admins_send,
      c.only_admins_edit_info, c.disappearing_seconds, c.icon_media_id,
      (SELECT coalesce(json_agg(json_build_object('u', m.user_id, 'r', m.role, 'j', m.joined_at)
         ORDER BY m.joined_seq, m.joined_at, m.user_id COLLATE "C"), '[]') FROM members m WHERE m.chat_id = c.id) AS members
    FROM chats c WHERE c.id = $1`,
  /** $1 direct_key */
  chatByDirectKey: 'SELECT id FROM chats WHERE direct_key = $1',
  /** $1 id: takes the chat's next seq, holding the chat's row lock until commit */
  chatNextSeq: 'UPDATE chats SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq',
  /**
   * $1 id[]: locks the chats of a send batch in id order (every batch locks in the same
   * order, so two nodes never deadlock on them) and returns their last seq, timer and kind.
   */
  chatsLockForCommit: `SELECT id, last_seq, disappearing_seconds, kind FROM chats
    WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
  /** $1 id[], $2 last_seq[] */
  chatsSetLastSeq: `UPDATE chats c SET last_seq = v.last_seq
    FROM unnest($1::text[], $2::bigint[]) AS v(id, last_seq) WHERE c.id = v.id`,
  /** $1 id, $2 name */
  chatSetName: 'UPDATE chats SET name = $2 WHERE id = $1',
  /** $1 id, $2 description */
  chatSetDescription: 'UPDATE chats SET description = $2 WHERE id = $1',
  /** $1 id, $2 icon_media_id */
  chatSetIcon: 'UPDATE chats SET icon_media_id = $2 WHERE id = $1',
  /** $1 id, $2 only_admins_send, $3 only_admins_edit_info (NULL keeps a setting) */
  chatSetSettings: `UPDATE chats SET only_admins_send = coalesce($2, only_admins_send),
    only_admins_edit_info = coalesce($3, only_admins_edit_info) WHERE id = $1`,
  /** $1 id, $2 disappearing_seconds */
  chatTimerSet: 'UPDATE chats SET disappearing_seconds = $2 WHERE id = $1',
  /** $1 direct_key */
  usersDirectChat: 'SELECT 1 FROM chats WHERE direct_key = $1',

  /** $1 chat_id, $2 user_id[], $3 role[], $4 joined_at, $5 joined_seq; existing members are kept */
  membersInsert: `INSERT INTO members (chat_id, user_id, role, joined_at, joined_seq)
    SELECT $1, u, r, $4, $5 FROM unnest($2::text[], $3::text[]) AS v(u, r)
    ON CONFLICT (chat_id, user_id) DO NOTHING`,
  /**
   * $1 chat_id[], $2 user_id[], $3 role[], $4 joined_at[]: members of new chats (joined_seq 1),
   * one row per distinct (chat, user)
   */
  membersInsertMany: `INSERT INTO members (chat_id, user_id, role, joined_at, joined_seq)
    SELECT chat_id, user_id, role, joined_at, 1
    FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS v(chat_id, user_id, role, joined_at)
    ON CONFLICT (chat_id, user_id) DO NOTHING`,
  /** $1 chat_id */
  memberCount: 'SELECT count(*) AS n FROM members WHERE chat_id = $1',
  /** $1 chat_id, $2 user_id[] */
  membersDelete: 'DELETE FROM members WHERE chat_id = $1 AND user_id = ANY($2::text[])',
  /** $1 chat_id, $2 user_id, $3 role */
  memberSetRole: 'UPDATE members SET role = $3 WHERE chat_id = $1 AND user_id = $2',
  /** $1 user_id */
  chatIdsOfUser: 'SELECT chat_id FROM members WHERE user_id = $1',

  // -- cursors --------------------------------------------------------------------------------
  /** $1 device_id, $2 user_id: a new device starts at each of its user's chats' last seq */
  cursorsStartForDevice: `INSERT INTO cursors (device_id, chat_id, acked_seq, end_seq)
    SELECT $1, m.chat_id, c.last_seq, NULL FROM members m ${chatRowOf('m.chat_id', 'last_seq')} WHERE m.user_id = $2
    ON CONFLICT (device_id, chat_id) DO UPDATE SET acked_seq = excluded.acked_seq, end_seq = NULL`,
  /**
   * $1 chat_id, $2 acked_seq, $3 user_id[], $4 actor device_id, $5 its acked_seq: every
   * device of newly added members, at $2; the device that wrote the update (it is never
   * delivered its own messages) at $5, after it. A current member's cursor is left alone
   * (only an ack moves it); a removed member's lingering cursor restarts, so nothing sent
   * while the user was out becomes pending.
   */
  cursorsStartForMembers: `INSERT INTO cursors (device_id, chat_id, acked_seq, end_seq)
    SELECT d.id, $1, CASE WHEN d.id = $4 THEN $5::bigint ELSE $2::bigint END, NULL
    FROM devices d WHERE d.user_id = ANY($3::text[]) AND d.revoked_at IS NULL
    ON CONFLICT (device_id, chat_id) DO UPDATE SET acked_seq = excluded.acked_seq, end_seq = NULL
      WHERE cursors.end_seq IS NOT NULL`,
  /**
   * $1 chat_id[], $2 user_id[] (one distinct pair per row), $3 acked_seq, $4 creating
   * device_id[] (the chat's, per row): every active device of the members of new chats, as
   * cursorsStartForMembers does for one chat; the creating device's at least at 1 (its own
   * CREATED update)
   */
  cursorsStartForNewChats: `INSERT INTO cursors (device_id, chat_id, acked_seq, end_seq)
    SELECT d.id, v.chat_id, CASE WHEN d.id = v.creator THEN greatest($3::bigint, 1) ELSE $3::bigint END, NULL
    FROM unnest($1::text[], $2::text[], $4::text[]) AS v(chat_id, user_id, creator)
    JOIN devices d ON d.user_id = v.user_id AND d.revoked_at IS NULL
    ON CONFLICT (device_id, chat_id) DO UPDATE SET acked_seq = excluded.acked_seq, end_seq = NULL
      WHERE cursors.end_seq IS NOT NULL`,
  /** $1 chat_id, $2 end_seq, $3 user_id[] */
  cursorsEndForMembers: `UPDATE cursors SET end_seq = $2 WHERE chat_id = $1
    AND device_id IN (SELECT id FROM devices WHERE user_id = ANY($3::text[]))`,
  /** $1 device_id[] */
  cursorsDeleteDevices: 'DELETE FROM cursors WHERE device_id = ANY($1::text[])',
  /** $1 device_id */
  cursorsOf: `SELECT cu.chat_id, cu.acked_seq, cu.end_seq, c.last_seq
    FROM cursors cu ${chatRowOf('cu.chat_id', 'last_seq')} WHERE cu.device_id = $1 ORDER BY cu.chat_id COLLATE "C"`,
  /** $1 device_id[], $2 chat_id[], $3 seq[] (one per cursor): forward only; returns the moved cursors, acked seq and end */
  cursorsAdvance: `UPDATE cursors c SET acked_seq = v.seq
    FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(device_id, chat_id, seq)
    WHERE c.device_id = v.device_id AND c.chat_id = v.chat_id AND c.acked_seq < v.seq
    RETURNING c.device_id, c.chat_id, c.acked_seq, c.end_seq`,
  /** $1 device_id[], $2 chat_id[]: removed members' cursors acked through their end */
  cursorsDeleteEnded: `DELETE FROM cursors c USING unnest($1::text[], $2::text[]) AS v(device_id, chat_id)
    WHERE c.device_id = v.device_id AND c.chat_id = v.chat_id AND c.end_seq IS NOT NULL AND c.acked_seq >= c.end_seq`,

  // -- messages -------------------------------------------------------------------------------
  /** $1 chat_id, $2 seq, $3 sender_user, $4 sender_device, $5 client_id, $6 server_time, $7 body: a chat update */
  updateInsert: `INSERT INTO messages (chat_id, seq, sender_user, sender_device, client_id, server_time, kind, body)
    VALUES ($1, $2, $3, $4, $5, $6, 1, $7)`,
  /**
   * $1 chat_id[], $2 sender_user[], $3 sender_device[], $4 client_id[], $5 server_time[],
   * $6 body[]: the CREATED updates (seq 1) of new chats
   */
  updatesInsertCreated: `INSERT INTO messages (chat_id, seq, sender_user, sender_device, client_id, server_time, kind, body)
    SELECT chat_id, 1, sender_user, sender_device, client_id, server_time, 1, body
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bytea[])
      AS v(chat_id, sender_user, sender_device, client_id, server_time, body)`,
  /** See MESSAGES_INSERT; a batch's inserts before its last one (see below). */
  messagesInsert: MESSAGES_INSERT,
  /**
   * `messagesInsert` and then the chats' last seq ($16 id[], $17 last_seq[]) in one round
   * trip: the batch's last insert. Returns the inserted count (`n`).
   */
  messagesInsertAndLastSeq: `WITH inserted AS (
      ${MESSAGES_INSERT}
      RETURNING 1
    ), last_seqs AS (
      UPDATE chats c SET last_seq = v.last_seq
        FROM unnest($16::text[], $17::bigint[]) AS v(id, last_seq) WHERE c.id = v.id
    )
    SELECT count(*)::int AS n FROM inserted`,
  /** $1 chat_id[], $2 seq[], $3 device_id[], $4 body[] */
  payloadsInsert: `INSERT INTO message_payloads (chat_id, seq, device_id, body)
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[])`,
  /**
   * What a send batch reads under its chats' locks, in one round trip: $1 chat_id[], $2
   * user_id[]: the role of each (chat, user) pair that is a membership (`role` set, `a` the
   * chat, `b` the user); $3 sender_device[], $4 client_id[]: earlier results of repeated
   * sends (`role` null, `a` the device, `b` the client id, with their seq and time).
   */
  commitFacts: `SELECT m.chat_id AS a, m.user_id AS b, m.role, NULL::bigint AS seq, NULL::bigint AS server_time
    FROM members m
    JOIN unnest($1::text[], $2::text[]) AS v(chat_id, user_id) ON m.chat_id = v.chat_id AND m.user_id = v.user_id
    UNION ALL
    SELECT m.sender_device, m.client_id, NULL, m.seq, m.server_time FROM messages m
    JOIN unnest($3::text[], $4::text[]) AS v(sender_device, client_id)
      ON m.sender_device = v.sender_device AND m.client_id = v.client_id`,
  /** $1 chat_id, $2 seq: a message targeted by an edit, delete, reaction, reply or pin */
  messageTarget:
    'SELECT sender_user, server_time, kind, msg_type, deleted FROM messages WHERE chat_id = $1 AND seq = $2',
  /** $1 chat_id, $2 seq: delete for everyone */
  messageWipe: 'UPDATE messages SET body = NULL, deleted = true WHERE chat_id = $1 AND seq = $2',
  /** $1 chat_id, $2 ref_seq: edits of a deleted message lose their content too */
  editsWipe: 'UPDATE messages SET body = NULL WHERE chat_id = $1 AND msg_type = 1 AND ref_seq = $2',
  /** $1 chat_id, $2 ref_seq: per-device bodies of those edits */
  editPayloadsDelete: `DELETE FROM message_payloads WHERE chat_id = $1 AND seq IN (
    SELECT seq FROM messages WHERE chat_id = $1 AND msg_type = 1 AND ref_seq = $2)`,
  /** $1 chat_id, $2 seq[] */
  payloadsDelete: 'DELETE FROM message_payloads WHERE chat_id = $1 AND seq = ANY($2::bigint[])',
  /** $1 chat_id, $2 seq, $3 user_id: reactions of other users */
  reactionsOther: 'SELECT DISTINCT emoji FROM reactions WHERE chat_id = $1 AND seq = $2 AND user_id <> $3',
  /** $1 chat_id, $2 seq, $3 user_id, $4 emoji (one per user) */
  reactionSet: `INSERT INTO reactions (chat_id, seq, user_id, emoji) VALUES ($1, $2, $3, $4)
    ON CONFLICT (chat_id, seq, user_id) DO UPDATE SET emoji = excluded.emoji`,
  /** $1 chat_id, $2 seq, $3 user_id */
  reactionDelete: 'DELETE FROM reactions WHERE chat_id = $1 AND seq = $2 AND user_id = $3',
  /** $1 device_id, $2 chat_id, $3 after_seq, $4 up_to_seq, $5 limit: bodies resolved for the device */
  messagesRead: `SELECT m.chat_id, m.seq, m.sender_user, m.sender_device, m.client_id, m.server_time, m.kind,
      coalesce(m.body, p.body) AS body, m.msg_type, m.ref_seq, m.reaction, m.mentions, m.forward_count,
      m.deleted, m.view_once, m.expires_at, m.withheld
    FROM messages m LEFT JOIN message_payloads p
      ON m.body IS NULL AND p.chat_id = m.chat_id AND p.seq = m.seq AND p.device_id = $1
    WHERE m.chat_id = $2 AND m.seq > $3 AND m.seq <= $4 ORDER BY m.seq LIMIT $5`,
  /** $1 device_id, $2 chat_id, $3 before_seq, $4 limit: newest first, within the device user's membership */
  historyBefore: `SELECT m.chat_id, m.seq, m.sender_user, m.sender_device, m.client_id, m.server_time, m.kind,
      coalesce(m.body, p.body) AS body, m.msg_type, m.ref_seq, m.reaction, m.mentions, m.forward_count,
      m.deleted, m.view_once, m.expires_at, m.withheld
    FROM messages m LEFT JOIN message_payloads p
      ON m.body IS NULL AND p.chat_id = m.chat_id AND p.seq = m.seq AND p.device_id = $1
    WHERE m.chat_id = $2 AND m.seq < $3 AND m.seq >= (
      SELECT mb.joined_seq FROM members mb JOIN devices d ON d.user_id = mb.user_id
      WHERE d.id = $1 AND mb.chat_id = $2)
    ORDER BY m.seq DESC LIMIT $4`,
  /** $1 device_id, $2 chat_id, $3 after_seq, $4 limit: oldest first */
  historyAfter: `SELECT m.chat_id, m.seq, m.sender_user, m.sender_device, m.client_id, m.server_time, m.kind,
      coalesce(m.body, p.body) AS body, m.msg_type, m.ref_seq, m.reaction, m.mentions, m.forward_count,
      m.deleted, m.view_once, m.expires_at, m.withheld
    FROM messages m LEFT JOIN message_payloads p
      ON m.body IS NULL AND p.chat_id = m.chat_id AND p.seq = m.seq AND p.device_id = $1
    WHERE m.chat_id = $2 AND m.seq > $3 AND m.seq >= (
      SELECT mb.joined_seq FROM members mb JOIN devices d ON d.user_id = mb.user_id
      WHERE d.id = $1 AND mb.chat_id = $2)
    ORDER BY m.seq ASC LIMIT $4`,
  /**
   * $1 cutoff, $2 limit: deletes up to `limit` messages stored before the cutoff, oldest
   * first, by primary key, with their per-device bodies. Rows another transaction holds
   * are skipped (the next run takes them), so expiry never waits on, or blocks, a send.
   */
  messagesExpireOld: `WITH doomed AS (
      SELECT chat_id, seq FROM messages WHERE server_time < $1 ORDER BY server_time LIMIT $2
      FOR UPDATE SKIP LOCKED),
    gone AS (DELETE FROM messages m USING doomed d WHERE m.chat_id = d.chat_id AND m.seq = d.seq
      RETURNING m.chat_id, m.seq),
    bodies AS (DELETE FROM message_payloads p USING gone g WHERE p.chat_id = g.chat_id AND p.seq = g.seq),
    refs AS (DELETE FROM media_refs r USING gone g WHERE r.chat_id = g.chat_id AND r.seq = g.seq),
    ${MARKS_OF_GONE}
    SELECT count(*) AS n FROM gone`,
  /** $1 now, $2 limit: the same for messages whose disappearing timer ran out */
  messagesExpireTimed: `WITH doomed AS (
      SELECT chat_id, seq FROM messages WHERE expires_at > 0 AND expires_at < $1 LIMIT $2
      FOR UPDATE SKIP LOCKED),
    gone AS (DELETE FROM messages m USING doomed d WHERE m.chat_id = d.chat_id AND m.seq = d.seq
      RETURNING m.chat_id, m.seq),
    bodies AS (DELETE FROM message_payloads p USING gone g WHERE p.chat_id = g.chat_id AND p.seq = g.seq),
    refs AS (DELETE FROM media_refs r USING gone g WHERE r.chat_id = g.chat_id AND r.seq = g.seq),
    ${MARKS_OF_GONE}
    SELECT count(*) AS n FROM gone`,

  // -- pins and invites -----------------------------------------------------------------------
  /** $1 chat_id, $2 now: pins in force */
  pinsActive:
    'SELECT seq, pinned_by, expires_at FROM pins WHERE chat_id = $1 AND expires_at > $2 ORDER BY seq',
  /** $1 chat_id, $2 seq, $3 pinned_by, $4 expires_at */
  pinSet: `INSERT INTO pins (chat_id, seq, pinned_by, expires_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (chat_id, seq) DO UPDATE SET pinned_by = excluded.pinned_by, expires_at = excluded.expires_at`,
  /** $1 chat_id, $2 seq */
  pinDelete: 'DELETE FROM pins WHERE chat_id = $1 AND seq = $2',
  /** $1 chat_id, $2 code, $3 created_by, $4 created_at: replaces the chat's code */
  inviteSet: `INSERT INTO invites (chat_id, code, created_by, created_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (chat_id) DO UPDATE SET code = excluded.code, created_by = excluded.created_by,
      created_at = excluded.created_at`,
  /** $1 chat_id */
  inviteDelete: 'DELETE FROM invites WHERE chat_id = $1',
  /** $1 code */
  inviteFind: 'SELECT chat_id FROM invites WHERE code = $1',

  // -- read positions and receipts ------------------------------------------------------------
  /**
   * $1 chat_id[], $2 user_id[]: those members' positions with their chats' last seq, the
   * member rows locked in (chat, user) order until commit
   */
  receiptPositions: `SELECT m.chat_id, m.user_id, m.delivered_seq, m.read_seq, c.last_seq
    FROM members m
    JOIN unnest($1::text[], $2::text[]) AS v(chat_id, user_id) ON m.chat_id = v.chat_id AND m.user_id = v.user_id
    ${chatRowOf('m.chat_id', 'last_seq')}
    ORDER BY m.chat_id, m.user_id FOR UPDATE OF m`,
  /**
   * Members' positions moved, in one round trip (their rows locked by `receiptPositions`),
   * one array entry a member: $1 chat_id[], $2 user_id[], $3 delivered_seq[], $4 read_seq[],
   * $5 / $6 whether a delivered / read mark is recorded (through $3 / $4), $7 the seq each
   * moved range starts after, $8 each member's delivered seq before the move; $9 at, $10
   * whether view-once messages from others that a move delivers (after $8, through $3)
   * lose their payloads. Stamps the senders of payload messages in each range (their
   * `sent_receipt_at`) and returns them with the member whose move covered them. The
   * movers' positions and the senders' stamps are one update, so a row that is both is
   * written once.
   */
  receiptMoves: `WITH v AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::boolean[], $6::boolean[],
        $7::bigint[], $8::bigint[])
        AS v(chat_id, user_id, delivered_seq, read_seq, mark_delivered, mark_read, range_after, was_delivered)
    ), senders AS (
      SELECT DISTINCT v.chat_id, v.user_id, x.sender_user FROM v
        CROSS JOIN LATERAL (SELECT sender_user FROM messages
          WHERE chat_id = v.chat_id AND seq > v.range_after AND seq <= v.delivered_seq AND kind = 0 OFFSET 0) x
    ), stamps AS (
      SELECT DISTINCT chat_id, sender_user AS user_id FROM senders WHERE sender_user <> user_id
    ), targets AS (
      SELECT coalesce(v.chat_id, s.chat_id) AS chat_id, coalesce(v.user_id, s.user_id) AS user_id,
        v.delivered_seq, v.read_seq, s.user_id IS NOT NULL AS stamp
      FROM v FULL JOIN stamps s ON s.chat_id = v.chat_id AND s.user_id = v.user_id
    ), pos AS (
      UPDATE members m SET
        delivered_seq = coalesce(t.delivered_seq, m.delivered_seq),
        read_seq = coalesce(t.read_seq, m.read_seq),
        receipt_at = CASE WHEN t.delivered_seq IS NULL THEN m.receipt_at ELSE $9 END,
        sent_receipt_at = CASE WHEN t.stamp THEN greatest(m.sent_receipt_at, $9) ELSE m.sent_receipt_at END
      FROM targets t
      WHERE m.chat_id = t.chat_id AND m.user_id = t.user_id
        AND (t.delivered_seq IS NOT NULL OR m.sent_receipt_at < $9)
    ), marks AS (
      INSERT INTO receipt_marks (chat_id, user_id, kind, through_seq, at)
        SELECT chat_id, user_id, 1, delivered_seq, $9 FROM v WHERE mark_delivered
        UNION ALL SELECT chat_id, user_id, 2, read_seq, $9 FROM v WHERE mark_read
        ON CONFLICT DO NOTHING
    ), opened AS (
      UPDATE messages x SET body = NULL FROM v
        WHERE $10::boolean AND x.chat_id = v.chat_id AND x.seq > v.was_delivered AND x.seq <= v.delivered_seq
          AND x.view_once AND x.sender_user <> v.user_id
          AND (x.body IS NOT NULL OR EXISTS (
            SELECT 1 FROM message_payloads p WHERE p.chat_id = x.chat_id AND p.seq = x.seq))
        RETURNING x.chat_id, x.seq
    ), dropped AS (
      DELETE FROM message_payloads p USING opened o WHERE p.chat_id = o.chat_id AND p.seq = o.seq
    )
    SELECT chat_id, user_id, sender_user FROM senders`,
  /** $1 chat_id, $2 user_id */
  memberPosition: 'SELECT read_seq, joined_seq FROM members WHERE chat_id = $1 AND user_id = $2',
  /** $1 chat_id, $2 after_seq, $3 user_id: payload messages from others after the read position */
  unreadCount: `SELECT count(*) AS n FROM messages
    WHERE chat_id = $1 AND seq > $2 AND sender_user <> $3 AND kind = 0 AND NOT withheld`,
  /** $1 chat_id, $2 after_seq, $3 up_to_seq: who sent payload messages in the range */
  sendersInRange: `SELECT DISTINCT sender_user FROM messages
    WHERE chat_id = $1 AND seq > $2 AND seq <= $3 AND kind = 0`,
  /** $1 chat_id, $2 seq */
  messageSender: 'SELECT sender_user, kind FROM messages WHERE chat_id = $1 AND seq = $2',
  /** $1 chat_id, $2 seq: each member's first delivered / read mark covering the message */
  receiptDetails: `SELECT m.user_id,
      (SELECT min(at) FROM receipt_marks r WHERE r.chat_id = m.chat_id AND r.user_id = m.user_id
        AND r.kind = 1 AND r.through_seq >= $2) AS delivered_at,
      (SELECT min(at) FROM receipt_marks r WHERE r.chat_id = m.chat_id AND r.user_id = m.user_id
        AND r.kind = 2 AND r.through_seq >= $2) AS read_at
    FROM members m WHERE m.chat_id = $1`,
  /**
   * $1 user_id, $2 since: other members' positions that moved after `since`, in the user's
   * chats where one moved over the user's messages after `since`. The other members of each
   * chat are looked up by key (`OFFSET 0`, as in `chatRowOf`): planned as a join, the
   * generic plan scanned every member row of the server (610 ms a connect with 499,500 chats).
   */
  receiptsSince: `SELECT m.chat_id, m.user_id, m.delivered_seq, m.read_seq, m.receipt_at AS at
    FROM members me
    CROSS JOIN LATERAL (SELECT chat_id, user_id, delivered_seq, read_seq, receipt_at FROM members
      WHERE chat_id = me.chat_id AND user_id <> me.user_id AND receipt_at > $2 OFFSET 0) m
    WHERE me.user_id = $1 AND me.sent_receipt_at > $2`,
  /**
   * $1 user_id, $2 chat_id[] (NULL: all the user's chats): each chat with the member's
   * read position, unread and unread-mention counts and newest message, in one snapshot.
   */
  chatSummaries: `SELECT c.id, c.kind, c.name, c.description, c.created_at, c.last_seq, c.only_admins_send,
      c.only_admins_edit_info, c.disappearing_seconds, c.icon_media_id,
      (SELECT coalesce(json_agg(json_build_object('u', m.user_id, 'r', m.role, 'j', m.joined_at)
         ORDER BY m.joined_seq, m.joined_at, m.user_id COLLATE "C"), '[]') FROM members m WHERE m.chat_id = c.id) AS members,
      me.read_seq, me.muted_until,
      (SELECT count(*) FROM messages x WHERE x.chat_id = c.id AND x.seq > greatest(me.read_seq, me.muted_until, me.joined_seq - 1)
         AND x.sender_user <> $1 AND x.kind = 0 AND NOT x.withheld) AS unread,
      (SELECT count(*) FROM messages x WHERE x.chat_id = c.id AND x.seq > greatest(me.read_seq, me.joined_seq - 1)
         AND x.kind = 0 AND NOT x.withheld AND $1 = ANY(x.mentions)) AS unread_mentions,
      lm.seq AS lm_seq, lm.sender_user AS lm_sender, lm.server_time AS lm_time, lm.kind AS lm_kind
    FROM members me ${chatRowOf('me.chat_id')}
    LEFT JOIN LATERAL (SELECT seq, sender_user, server_time, kind FROM messages
      WHERE chat_id = c.id AND (NOT withheld OR sender_user = $1) ORDER BY seq DESC LIMIT 1) lm ON true
    WHERE me.user_id = $1 AND ($2::text[] IS NULL OR me.chat_id = ANY($2::text[]))
    ORDER BY c.id COLLATE "C"`,

  // -- key directory --------------------------------------------------------------------------
  /** $1 device_id: locks the device, so uploads for one device apply one after another */
  deviceLock: 'SELECT id FROM devices WHERE id = $1 FOR UPDATE',
  /** $1 device_id */
  keysGet: 'SELECT identity_key, registration_id FROM device_keys WHERE device_id = $1',
  /**
   * $1 device_id, $2 identity_key, $3 registration_id, $4 signed_id, $5 signed_key,
   * $6 signed_sig, $7 last_resort_id, $8 last_resort_key, $9 last_resort_sig, $10 updated_at
   */
  keysInsert: `INSERT INTO device_keys (device_id, identity_key, registration_id, signed_id, signed_key, signed_sig,
      last_resort_id, last_resort_key, last_resort_sig, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
  /** $1 device_id, $2 signed_id, $3 signed_key, $4 signed_sig, $5 updated_at */
  keysSetSigned: `UPDATE device_keys SET signed_id = $2, signed_key = $3, signed_sig = $4, updated_at = $5
    WHERE device_id = $1`,
  /** $1 device_id, $2 last_resort_id, $3 last_resort_key, $4 last_resort_sig, $5 updated_at */
  keysSetLastResort: `UPDATE device_keys SET last_resort_id = $2, last_resort_key = $3, last_resort_sig = $4,
      updated_at = $5 WHERE device_id = $1`,
  /** $1 device_id, $2 key_id[], $3 public_key[]: returns the ids stored (a repeated id is skipped) */
  oneTimeInsert: `INSERT INTO one_time_keys (device_id, key_id, public_key)
    SELECT $1, * FROM unnest($2::integer[], $3::bytea[])
    ON CONFLICT (device_id, key_id) DO NOTHING RETURNING key_id`,
  /** $1 device_id */
  oneTimeDeleteAll: 'DELETE FROM one_time_keys WHERE device_id = $1',
  /** $1 device_id */
  oneTimeCount: 'SELECT count(*) AS n FROM one_time_keys WHERE device_id = $1',
  /** $1 device ids: a row for each that is active and has uploaded its keys */
  oneTimeCounts: `SELECT k.device_id, (SELECT count(*) FROM one_time_keys o WHERE o.device_id = k.device_id)::int AS n
    FROM device_keys k JOIN devices d ON d.id = k.device_id
    WHERE k.device_id = ANY($1::text[]) AND d.revoked_at IS NULL`,
  /** $1 device_id: serializes bundle takes of one device, so its grants are counted exactly */
  keysLock: 'SELECT 1 FROM device_keys WHERE device_id = $1 FOR UPDATE',
  /** $1 device_id, $2 cutoff: forgets grants at or before the cutoff */
  grantsPrune: 'DELETE FROM one_time_grants WHERE device_id = $1 AND granted_at <= $2',
  /** $1 device_id, $2 requester_user, $3 an hour ago: whether the requester holds a grant; grants since */
  grantsSeen: `SELECT
      EXISTS (SELECT 1 FROM one_time_grants WHERE device_id = $1 AND requester_user = $2) AS mine,
      (SELECT count(*) FROM one_time_grants WHERE device_id = $1 AND granted_at > $3)::int AS "lastHour"`,
  /** $1 device_id, $2 requester_user, $3 granted_at */
  grantRecord: `INSERT INTO one_time_grants (device_id, requester_user, granted_at) VALUES ($1, $2, $3)
    ON CONFLICT (device_id, requester_user) DO UPDATE SET granted_at = excluded.granted_at`,
  /**
   * $1 device_id: removes and returns the device's lowest one-time prekey. A key another
   * transaction is taking is skipped, not waited for, so concurrent takers on any node get
   * different keys (or none), never the same one.
   */
  oneTimeTake: `DELETE FROM one_time_keys WHERE (device_id, key_id) = (
      SELECT device_id, key_id FROM one_time_keys WHERE device_id = $1
      ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING key_id, public_key`,
  /** $1 user_id[]: keys of the users' active devices, in device order */
  keysOfUsers: `SELECT d.user_id, k.device_id, k.identity_key, k.registration_id, k.signed_id, k.signed_key,
      k.signed_sig, k.last_resort_id, k.last_resort_key, k.last_resort_sig
    FROM device_keys k JOIN devices d ON d.id = k.device_id
    WHERE d.user_id = ANY($1::text[]) AND d.revoked_at IS NULL ORDER BY d.created_at, d.id COLLATE "C"`,

  // -- profiles ---------------------------------------------------------------------------
  /** $1 user_id, $2 version, $3 ciphertext, $4 updated_at: no row when the stored version is not lower */
  profilePut: `INSERT INTO profiles (user_id, version, ciphertext, updated_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, ciphertext = excluded.ciphertext,
      updated_at = excluded.updated_at
    WHERE excluded.version > profiles.version
    RETURNING user_id, version, ciphertext, updated_at`,
  /** $1 viewer, $2 user_id[]: the viewer's own profile and those of users sharing a chat */
  profilesVisible: `SELECT p.user_id, p.version, p.ciphertext, p.updated_at FROM profiles p
    WHERE p.user_id = ANY($2::text[])
      AND (p.user_id = $1 OR EXISTS (SELECT 1 FROM members a JOIN members b ON b.chat_id = a.chat_id
        WHERE a.user_id = $1 AND b.user_id = p.user_id))`,
  /** $1 viewer, $2 since, $3 after user_id, $4 limit: versions after (since, after) of the viewer and co-members */
  profileChanges: `SELECT p.user_id, p.version, p.updated_at FROM profiles p
    WHERE (p.updated_at > $2 OR (p.updated_at = $2 AND p.user_id COLLATE "C" > $3))
      AND (p.user_id = $1 OR p.user_id IN (SELECT b.user_id FROM members a
        JOIN members b ON b.chat_id = a.chat_id WHERE a.user_id = $1))
    ORDER BY p.updated_at, p.user_id COLLATE "C" LIMIT $4`,
  /** $1 user_id: everyone sharing a chat with the user */
  profileAudience: `SELECT DISTINCT b.user_id FROM members a JOIN members b ON b.chat_id = a.chat_id
    WHERE a.user_id = $1 AND b.user_id <> a.user_id`,
} as const;

export type StatementName = keyof typeof sql;
