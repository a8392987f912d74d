/**
 * Durable state. Invariants every backend keeps:
 * - a message is stored once; per-chat seq is gap-free and strictly increasing;
 * - a device cursor only moves forward, and only through `cursorsAck` (an ack from the device);
 * - a call that resolves has committed (durably, per the backend's configured sync mode).
 * Errors are ParleyError codes; no driver error or type crosses this interface.
 */

import type { PushCommit, PushStore } from './store-push.js';
import type {
  ChatId,
  ChatInfo,
  ChatKind,
  ChatSummary,
  Device,
  DeviceCursors,
  DeviceId,
  DeviceIdentity,
  LastSeenVisibility,
  MessageKind,
  MessageMeta,
  OneTimePublicKey,
  PinInfo,
  PreKeyBundleRecord,
  ProfileVersionRecord,
  ReceiptChange,
  ReceiptState,
  Role,
  SignedPublicKey,
  StoredMessage,
  StoredProfile,
  User,
  UserId,
  UserPresenceRecord,
} from './types.js';

export interface OneTimeCode {
  phone: string;
  codeHash: string;
  expiresAt: number;
  attempts: number;
  sentAt: number;
}

/**
 * A registration-lock PIN, stored as its Argon2id hash, and the count of wrong PINs toward a
 * lockout. Its own table, one row per user.
 */
export interface RegistrationLock {
  userId: UserId;
  /** The PIN's Argon2id hash in PHC string form (parameters and salt included). */
  pinHash: string;
  setAt: number;
  /** Wrong PINs counted since the PIN was set, last entered right, or the last lockout ended. */
  failedAttempts: number;
  /** No PIN is tried while this is after `now` (the lockout); 0 when not locked out. */
  lockedUntil: number;
}

/** A chat's membership as the directory holds it (see chatMembersPage). */
export interface ChatMembership {
  chatId: ChatId;
  kind: ChatKind;
  onlyAdminsSend: boolean;
  members: Array<{ userId: UserId; role: Role }>;
}

export interface SendCommit {
  chatId: ChatId;
  senderUserId: UserId;
  senderDeviceId: DeviceId;
  clientMessageId: string;
  serverTime: number;
  /** One body for every recipient device, or one per device (keyed by device id). */
  payload: Uint8Array | undefined;
  devicePayloads: ReadonlyMap<DeviceId, Uint8Array> | undefined;
  meta?: MessageMeta | undefined;
  /** Windows for edits and deletes by the sender (policy, checked in the transaction). */
  windows?: { editMs: number; deleteMs: number };
  /**
   * Withheld from the other member of a direct chat (who had blocked the sender): stored with
   * the flag, never delivered to that member, and left out of their history, unread counts
   * and last message. The sender's own devices get it as usual.
   */
  withheld?: boolean;
  /**
   * Push jobs to record (coalesced per device) in the same transaction when the message is
   * stored; nothing is recorded for a duplicate or a refused send.
   */
  push?: PushCommit | undefined;
  /**
   * The sender's sealed previews by recipient device: they only travel into push jobs (see
   * PushRecipient.preview), never into the message.
   */
  pushPreviews?: ReadonlyMap<DeviceId, Uint8Array> | undefined;
  /**
   * Media ids the message references (distinct, checked at the edge): recorded as
   * (media id, chat, seq) in the same transaction when the message is stored, nothing for a
   * duplicate or a refused send. Absent or empty costs no statement at all.
   */
  mediaIds?: readonly string[] | undefined;
}

/** What the store knows about who may fetch a media body (Store.mediaAccess). */
export interface MediaAccess {
  granted: boolean;
  avatarOwners: UserId[];
}

export type CommitResult =
  | { ok: true; seq: number; serverTime: number; duplicate: boolean; expiresAt?: number }
  | {
      ok: false;
      code:
        | 'NOT_A_MEMBER'
        | 'CHAT_NOT_FOUND'
        | 'NOT_FOUND'
        | 'PERMISSION_DENIED'
        | 'EDIT_WINDOW_PASSED'
        | 'DELETE_WINDOW_PASSED'
        | 'TOO_MANY_REACTIONS'
        | 'INVALID_ARGUMENT';
      message?: string;
    };

export interface KeysUploadInput {
  deviceId: DeviceId;
  identityKey?: Uint8Array | undefined;
  registrationId?: number | undefined;
  signedPreKey?: SignedPublicKey | undefined;
  lastResortKey?: SignedPublicKey | undefined;
  oneTimePreKeys: readonly OneTimePublicKey[];
  replaceOneTime: boolean;
  maxOneTime: number;
  now: number;
}

/** A prekey bundle fetch: who asks for which user's devices, and how one-time prekeys are rationed. */
export interface BundleTake {
  userId: UserId;
  /** Only these devices of the user (others are neither returned nor consumed). */
  deviceIds?: readonly DeviceId[] | undefined;
  /** The user asking. */
  requester: UserId;
  now: number;
  /** A requester gets a given device's one-time prekey at most once in this window (at least an hour). */
  repeatWindowMs: number;
  /** One-time prekeys a device hands out, to all requesters together, in the hour before `now`. */
  oneTimePerDevicePerHour: number;
}

export interface ChatCreate {
  chatId: ChatId;
  kind: ChatKind;
  name: string;
  description: string;
  createdBy: UserId;
  createdByDevice: DeviceId;
  members: ReadonlyArray<{ userId: UserId; role: Role }>;
  now: number;
  /** Encoded CREATED update, stored as message seq 1. */
  update: Uint8Array;
}

/**
 * The chat's first message (seq 1, its CREATED update) as every store keeps it for `input`
 * and `messagesRead` returns it: what the creator's node fans out without reading it back.
 */
export function createdMessage(input: ChatCreate): StoredMessage {
  return {
    chatId: input.chatId,
    seq: 1,
    senderUserId: input.createdBy,
    senderDeviceId: input.createdByDevice,
    clientMessageId: '',
    serverTime: input.now,
    kind: 'update',
    body: input.update,
  };
}

/** A change to a chat, stored as the next message (kind 'update') in the same transaction. */
export interface ChatMutation {
  chatId: ChatId;
  actorUserId: UserId;
  /** The acting device; '' for an update the server writes itself (a call event), which every device gets. */
  actorDeviceId: DeviceId;
  now: number;
  update: Uint8Array;
  addMembers?: ReadonlyArray<{ userId: UserId; role: Role }>;
  /**
   * With `addMembers`: GROUP_FULL (nothing stored) when the chat would then have more members.
   * Checked in the transaction, so concurrent adds, on any node, never pass it together.
   */
  maxMembers?: number;
  /** Removed users keep their cursors, bounded at this update's seq. */
  removeUserIds?: readonly UserId[];
  setRole?: { userId: UserId; role: Role };
  name?: string;
  description?: string;
  /** The group icon's media id ('' removes it). */
  iconMediaId?: string;
  settings?: { onlyAdminsSend?: boolean; onlyAdminsEditInfo?: boolean };
  disappearingSeconds?: number;
  /** Pins a payload message (NOT_FOUND otherwise); TOO_MANY_PINS when `max` pins are in force at `pin.now`. */
  pin?: { seq: number; expiresAt: number; now: number; max: number };
  /** Unpins a message; NOT_FOUND when it was not pinned. */
  unpinSeq?: number;
}

/** What `accountErase` is told besides the user (see docs/accounts.md, "Deleting an account"). */
export interface AccountErase {
  userId: UserId;
  /** Rows of the codes table that belong to the account's number (one per code purpose). */
  codeKeys: readonly string[];
  /**
   * Chats the user was just removed from (by chat updates stored before the erasure): those
   * nobody is left in are dropped whole, like the chats the user is still the only member of.
   */
  leftChatIds: readonly ChatId[];
}

export interface AccountErased {
  /** Every device of the user that was erased, revoked ones included (their sockets close). */
  deviceIds: DeviceId[];
  /** Chats dropped whole because nobody was left in them. */
  droppedChatIds: ChatId[];
  /** Messages the user sent that were erased (received by every other member's devices). */
  erasedMessages: number;
  /** Media the user uploaded that no other user uploaded: the caller removes their bodies. */
  mediaIds: string[];
}

/** Input of Store.discoveryLookupsTake. */
export interface DiscoveryLookupsTake {
  userId: UserId;
  /** Keyed digests of the looked-up phone hashes (the store never sees the hashes). */
  digests: readonly string[];
  now: number;
  windowMs: number;
  budget: number;
}

export type DiscoveryLookupsTaken =
  | { ok: true; fresh: number }
  | { ok: false; fresh: number; retryAt: number | undefined };

/** One entry of a user's block list. */
export interface BlockEntry {
  userId: UserId;
  blockedAt: number;
}

export type ReportReason = 'spam' | 'harassment' | 'scam' | 'inappropriate' | 'impersonation' | 'other';
export type ReportStatus = 'open' | 'resolved';

/** A message the reporter's device decrypted and disclosed with a report. */
export interface ReportedMessage {
  seq: number;
  senderUserId: UserId;
  serverTime: number;
  text: string;
}

export interface ReportRecord {
  id: string;
  reporterUserId: UserId;
  targetUserId: UserId | undefined;
  chatId: ChatId | undefined;
  reason: ReportReason;
  detail: string;
  messages: ReportedMessage[];
  createdAt: number;
  status: ReportStatus;
  resolvedAt: number | undefined;
  resolution: string;
}

/** One `parley admin` action, as the audit table keeps it (never message content). */
export interface AuditEntry {
  at: number;
  /** Who ran it (the operating-system user of the admin command). */
  actor: string;
  action: string;
  /** What it acted on: a user id or a report id. */
  target: string;
  detail: Record<string, unknown>;
}

export interface AdminStats {
  accounts: number;
  devices: number;
  chats: number;
  messages: number;
  reports: number;
  openReports: number;
  suspended: number;
}

export interface Store extends PushStore {
  // -- accounts -------------------------------------------------------------------------
  /** Undefined when no user has this E.164 number. */
  userByPhone(phone: string): Promise<User | undefined>;
  /** Users whose SHA-256(E.164) is in `hashes`; unknown hashes are omitted. */
  usersByPhoneHash(hashes: readonly Uint8Array[]): Promise<Array<{ phoneHash: Uint8Array; userId: UserId }>>;
  /** The user with this id; undefined when there is none (never was, or erased). */
  userGet(userId: UserId): Promise<User | undefined>;
  /** Ids of the given users that exist. */
  usersExist(userIds: readonly UserId[]): Promise<Set<UserId>>;
  /**
   * Creates the user if new, makes `device` its primary, revokes any previous primary
   * (returned), and starts the device's cursors at each chat's current last seq.
   */
  primaryRegister(input: {
    userId: UserId;
    phone: string;
    phoneHash: Uint8Array;
    deviceId: DeviceId;
    tokenHash: string;
    name: string;
    now: number;
  }): Promise<{ userId: UserId; revokedDeviceIds: DeviceId[] }>;
  /** Adds a linked device. DEVICE_LIMIT when the user already has `maxDevices` active devices. */
  deviceLink(input: {
    userId: UserId;
    deviceId: DeviceId;
    tokenHash: string;
    name: string;
    now: number;
    maxDevices: number;
  }): Promise<void>;
  /** The active (not revoked) device holding this token hash. */
  deviceByTokenHash(tokenHash: string): Promise<Device | undefined>;
  /** Active devices of each user (users without any are omitted). */
  devicesOfUsers(userIds: readonly UserId[]): Promise<Map<UserId, DeviceId[]>>;
  deviceList(userId: UserId): Promise<Device[]>;
  /** Revokes the device and drops its cursors. Idempotent; false when it was not active. */
  deviceRevoke(deviceId: DeviceId, now: number): Promise<boolean>;
  /**
   * Records activity of these devices (used to retire linked devices whose primary went quiet),
   * in one statement or transaction; never moves a time back. Needs no disk sync: after a power
   * loss the time may be older, which only delays a retirement.
   */
  devicesTouch(deviceIds: readonly DeviceId[], now: number): Promise<void>;
  /** Revokes linked devices of users whose primary was last seen before `cutoff`. */
  devicesRetireOrphans(cutoff: number, now: number): Promise<DeviceId[]>;

  /** Last-seen time and its visibility; undefined for an unknown user. */
  userPresenceGet(userId: UserId): Promise<UserPresenceRecord | undefined>;
  /**
   * Records when the user was last online; never moves back. Needs no disk sync: after a
   * power loss the time may be older.
   */
  userLastSeenSet(userId: UserId, at: number): Promise<void>;
  userVisibilitySet(userId: UserId, visibility: LastSeenVisibility): Promise<void>;
  /** Which of `others` share at least one chat with `userId`. */
  usersSharingChat(userId: UserId, others: readonly UserId[]): Promise<Set<UserId>>;
  /** Whether the two users have a direct chat (they are each other's contacts). */
  usersHaveDirectChat(a: UserId, b: UserId): Promise<boolean>;

  /**
   * Erases the account in one transaction, so a failure erases nothing. Gone afterwards:
   * the user row (number, its hash, presence settings); every device of the user, revoked
   * ones too, with their cursors, public keys, one-time prekeys and prekey grants (given to
   * and taken by the user); link codes; the `codeKeys` rows; the user's memberships,
   * receipt marks, reactions, pins they set and invite links they created; media upload
   * records (`mediaIds` lists bodies no other user uploaded); chats nobody is left in
   * (including `leftChatIds` whose members all left), whole; and the messages the user sent
   * (from any of their devices) with seq at or below every cursor of the other members'
   * devices in the chat, i.e. received everywhere. Messages still pending for some member's
   * device stay, as do other users' messages. Idempotent: an unknown user erases nothing.
   * Every table that names a user is listed in the backend's erase steps (erase.ts).
   */
  accountErase(input: AccountErase): Promise<AccountErased>;
  /**
   * Records that the user uploaded this media body (idempotent; a repeat moves uploadedAt).
   * `avatar` marks it as the user's profile avatar (a repeat never unmarks it).
   */
  mediaUploadRecord(mediaId: string, userId: UserId, now: number, avatar?: boolean): Promise<void>;
  /**
   * Forgets up to `limit` upload records older than `cutoff` (their bodies expire alike);
   * avatar uploads stay while their bodies do (see `mediaForget`). Returns how many.
   */
  mediaUploadsExpire(cutoff: number, limit: number): Promise<number>;
  /**
   * Who may fetch a body, as far as the store can tell (docs/security.md, "Media access"):
   * `granted` when `userId` uploaded it, or is a member of a chat with a message that
   * declared it (sendRequest.mediaIds; not deleted for everyone, not expired), or of a chat
   * whose icon it is. `avatarOwners`: users who uploaded it as their avatar and share a chat
   * with `userId` (or are `userId`); the caller applies their block lists. Empty for an
   * unknown id. A pure read.
   */
  mediaAccess(mediaId: string, userId: UserId): Promise<MediaAccess>;
  /**
   * Of `ids`, those the retention job must keep: uploaded (or uploaded again) at or after
   * `uploadedSince`; declared by a message stored at or after `messagesSince` and not deleted
   * for everyone; a chat's icon; or some user's newest avatar upload. A pure read.
   */
  mediaKept(ids: readonly string[], uploadedSince: number, messagesSince: number): Promise<string[]>;
  /** Forgets the message references and upload records of bodies that were removed; returns rows removed. */
  mediaForget(ids: readonly string[]): Promise<number>;

  // -- contact discovery ---------------------------------------------------------------------
  /**
   * The daily budget of new numbers, atomic per user: racing calls for one user never record
   * more than `budget` lookups within a window. First forgets the user's lookups made at or
   * before `now - windowMs`; of `digests` (duplicates count once), those still remembered are
   * free and the rest are `fresh`. When the remembered ones plus the fresh ones fit in
   * `budget`, records the fresh ones at `now` and answers `ok`; otherwise records nothing and
   * answers when enough remembered lookups will be forgotten (`retryAt`), or no `retryAt` when
   * the fresh ones alone are more than the budget.
   */
  discoveryLookupsTake(input: DiscoveryLookupsTake): Promise<DiscoveryLookupsTaken>;
  /** Forgets up to `limit` lookups (of any user) made before `cutoff`; returns how many. */
  discoveryLookupsExpire(cutoff: number, limit: number): Promise<number>;

  // -- profiles (ciphertext only) ---------------------------------------------------------
  /**
   * Stores a new version of a user's profile; PROFILE_VERSION_STALE (nothing stored) when the
   * stored version is at least `version`. Atomic on any node: of two puts of one version, one fails.
   */
  profilePut(input: {
    userId: UserId;
    version: number;
    ciphertext: Uint8Array;
    now: number;
  }): Promise<StoredProfile>;
  /**
   * The stored profiles of `userIds` that `viewer` may read: its own, and those of users who
   * share a chat with it. Others and users without a profile are left out; order unspecified.
   */
  profilesGet(viewer: UserId, userIds: readonly UserId[]): Promise<StoredProfile[]>;
  /**
   * Versions stored at or after `since` of `viewer` and of the users who share a chat with it,
   * ordered by (updatedAt, userId), starting after (since, afterUserId) when `afterUserId` is
   * not '' (a page boundary), at most `limit`.
   */
  profileChanges(
    viewer: UserId,
    since: number,
    afterUserId: UserId | '',
    limit: number,
  ): Promise<ProfileVersionRecord[]>;
  /** Every user who shares at least one chat with `userId` (not `userId` itself), unordered. */
  profileAudience(userId: UserId): Promise<UserId[]>;

  // -- one-time codes ----------------------------------------------------------------------
  codeGet(phone: string): Promise<OneTimeCode | undefined>;
  /** Replaces any previous code for the phone (attempts reset to 0). */
  codePut(code: OneTimeCode): Promise<void>;
  /**
   * Takes one verification attempt, atomically: only while the phone has a code that has not
   * expired (expiresAt > now) and has had fewer than `maxAttempts` attempts. Returns the code
   * with `attempts` counting this one, or undefined when no attempt was taken (no code, expired,
   * or used up: codeGet tells which). However many calls race, at most `maxAttempts` succeed
   * per code, so the caller compares the code only after this returned it.
   */
  codeAttemptTake(phone: string, now: number, maxAttempts: number): Promise<OneTimeCode | undefined>;
  /**
   * Deletes the phone's code only if it is still the one with `codeHash`. True for the one call
   * that deleted it: of racing verifiers of the same code exactly one gets true, and a code
   * replaced by a newer one is left alone.
   */
  codeConsume(phone: string, codeHash: string): Promise<boolean>;
  /**
   * Gives back one attempt taken with codeAttemptTake (the code was right, but registration
   * waits for the registration-lock PIN), only if the phone's code is still the one with
   * `codeHash` and has attempts taken. The right code then costs the client nothing.
   */
  codeAttemptReturn(phone: string, codeHash: string): Promise<void>;
  linkCodePut(codeHash: string, userId: UserId, expiresAt: number): Promise<void>;
  /**
   * Consumes the link code: its user if it existed and had not expired (it is deleted either
   * way). Once only: of racing calls with the same code at most one gets the user.
   */
  linkCodeTake(codeHash: string, now: number): Promise<UserId | undefined>;

  // -- registration lock ---------------------------------------------------------------------
  /**
   * The user's registration lock, with the latest lastSeenAt of any of the user's devices,
   * revoked ones included (0 when it never had one); undefined when the user has no PIN.
   */
  registrationLockGet(userId: UserId): Promise<(RegistrationLock & { lastDeviceSeenAt: number }) | undefined>;
  /** Sets or replaces the user's PIN; the wrong-PIN count and any lockout start afresh. */
  registrationLockSet(userId: UserId, pinHash: string, now: number): Promise<void>;
  /** Removes the user's PIN (and with it any lockout); false when there was none. */
  registrationLockDelete(userId: UserId): Promise<boolean>;
  /**
   * Takes one PIN try, atomically, before the PIN is compared: only while the user has a PIN
   * and is not locked out at `now`. A lockout that ended restarts the count. The try that makes
   * the count reach `maxAttempts` also starts a lockout until `now + lockoutMs`. Returns the
   * lock as this try left it, or undefined when no try was taken (no PIN, or locked out:
   * registrationLockGet tells which). However many calls race, on any node, at most
   * `maxAttempts` tries are taken before a lockout.
   */
  registrationLockAttemptTake(
    userId: UserId,
    now: number,
    maxAttempts: number,
    lockoutMs: number,
  ): Promise<RegistrationLock | undefined>;
  /**
   * After the right PIN: clears the wrong-PIN count and any lockout, only if the PIN is still
   * the one with `pinHash` (a PIN changed meanwhile keeps its own state).
   */
  registrationLockAttemptsReset(userId: UserId, pinHash: string): Promise<void>;

  // -- chats -----------------------------------------------------------------------------
  /**
   * Creates the chat with members and cursors, and stores `update` as seq 1. A direct chat
   * whose two users already have one is not created again: nothing is stored and the
   * existing chat is returned, also to a creator racing on another node. Throws
   * USER_NOT_FOUND, storing nothing, when a member is not a user.
   */
  chatCreate(input: ChatCreate): Promise<ChatInfo>;
  /**
   * The group commit of chat creation (the live path): each input as `chatCreate` would
   * store it, in order, in one transaction, and one answer per input. A direct pair that
   * already has a chat, or got one earlier in the batch, gets that chat. If the call fails
   * (USER_NOT_FOUND when a member of any input is not a user), nothing is stored.
   */
  chatCreateBatch(inputs: readonly ChatCreate[]): Promise<ChatInfo[]>;
  /**
   * For imports and benchmarks, not the live path: creates every chat in one transaction,
   * each stored as `chatCreate` stores it (members, cursors for their active devices,
   * `update` as seq 1). A direct chat whose pair already has one, or repeats a pair earlier
   * in `inputs`, is skipped without error; a chat id already in use fails the whole call and
   * nothing is stored. `ackedSeq` 1 starts the new cursors acked through the CREATED update,
   * so it is pending for nobody; 0 (the default) is what `chatCreate` does, and any other
   * value is INVALID_ARGUMENT. Returns how many chats were created. Pass chunks of up to
   * ~20,000 chats: each call is one transaction.
   */
  chatCreateMany(inputs: readonly ChatCreate[], options?: { ackedSeq?: number }): Promise<number>;
  /** The existing direct chat between two users, if any. */
  chatDirectFind(a: UserId, b: UserId): Promise<ChatId | undefined>;
  chatGet(chatId: ChatId): Promise<ChatInfo | undefined>;
  /**
   * Up to `limit` chats with id greater than `afterChatId` ('' for the first page), in id
   * order, each with its members (in chatGet's order) and send rule: what a node's directory
   * loads at start, so sends to chats not yet seen skip a store read.
   */
  chatMembersPage(afterChatId: ChatId | '', limit: number): Promise<ChatMembership[]>;
  /**
   * Moves the member's read position forward to `seq` (capped at the chat's last seq);
   * NOT_A_MEMBER when the user is not in the chat. Returns the position and unread count.
   */
  chatReadMark(
    chatId: ChatId,
    userId: UserId,
    seq: number,
    now: number,
  ): Promise<{ readSeq: number; unreadCount: number; change: ReceiptChange | undefined }>;
  /**
   * Moves members' delivered positions forward (from their devices' acks), recording the
   * time of each advance; returns the positions that moved. Need not survive power loss.
   */
  receiptsDelivered(
    items: ReadonlyArray<{ chatId: ChatId; userId: UserId; seq: number }>,
    now: number,
  ): Promise<ReceiptChange[]>;
  /**
   * `cursorsAck` and then `receiptsDelivered` for the same acks (each ack's user): what a
   * node does with each batch of acks. An ack's cursor and its member's position move in
   * the same transaction; a large batch may be written in several (SQLite writes slices of
   * 64, letting other writes run between them). Returns the receipt positions that moved.
   * Need not survive power loss.
   */
  acksPersist(
    acks: ReadonlyArray<{ deviceId: DeviceId; userId: UserId; chatId: ChatId; seq: number }>,
    now: number,
  ): Promise<ReceiptChange[]>;
  /** Users who sent payload messages with seq in (afterSeq, upToSeq]. */
  receiptSenders(chatId: ChatId, afterSeq: number, upToSeq: number): Promise<UserId[]>;
  /** The sender of a payload message, if it exists. */
  messageSender(chatId: ChatId, seq: number): Promise<UserId | undefined>;
  /** For each current member, when the message first counted as delivered and as read. */
  receiptDetails(
    chatId: ChatId,
    seq: number,
  ): Promise<Array<{ userId: UserId; deliveredAt: number | undefined; readAt: number | undefined }>>;
  /**
   * Other members' positions that moved after `since`, in the user's chats where one moved
   * over the user's own messages after `since` (so at least every position that tells the
   * user something new about their messages; possibly others of those chats).
   */
  receiptsSince(userId: UserId, since: number): Promise<ReceiptState[]>;
  /** `receiptsSince` for several users at once, each answer at its question's index. */
  receiptsSinceMany(asks: ReadonlyArray<{ userId: UserId; since: number }>): Promise<ReceiptState[][]>;
  userReadReceiptsSet(userId: UserId, on: boolean): Promise<void>;
  /** Pins of the chat in force at `now`, by seq. */
  pinsActive(chatId: ChatId, now: number): Promise<PinInfo[]>;
  /** Sets the chat's invite code, replacing any earlier one. */
  inviteSet(chatId: ChatId, code: string, createdBy: UserId, now: number): Promise<void>;
  /** Removes the chat's invite code; false when it had none. */
  inviteRevoke(chatId: ChatId): Promise<boolean>;
  /** The chat an invite code belongs to. */
  inviteFind(code: string): Promise<ChatId | undefined>;
  /** The user's chats with their read position, unread count and newest message. */
  chatSummaries(userId: UserId, chatIds?: readonly ChatId[]): Promise<ChatSummary[]>;
  /**
   * Applies the mutation and stores its update as the next message; returns that message.
   * CHAT_NOT_FOUND for an unknown chat, whatever the mutation (checked before pins).
   */
  chatMutate(m: ChatMutation): Promise<StoredMessage>;

  // -- messages ------------------------------------------------------------------------------
  /**
   * One transaction for the whole batch. Per item: idempotent on
   * (senderDeviceId, clientMessageId) — a repeat returns the first result with
   * `duplicate: true` and stores nothing; otherwise checks the sender is a member and
   * stores the message with the chat's next seq.
   */
  messageCommit(batch: readonly SendCommit[]): Promise<CommitResult[]>;
  /**
   * Every cursor of the device: those with something after them (or an end) as columns
   * with the chat's last seq, the caught-up ones as one string (`cursorList` makes objects
   * of both). Read in one snapshot.
   */
  cursorsOf(deviceId: DeviceId): Promise<DeviceCursors>;
  /**
   * Messages of `chatId` with seq in (afterSeq, upToSeq], ascending, at most `limit`,
   * with bodies resolved for `deviceId`.
   */
  messagesRead(
    deviceId: DeviceId,
    chatId: ChatId,
    afterSeq: number,
    upToSeq: number,
    limit: number,
  ): Promise<StoredMessage[]>;
  /**
   * Moves cursors forward (never back) in one transaction; a cursor bounded by endSeq is
   * deleted once acked through it. A cursor listed more than once moves to the highest of
   * its seqs. Returns how many distinct cursors moved (each counts once). Need not survive
   * power loss (a lost ack means a redelivery, never a loss), so backends may skip the disk sync.
   */
  cursorsAck(acks: ReadonlyArray<{ deviceId: DeviceId; chatId: ChatId; seq: number }>): Promise<number>;
  /** History page for a member: newest first when `beforeSeq` is set or neither is. */
  messagesHistory(
    deviceId: DeviceId,
    chatId: ChatId,
    range: { beforeSeq?: number; afterSeq?: number; limit: number },
  ): Promise<StoredMessage[]>;
  /**
   * Deletes up to `limit` messages stored before `cutoff`, and (when `now` is given) messages
   * whose disappearing timer ran out by `now`; returns how many.
   */
  messagesExpire(cutoff: number, limit: number, now?: number): Promise<number>;

  // -- key directory -------------------------------------------------------------------------
  /**
   * Stores the device's public keys. The first upload sets the identity key and registration
   * id and must carry the signed prekey and the last-resort key; they never change afterwards
   * (IDENTITY_KEY_MISMATCH). A signed key given later replaces the stored one. One-time
   * prekeys are added (a repeated id is INVALID_ARGUMENT); `replaceOneTime` drops the old
   * ones first; more than `maxOneTime` in store is INVALID_ARGUMENT. Signatures are checked
   * by the caller. Returns the one-time prekeys in store.
   */
  keysUpload(input: KeysUploadInput): Promise<{ oneTimeCount: number }>;
  /**
   * One bundle per active device of the user that has uploaded keys, each consuming one
   * one-time prekey in the same transaction: a one-time prekey is handed out at most once,
   * even to concurrent callers on several nodes. A bundle carries none (and consumes none)
   * when the requester already got one of that device's within `repeatWindowMs`, or when the
   * device handed out `oneTimePerDevicePerHour` in the last hour; both hold across nodes too.
   */
  keysTakeBundles(take: BundleTake): Promise<PreKeyBundleRecord[]>;
  /** One-time prekeys left for the device (0 when it never uploaded). */
  keysOneTimeCount(deviceId: DeviceId): Promise<number>;
  /**
   * One-time prekeys left for each of these devices that is active and has uploaded its keys
   * (others are absent), each read with its identity in one statement: an upload landing
   * meanwhile is counted whole or not at all.
   */
  keysOneTimeCounts(deviceIds: readonly DeviceId[]): Promise<Map<DeviceId, number>>;
  /** Identity keys of the active devices of these users that have uploaded keys. */
  keysIdentities(userIds: readonly UserId[]): Promise<DeviceIdentity[]>;

  // -- blocking ------------------------------------------------------------------------------
  /**
   * Adds `blockedUserId` to the user's block list at `now`; false (and nothing changed) when it
   * was there already. BLOCK_LIST_FULL when the list already holds `max` users.
   */
  blockAdd(userId: UserId, blockedUserId: UserId, now: number, max: number): Promise<boolean>;
  /** Removes a user from the block list; false when it was not there. */
  blockRemove(userId: UserId, blockedUserId: UserId): Promise<boolean>;
  /** The user's block list, oldest block first (by time, then id). */
  blocksOf(userId: UserId): Promise<BlockEntry[]>;
  /**
   * Every block, page by page: up to `limit` (blocker, blocked) pairs after `after`, in
   * (userId, blockedUserId) order by code point; what a node loads at start.
   */
  blocksPage(
    after: { userId: UserId; blockedUserId: UserId } | undefined,
    limit: number,
  ): Promise<Array<{ userId: UserId; blockedUserId: UserId }>>;

  // -- mutes and do-not-disturb --------------------------------------------------------------
  /**
   * Sets the member's mute of the chat (`members.muted_until`, unix ms; 0 = not muted,
   * MUTE_FOREVER = until unmuted). Idempotent. False (and nothing stored) when the user is not
   * a member of the chat (or the chat does not exist).
   */
  chatMuteSet(chatId: ChatId, userId: UserId, until: number): Promise<boolean>;
  /** Sets the user's do-not-disturb (`users.dnd_until`, as chatMuteSet). False for an unknown user. */
  doNotDisturbSet(userId: UserId, until: number): Promise<boolean>;
  /**
   * What decides whether a message alerts the user: their do-not-disturb (0 when unknown) and,
   * when `chatId` is given and they are a member, the chat's kind and their mute of it (one read).
   */
  alertSettings(userId: UserId, chatId?: ChatId): Promise<AlertSettings>;

  // -- reports and moderation ----------------------------------------------------------------
  /** Stores a new report (status open) under a fresh id. */
  reportCreate(report: Omit<ReportRecord, 'status' | 'resolvedAt' | 'resolution'>): Promise<void>;
  /** Reports, newest first, at most `limit`; only those with `status` when given. */
  reportsList(query: { status?: ReportStatus; limit: number }): Promise<ReportRecord[]>;
  reportGet(id: string): Promise<ReportRecord | undefined>;
  /** Marks an open report resolved; false when it is unknown or was resolved already. */
  reportResolve(id: string, now: number, resolution: string): Promise<boolean>;
  /**
   * Suspends the account at `now` (sockets are closed by the nodes, which poll
   * usersSuspendedSince; logins are refused). False when unknown or already suspended.
   */
  userSuspend(userId: UserId, now: number, reason: string): Promise<boolean>;
  /** Lifts a suspension; false when the user is unknown or was not suspended. */
  userUnsuspend(userId: UserId): Promise<boolean>;
  /** When and why the user was suspended; undefined when not suspended (or unknown). */
  userSuspension(userId: UserId): Promise<{ at: number; reason: string } | undefined>;
  /** Users suspended at or after `since` (their suspended_at), oldest first, at most `limit`. */
  usersSuspendedSince(since: number, limit: number): Promise<Array<{ userId: UserId; at: number }>>;
  /** Appends an admin action to the audit table. */
  auditRecord(entry: AuditEntry): Promise<void>;
  /** Audit entries, newest first. */
  auditList(limit: number): Promise<AuditEntry[]>;
  /** Counts for `parley admin stats` (active devices; every stored message). */
  adminStats(): Promise<AdminStats>;

  // -- lifecycle ----------------------------------------------------------------------------------
  /** Cheap liveness probe for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What alertSettings reads: times are unix ms, 0 = off, MUTE_FOREVER = until turned off. */
export interface AlertSettings {
  doNotDisturbUntil: number;
  /** Absent when no chat was asked for or the user is not a member of it. */
  chat?: { kind: ChatKind; mutedUntil: number };
}

export type { MessageKind };
