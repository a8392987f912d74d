/**
 * Every SQL statement of the SQLite store, prepared once. Parameters are positional and
 * named in the comment above each statement.
 */
import type Database from 'better-sqlite3';

/**
 * A chat's last seq, for a chats row `c`: its newest message row's seq, or `chats.last_seq`
 * where that is higher (a floor that migration 023's trigger raises before a message row is
 * deleted). Messages do not write the chat's row.
 */
const lastSeqOf = (c: string) =>
  `max(${c}.last_seq, coalesce((SELECT seq FROM messages WHERE chat_id = ${c}.id ORDER BY seq DESC LIMIT 1), 0))`;

const sql = {
  /** phone */
  userByPhone: 'SELECT id, phone, created_at FROM users WHERE phone = ?',
  /** phone_hash */
  userByPhoneHash: 'SELECT id FROM users WHERE phone_hash = ?',
  /** id */
  userGet: 'SELECT id, phone, created_at FROM users WHERE id = ?',
  /** media_id, user_id, uploaded_at, avatar (0 or 1; a repeat never unmarks an avatar) */
  mediaUploadRecord: `INSERT INTO media_uploads (media_id, user_id, uploaded_at, avatar) VALUES (?, ?, ?, ?)
    ON CONFLICT (user_id, media_id) DO UPDATE SET uploaded_at = excluded.uploaded_at,
      avatar = max(avatar, excluded.avatar)`,
  /** cutoff, limit: avatar uploads stay while their bodies do */
  mediaUploadsExpire: `DELETE FROM media_uploads WHERE (user_id, media_id) IN (
    SELECT user_id, media_id FROM media_uploads WHERE uploaded_at < ? AND avatar = 0 LIMIT ?)`,
  /** user_id, cutoff: forgets the user's lookups made at or before cutoff */
  discoveryForget: 'DELETE FROM discovery_lookups WHERE user_id = ? AND looked_up_at <= ?',
  /** user_id */
  discoveryOfUser: 'SELECT digest, looked_up_at FROM discovery_lookups WHERE user_id = ?',
  /** user_id, digest, looked_up_at */
  discoveryInsert: 'INSERT INTO discovery_lookups (user_id, digest, looked_up_at) VALUES (?, ?, ?)',
  /** cutoff, limit */
  discoveryExpire: `DELETE FROM discovery_lookups WHERE (user_id, digest) IN (
    SELECT user_id, digest FROM discovery_lookups WHERE looked_up_at < ? LIMIT ?)`,
  /** id */
  userExists: 'SELECT 1 FROM users WHERE id = ?',
  /** id, phone, phone_hash, created_at */
  userInsert: 'INSERT INTO users (id, phone, phone_hash, created_at) VALUES (?, ?, ?, ?)',
  /** user_id */
  primaryOf: 'SELECT id FROM devices WHERE user_id = ? AND is_primary = 1 AND revoked_at IS NULL',
  /** id, user_id, is_primary, name, token_hash, created_at, last_seen_at */
  deviceInsert:
    'INSERT INTO devices (id, user_id, is_primary, name, token_hash, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  /** user_id */
  deviceCount: 'SELECT count(*) AS n FROM devices WHERE user_id = ? AND revoked_at IS NULL',
  /** token_hash */
  deviceByToken: `SELECT d.id, d.user_id, d.is_primary, d.name, d.created_at, d.last_seen_at, u.suspended_at
      FROM devices d JOIN users u ON u.id = d.user_id WHERE d.token_hash = ? AND d.revoked_at IS NULL`,
  /** user_id */
  devicesOfUser: 'SELECT id FROM devices WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at, id',
  /** user_id */
  deviceListOfUser:
    'SELECT id, user_id, is_primary, name, created_at, last_seen_at FROM devices WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at, id',
  /** revoked_at, id */
  deviceRevoke: 'UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
  /** last_seen_at, id */
  deviceTouch: 'UPDATE devices SET last_seen_at = max(last_seen_at, ?) WHERE id = ?',
  /** cutoff: linked devices whose user has no active primary seen at or after it */
  orphanLinked: `SELECT d.id FROM devices d
    WHERE d.revoked_at IS NULL AND d.is_primary = 0 AND NOT EXISTS (
      SELECT 1 FROM devices p WHERE p.user_id = d.user_id AND p.is_primary = 1
        AND p.revoked_at IS NULL AND p.last_seen_at >= ?)`,

  /** phone */
  codeGet: 'SELECT phone, code_hash, expires_at, attempts, sent_at FROM codes WHERE phone = ?',
  /** phone, code_hash, expires_at, attempts, sent_at */
  codePut:
    'INSERT OR REPLACE INTO codes (phone, code_hash, expires_at, attempts, sent_at) VALUES (?, ?, ?, ?, ?)',
  /** phone, max attempts, now: one attempt, only on a live code with attempts to spare */
  codeAttemptTake: `UPDATE codes SET attempts = attempts + 1 WHERE phone = ? AND attempts < ? AND expires_at > ?
    RETURNING phone, code_hash, expires_at, attempts, sent_at`,
  /** phone, code_hash: only the code that was checked, not a newer one */
  codeConsume: 'DELETE FROM codes WHERE phone = ? AND code_hash = ?',
  /** phone, code_hash: gives back an attempt, only on the code that was checked */
  codeAttemptReturn:
    'UPDATE codes SET attempts = attempts - 1 WHERE phone = ? AND code_hash = ? AND attempts > 0',
  /** user_id: the lock, with the latest last_seen_at of the user's devices (revoked ones too) */
  registrationLockGet: `SELECT l.user_id, l.pin_hash, l.set_at, l.failed_attempts, l.locked_until,
      coalesce((SELECT max(d.last_seen_at) FROM devices d WHERE d.user_id = l.user_id), 0) AS last_seen_at
    FROM registration_locks l WHERE l.user_id = ?`,
  /** user_id, pin_hash, set_at: a new PIN starts with no wrong tries and no lockout */
  registrationLockSet: `INSERT OR REPLACE INTO registration_locks (user_id, pin_hash, set_at, failed_attempts, locked_until)
    VALUES (?, ?, ?, 0, 0)`,
  /** user_id */
  registrationLockDelete: 'DELETE FROM registration_locks WHERE user_id = ?',
  /**
   * :user, :now, :max, :lockout: one try, only while not locked out; a lockout that ended
   * (locked_until > 0) restarts the count at this try; reaching :max starts a lockout
   */
  registrationLockAttemptTake: `UPDATE registration_locks SET
      failed_attempts = CASE WHEN locked_until > 0 THEN 1 ELSE failed_attempts + 1 END,
      locked_until = CASE WHEN (CASE WHEN locked_until > 0 THEN 1 ELSE failed_attempts + 1 END) >= :max
        THEN :now + :lockout ELSE 0 END
    WHERE user_id = :user AND locked_until <= :now
    RETURNING user_id, pin_hash, set_at, failed_attempts, locked_until`,
  /** user_id, pin_hash: only the PIN that was checked */
  registrationLockAttemptsReset:
    'UPDATE registration_locks SET failed_attempts = 0, locked_until = 0 WHERE user_id = ? AND pin_hash = ?',
  /** code_hash, user_id, expires_at */
  linkCodePut: 'INSERT OR REPLACE INTO link_codes (code_hash, user_id, expires_at) VALUES (?, ?, ?)',
  /** code_hash */
  linkCodeTake: 'DELETE FROM link_codes WHERE code_hash = ? RETURNING user_id, expires_at',

  /**
   * id, kind, name, description, created_at, direct_key (last_seq starts at 1: the CREATED
   * update); inserts nothing when the pair already has a direct chat
   */
  chatInsert:
    'INSERT INTO chats (id, kind, name, description, created_at, last_seq, direct_key) VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT (direct_key) DO NOTHING',
  /** id */
  chatGet: `SELECT id, kind, name, description, created_at, ${lastSeqOf('c')} AS last_seq, only_admins_send, only_admins_edit_info, disappearing_seconds, icon_media_id FROM chats c WHERE id = ?`,
  /** after_id, limit: a page of chats by id with their members (a chat without members has one row, user_id NULL) */
  chatMembersPage: `SELECT c.id, c.kind, c.only_admins_send, m.user_id, m.role
    FROM (SELECT id, kind, only_admins_send FROM chats WHERE id > ? ORDER BY id LIMIT ?) c
    LEFT JOIN members m ON m.chat_id = c.id
    ORDER BY c.id, m.joined_seq, m.joined_at, m.user_id`,
  /** id */
  chatExists: 'SELECT 1 FROM chats WHERE id = ?',
  /** direct_key */
  chatByDirectKey: 'SELECT id FROM chats WHERE direct_key = ?',
  /** user_id */
  chatIdsOfUser: 'SELECT chat_id FROM members WHERE user_id = ?',
  /** id: takes the chat's next seq (and writes it to the row, as a chat update is rare) */
  chatNextSeq: `UPDATE chats SET last_seq = ${lastSeqOf('chats')} + 1 WHERE id = ? RETURNING last_seq`,
  /** name, id */
  chatSetName: 'UPDATE chats SET name = ? WHERE id = ?',
  /** description, id */
  chatSetDescription: 'UPDATE chats SET description = ? WHERE id = ?',
  /** icon_media_id, id */
  chatSetIcon: 'UPDATE chats SET icon_media_id = ? WHERE id = ?',
  /** chat_id */
  membersOf:
    'SELECT user_id, role, joined_at FROM members WHERE chat_id = ? ORDER BY joined_seq, joined_at, user_id',
  /** chat_id, user_id */
  isMember: 'SELECT 1 FROM members WHERE chat_id = ? AND user_id = ?',
  /** chat_id, user_id, role, joined_at, joined_seq */
  memberUpsert: `INSERT INTO members (chat_id, user_id, role, joined_at, joined_seq) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (chat_id, user_id) DO NOTHING`,
  /** chat_id */
  memberCount: 'SELECT count(*) AS n FROM members WHERE chat_id = ?',
  /** chat_id, user_id */
  memberDelete: 'DELETE FROM members WHERE chat_id = ? AND user_id = ?',
  /** role, chat_id, user_id */
  memberSetRole: 'UPDATE members SET role = ? WHERE chat_id = ? AND user_id = ?',

  /** device_id, user_id: a new device starts at each chat's current last seq */
  cursorsStartForDevice: `INSERT OR REPLACE INTO cursors (device_id, chat_id, acked_seq, end_seq)
    SELECT @device, m.chat_id, ${lastSeqOf('c')}, NULL FROM members m JOIN chats c ON c.id = m.chat_id WHERE m.user_id = @user`,
  /**
   * chat_id, acked_seq, user_id, actor (a device id), actor_acked: every device of a newly
   * added member, at acked_seq; the device that wrote the update (it is never delivered its
   * own messages) at actor_acked, after it. A current member's cursor is left alone (only an
   * ack moves it); a removed member's lingering cursor restarts, so nothing sent while the
   * user was out becomes pending.
   */
  cursorsStartForMember: `INSERT INTO cursors (device_id, chat_id, acked_seq, end_seq)
    SELECT d.id, @chat, CASE WHEN d.id = @actor THEN @actorAcked ELSE @acked END, NULL
    FROM devices d WHERE d.user_id = @user AND d.revoked_at IS NULL
    ON CONFLICT (device_id, chat_id) DO UPDATE SET acked_seq = excluded.acked_seq, end_seq = NULL
      WHERE cursors.end_seq IS NOT NULL`,
  /** end_seq, chat_id, user_id */
  cursorsEndForMember: `UPDATE cursors SET end_seq = @end WHERE chat_id = @chat
    AND device_id IN (SELECT id FROM devices WHERE user_id = @user)`,
  /** device_id */
  cursorsDeleteDevice: 'DELETE FROM cursors WHERE device_id = ?',
  /** device_id */
  /**
   * device_id: the device's cursors in one pass, as two strings: the caught-up ones
   * ("\n<chat>\t<acked>" each, by chat id as the key scan yields them; an ORDER BY would
   * add a sort to every connect) and the rest ("\n<chat>\t<acked>\t<end or 0>\t<last>" each).
   * A chat is caught up when it has no message row past the cursor: one descent of the
   * messages B-tree a chat, and the chat's row is read only for the rest (its last seq may
   * be above its newest row's). A chat whose messages past the cursor all expired reads as
   * caught up at the cursor; its next message then finds the session behind, which reads
   * again. The inner LIMIT keeps the subquery a co-routine: flattened, each chat's newest
   * seq would be looked up once per use.
   */
  cursorsOf: `SELECT
      group_concat(char(10) || chat_id || char(9) || acked_seq, '')
        FILTER (WHERE end_seq IS NULL AND newest <= acked_seq) AS caught_up,
      group_concat(char(10) || chat_id || char(9) || acked_seq || char(9) || coalesce(end_seq, 0) || char(9)
          || max(newest, coalesce((SELECT last_seq FROM chats WHERE id = chat_id), 0)), '')
        FILTER (WHERE end_seq IS NOT NULL OR newest > acked_seq) AS pending
    FROM (SELECT cu.chat_id, cu.acked_seq, cu.end_seq,
        coalesce((SELECT seq FROM messages WHERE chat_id = cu.chat_id ORDER BY seq DESC LIMIT 1), 0) AS newest
      FROM cursors cu WHERE cu.device_id = ? LIMIT -1)`,
  /** acked_seq, device_id, chat_id, acked_seq (only forward); returns end_seq of a moved cursor */
  cursorAdvance:
    'UPDATE cursors SET acked_seq = ? WHERE device_id = ? AND chat_id = ? AND acked_seq < ? RETURNING end_seq',
  /** device_id, chat_id */
  cursorDeleteEnded:
    'DELETE FROM cursors WHERE device_id = ? AND chat_id = ? AND end_seq IS NOT NULL AND acked_seq >= end_seq',

  /** id */
  chatLastSeq: `SELECT ${lastSeqOf('c')} AS last_seq FROM chats c WHERE id = ?`,
  /** id: what a send checks of its chat (timer, member ids joined by tabs) and its last seq, in one read */
  chatFactsOf: `SELECT c.disappearing_seconds, ${lastSeqOf('c')} AS last_seq,
      (SELECT group_concat(user_id, char(9)) FROM members WHERE chat_id = c.id) AS members
    FROM chats c WHERE c.id = ?`,
  /** chat_id, now: pins in force */
  pinsActive: 'SELECT seq, pinned_by, expires_at FROM pins WHERE chat_id = ? AND expires_at > ? ORDER BY seq',
  /** chat_id, seq, pinned_by, expires_at */
  pinSet: 'INSERT OR REPLACE INTO pins (chat_id, seq, pinned_by, expires_at) VALUES (?, ?, ?, ?)',
  /** chat_id, seq */
  pinDelete: 'DELETE FROM pins WHERE chat_id = ? AND seq = ?',
  /** disappearing_seconds, id */
  chatTimerSet: 'UPDATE chats SET disappearing_seconds = ? WHERE id = ?',
  /** view_once, expires_at, chat_id, seq */
  messageExtrasSet: 'UPDATE messages SET view_once = ?, expires_at = ? WHERE chat_id = ? AND seq = ?',
  /** now, limit: messages whose disappearing timer ran out */
  timerExpiredKeys: 'SELECT chat_id, seq FROM messages WHERE expires_at > 0 AND expires_at < ? LIMIT ?',
  /** chat_id, seq: a message targeted by an edit, delete, reaction or reply */
  messageTarget:
    'SELECT sender_user, server_time, kind, msg_type, deleted FROM messages WHERE chat_id = ? AND seq = ?',
  /** msg_type, ref_seq, reaction, mentions, forward_count, chat_id, seq */
  messageMetaSet:
    'UPDATE messages SET msg_type = ?, ref_seq = ?, reaction = ?, mentions = ?, forward_count = ? WHERE chat_id = ? AND seq = ?',
  /** chat_id, seq: delete for everyone */
  messageWipe: 'UPDATE messages SET body = NULL, deleted = 1 WHERE chat_id = ? AND seq = ?',
  /** chat_id, ref_seq: edits of a deleted message lose their content too */
  editsWipe: 'UPDATE messages SET body = NULL WHERE chat_id = ? AND msg_type = 1 AND ref_seq = ?',
  /** @chat, @ref */
  editPayloadsDelete:
    'DELETE FROM message_payloads WHERE chat_id = @chat AND seq IN (SELECT seq FROM messages WHERE chat_id = @chat AND msg_type = 1 AND ref_seq = @ref)',
  /** chat_id, user_id: the member's role and the chat's kind */
  memberRole:
    'SELECT m.role, c.kind FROM members m JOIN chats c ON c.id = m.chat_id WHERE m.chat_id = ? AND m.user_id = ?',
  /** chat_id, seq, user_id */
  reactionsOther: 'SELECT DISTINCT emoji FROM reactions WHERE chat_id = ? AND seq = ? AND user_id != ?',
  /** chat_id, seq, user_id, emoji */
  reactionSet: 'INSERT OR REPLACE INTO reactions (chat_id, seq, user_id, emoji) VALUES (?, ?, ?, ?)',
  /** chat_id, seq, user_id */
  reactionDelete: 'DELETE FROM reactions WHERE chat_id = ? AND seq = ? AND user_id = ?',
  /** chat_id, seq, sender_user, sender_device, client_id, server_time, kind, body; ignored on a repeated client id */
  messageInsertOrIgnore:
    'INSERT OR IGNORE INTO messages (chat_id, seq, sender_user, sender_device, client_id, server_time, kind, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  /** @seq, @chat, @user: forward only, never past the chat's last seq */
  readMark: `UPDATE members SET read_seq = max(read_seq, min(@seq, (SELECT ${lastSeqOf('c')} FROM chats c WHERE id = @chat)))
    WHERE chat_id = @chat AND user_id = @user RETURNING read_seq, joined_seq`,
  /** delivered_seq, read_seq, receipt_at, chat_id, user_id */
  receiptPositionSet:
    'UPDATE members SET delivered_seq = ?, read_seq = ?, receipt_at = ? WHERE chat_id = ? AND user_id = ?',
  /** chat_id, user_id, kind (1 delivered, 2 read), through_seq, at */
  receiptMark:
    'INSERT OR IGNORE INTO receipt_marks (chat_id, user_id, kind, through_seq, at) VALUES (?, ?, ?, ?, ?)',
  /** chat_id, after_seq, up_to_seq: who sent payload messages in the range */
  sendersInRange:
    'SELECT DISTINCT sender_user FROM messages WHERE chat_id = ? AND seq > ? AND seq <= ? AND kind = 0',
  /** chat_id, seq */
  messageSender: 'SELECT sender_user, kind FROM messages WHERE chat_id = ? AND seq = ?',
  /** @chat, @seq: each member's first delivered / read mark covering the message */
  receiptDetails: `SELECT m.user_id,
      (SELECT min(at) FROM receipt_marks r WHERE r.chat_id = m.chat_id AND r.user_id = m.user_id AND r.kind = 1 AND r.through_seq >= @seq) AS delivered_at,
      (SELECT min(at) FROM receipt_marks r WHERE r.chat_id = m.chat_id AND r.user_id = m.user_id AND r.kind = 2 AND r.through_seq >= @seq) AS read_at
    FROM members m WHERE m.chat_id = @chat`,
  /**
   * @user, @since: other members' positions that changed after `since`, in the user's chats
   * where one moved over the user's messages after `since`
   */
  receiptsSince: `SELECT m.chat_id, m.user_id, m.delivered_seq, m.read_seq, m.receipt_at AS at
    FROM members me
    JOIN members m ON m.chat_id = me.chat_id AND m.user_id != me.user_id AND m.receipt_at > @since
    WHERE me.user_id = @user AND me.sent_receipt_at > @since`,
  /** @at, @chat, @user: another member's position moved over this member's messages */
  sentReceiptMoved:
    'UPDATE members SET sent_receipt_at = @at WHERE chat_id = @chat AND user_id = @user AND sent_receipt_at < @at',
  /** @at, @user: the newest of the user's member rows' sent_receipt_at, moved with them */
  userSentReceiptMoved: 'UPDATE users SET sent_receipt_at = @at WHERE id = @user AND sent_receipt_at < @at',
  /** id */
  userSentReceiptAt: 'SELECT sent_receipt_at FROM users WHERE id = ?',
  /** chat_id, user_id */
  memberPosition: 'SELECT read_seq, joined_seq, muted_until FROM members WHERE chat_id = ? AND user_id = ?',
  /** chat_id, user_id: a member's receipt positions (the chat's last seq comes from the cache) */
  memberReceipts: 'SELECT delivered_seq, read_seq FROM members WHERE chat_id = ? AND user_id = ?',
  /**
   * chat_id, after_seq, up_to_seq: what a moved receipt position needs of the messages it
   * covers (their senders, and view-once messages that lose their payload), in one read
   */
  receiptRange: `SELECT seq, sender_user, kind, view_once, body IS NULL AS no_body FROM messages
    WHERE chat_id = ? AND seq > ? AND seq <= ?`,
  /** chat_id, seq: a view-once message's shared payload goes once it was delivered */
  messageBodyClear: 'UPDATE messages SET body = NULL WHERE chat_id = ? AND seq = ?',
  /** chat_id, after_seq, user_id: payload messages from others after the read position */
  unreadCount:
    'SELECT count(*) AS n FROM messages WHERE chat_id = ? AND seq > ? AND sender_user != ? AND kind = 0 AND withheld = 0',
  /** chat_id, after_seq, user_id: unread messages mentioning the user (mentions are comma-joined ids) */
  unreadMentions: `SELECT count(*) AS n FROM messages WHERE chat_id = @chat AND seq > @after AND kind = 0 AND withheld = 0 AND mentions != ''
    AND (',' || mentions || ',') LIKE ('%,' || @user || ',%')`,
  /** chat_id, user_id: the newest message the user may see (withheld ones only by their sender) */
  lastMessage:
    'SELECT seq, sender_user, server_time, kind FROM messages WHERE chat_id = ? AND (withheld = 0 OR sender_user = ?) ORDER BY seq DESC LIMIT 1',
  /** chat_id, seq */
  messageWithhold: 'UPDATE messages SET withheld = 1 WHERE chat_id = ? AND seq = ?',
  /** only_admins_send, only_admins_edit_info, id (NULL keeps a setting) */
  chatSetSettings:
    'UPDATE chats SET only_admins_send = coalesce(?, only_admins_send), only_admins_edit_info = coalesce(?, only_admins_edit_info) WHERE id = ?',
  /** chat_id, code, created_by, created_at */
  inviteSet: 'INSERT OR REPLACE INTO invites (chat_id, code, created_by, created_at) VALUES (?, ?, ?, ?)',
  /** chat_id */
  inviteDelete: 'DELETE FROM invites WHERE chat_id = ?',
  /** code */
  inviteFind: 'SELECT chat_id FROM invites WHERE code = ?',
  /** id */
  userPresence: 'SELECT last_seen_at, last_seen_visibility, read_receipts FROM users WHERE id = ?',
  /** read_receipts, id */
  userReadReceiptsSet: 'UPDATE users SET read_receipts = ? WHERE id = ?',
  /** last_seen_at, id */
  userLastSeenSet: 'UPDATE users SET last_seen_at = max(last_seen_at, ?) WHERE id = ?',
  /** last_seen_visibility, id */
  userVisibilitySet: 'UPDATE users SET last_seen_visibility = ? WHERE id = ?',
  /** a, b: any chat with both users as members */
  usersShareChat: `SELECT 1 FROM members a JOIN members b ON b.chat_id = a.chat_id
    WHERE a.user_id = ? AND b.user_id = ? LIMIT 1`,
  /** a, b: the direct chat of two users (key is the sorted pair) */
  usersDirectChat: 'SELECT 1 FROM chats WHERE direct_key = ?',
  /** sender_device, client_id */
  messageByClientId: 'SELECT seq, server_time FROM messages WHERE sender_device = ? AND client_id = ?',
  /** chat_id, seq, sender_user, sender_device, client_id, server_time, kind, body */
  messageInsert:
    'INSERT INTO messages (chat_id, seq, sender_user, sender_device, client_id, server_time, kind, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  /** chat_id, seq, device_id, body */
  payloadInsert: 'INSERT INTO message_payloads (chat_id, seq, device_id, body) VALUES (?, ?, ?, ?)',
  /** device_id, chat_id, after_seq, up_to_seq, limit */
  messagesRead: `SELECT m.chat_id, m.seq, m.sender_user, m.sender_device, m.client_id, m.server_time, m.kind,
      coalesce(m.body, p.body) AS body, m.msg_type, m.ref_seq, m.reaction, m.mentions, m.forward_count, m.deleted, m.view_once, m.expires_at, m.withheld
    FROM messages m LEFT JOIN message_payloads p
      ON m.body IS NULL AND p.chat_id = m.chat_id AND p.seq = m.seq AND p.device_id = @device
    WHERE m.chat_id = @chat AND m.seq > @after AND m.seq <= @upTo ORDER BY m.seq LIMIT @limit`,
  /** device_id, chat_id, before_seq, limit: newest first, within the device user's membership */
  historyBefore: `SELECT m.chat_id, m.seq, m.sender_user, m.sender_device, m.client_id, m.server_time, m.kind,
      coalesce(m.body, p.body) AS body, m.msg_type, m.ref_seq, m.reaction, m.mentions, m.forward_count, m.deleted, m.view_once, m.expires_at, m.withheld
    FROM messages m LEFT JOIN message_payloads p
      ON m.body IS NULL AND p.chat_id = m.chat_id AND p.seq = m.seq AND p.device_id = @device
    WHERE m.chat_id = @chat AND m.seq < @before AND m.seq >= (
      SELECT mb.joined_seq FROM members mb JOIN devices d ON d.user_id = mb.user_id
      WHERE d.id = @device AND mb.chat_id = @chat)
    ORDER BY m.seq DESC LIMIT @limit`,
  /** device_id, chat_id, after_seq, limit: oldest first */
  historyAfter: `SELECT m.chat_id, m.seq, m.sender_user, m.sender_device, m.client_id, m.server_time, m.kind,
      coalesce(m.body, p.body) AS body, m.msg_type, m.ref_seq, m.reaction, m.mentions, m.forward_count, m.deleted, m.view_once, m.expires_at, m.withheld
    FROM messages m LEFT JOIN message_payloads p
      ON m.body IS NULL AND p.chat_id = m.chat_id AND p.seq = m.seq AND p.device_id = @device
    WHERE m.chat_id = @chat AND m.seq > @after AND m.seq >= (
      SELECT mb.joined_seq FROM members mb JOIN devices d ON d.user_id = mb.user_id
      WHERE d.id = @device AND mb.chat_id = @chat)
    ORDER BY m.seq ASC LIMIT @limit`,
  /** cutoff, limit */
  expiredKeys: 'SELECT chat_id, seq FROM messages WHERE server_time < ? ORDER BY server_time LIMIT ?',
  /** chat_id, seq */
  payloadsDelete: 'DELETE FROM message_payloads WHERE chat_id = ? AND seq = ?',
  /** chat_id, seq */
  messageDelete: 'DELETE FROM messages WHERE chat_id = ? AND seq = ?',
  /** @chat: receipt marks that cover none of the chat's messages left (migration 024) */
  receiptMarksTrim: `DELETE FROM receipt_marks WHERE chat_id = @chat AND through_seq <
    (SELECT ifnull(min(seq), 9223372036854775807) FROM messages WHERE chat_id = @chat)`,
  /** device_id */
  keysGet: 'SELECT * FROM device_keys WHERE device_id = ?',
  /** device_id, identity_key, registration_id, signed_id, signed_key, signed_sig, last_resort_id, last_resort_key, last_resort_sig, updated_at */
  keysInsert: `INSERT INTO device_keys (device_id, identity_key, registration_id, signed_id, signed_key, signed_sig,
      last_resort_id, last_resort_key, last_resort_sig, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  /** signed_id, signed_key, signed_sig, updated_at, device_id */
  keysSetSigned:
    'UPDATE device_keys SET signed_id = ?, signed_key = ?, signed_sig = ?, updated_at = ? WHERE device_id = ?',
  /** last_resort_id, last_resort_key, last_resort_sig, updated_at, device_id */
  keysSetLastResort:
    'UPDATE device_keys SET last_resort_id = ?, last_resort_key = ?, last_resort_sig = ?, updated_at = ? WHERE device_id = ?',
  /** device_id, key_id, public_key */
  oneTimeInsert: 'INSERT INTO one_time_keys (device_id, key_id, public_key) VALUES (?, ?, ?)',
  /** device_id */
  oneTimeDeleteAll: 'DELETE FROM one_time_keys WHERE device_id = ?',
  /** device_id */
  oneTimeCount: 'SELECT count(*) AS n FROM one_time_keys WHERE device_id = ?',
  /** device_id: a row only when the device is active and has uploaded its keys */
  oneTimeCountKeyed: `SELECT (SELECT count(*) FROM one_time_keys o WHERE o.device_id = k.device_id) AS n
    FROM device_keys k JOIN devices d ON d.id = k.device_id WHERE k.device_id = ? AND d.revoked_at IS NULL`,
  /** device_id: the lowest id first */
  oneTimeFirst: 'SELECT key_id, public_key FROM one_time_keys WHERE device_id = ? ORDER BY key_id LIMIT 1',
  /** device_id, cutoff: forgets grants at or before the cutoff */
  grantsPrune: 'DELETE FROM one_time_grants WHERE device_id = ? AND granted_at <= ?',
  /** @device, @requester, @hourAgo: whether the requester holds a grant; grants in the last hour */
  grantsSeen: `SELECT
      EXISTS (SELECT 1 FROM one_time_grants WHERE device_id = @device AND requester_user = @requester) AS mine,
      (SELECT count(*) FROM one_time_grants WHERE device_id = @device AND granted_at > @hourAgo) AS lastHour`,
  /** device_id, requester_user, granted_at */
  grantRecord: `INSERT INTO one_time_grants (device_id, requester_user, granted_at) VALUES (?, ?, ?)
    ON CONFLICT (device_id, requester_user) DO UPDATE SET granted_at = excluded.granted_at`,
  /** device_id, key_id */
  oneTimeDelete: 'DELETE FROM one_time_keys WHERE device_id = ? AND key_id = ?',
  /** user_id: active devices of the user with keys */
  keysOfUser: `SELECT k.* FROM device_keys k JOIN devices d ON d.id = k.device_id
    WHERE d.user_id = ? AND d.revoked_at IS NULL ORDER BY d.created_at, d.id`,

  // -- profiles ---------------------------------------------------------------------------
  /** user_id, version, ciphertext, updated_at: no row when the stored version is not lower */
  profilePut: `INSERT INTO profiles (user_id, version, ciphertext, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, ciphertext = excluded.ciphertext,
      updated_at = excluded.updated_at
    WHERE excluded.version > profiles.version
    RETURNING user_id, version, ciphertext, updated_at`,
  /** @viewer, @users (JSON array): the viewer's own profile and those of users sharing a chat */
  profilesVisible: `SELECT p.user_id, p.version, p.ciphertext, p.updated_at FROM profiles p
    WHERE p.user_id IN (SELECT value FROM json_each(@users))
      AND (p.user_id = @viewer OR EXISTS (SELECT 1 FROM members a JOIN members b ON b.chat_id = a.chat_id
        WHERE a.user_id = @viewer AND b.user_id = p.user_id))`,
  /** @viewer, @since, @after, @limit: versions after (since, after) of the viewer and co-members */
  profileChanges: `SELECT p.user_id, p.version, p.updated_at FROM profiles p
    WHERE (p.updated_at > @since OR (p.updated_at = @since AND p.user_id > @after))
      AND (p.user_id = @viewer OR p.user_id IN (SELECT b.user_id FROM members a
        JOIN members b ON b.chat_id = a.chat_id WHERE a.user_id = @viewer))
    ORDER BY p.updated_at, p.user_id LIMIT @limit`,
  /** user_id: everyone sharing a chat with the user */
  profileAudience: `SELECT DISTINCT b.user_id FROM members a JOIN members b ON b.chat_id = a.chat_id
    WHERE a.user_id = ? AND b.user_id <> a.user_id`,
} as const;

export type Statements = { [K in keyof typeof sql]: Database.Statement };

export function prepareStatements(db: Database.Database): Statements {
  const out = {} as Record<string, Database.Statement>;
  for (const [name, text] of Object.entries(sql)) out[name] = db.prepare(text);
  return out as Statements;
}
