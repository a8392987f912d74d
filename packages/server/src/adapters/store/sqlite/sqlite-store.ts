/**
 * The embedded Store: one SQLite file in WAL mode, synchronous=FULL by default, so a
 * resolved call survives power loss. better-sqlite3 is synchronous; every method runs
 * to completion on the calling thread and one transaction never interleaves another.
 */

import { ParleyError } from '@parley/protocol';
import Database from 'better-sqlite3';
import type {
  AccountErase,
  AccountErased,
  AdminStats,
  AlertSettings,
  AuditEntry,
  BlockEntry,
  BundleTake,
  ChatCreate,
  ChatMembership,
  ChatMutation,
  CommitResult,
  DiscoveryLookupsTake,
  DiscoveryLookupsTaken,
  KeysUploadInput,
  MediaAccess,
  OneTimeCode,
  ReportRecord,
  ReportStatus,
  SendCommit,
  Store,
} from '../../../ports/store.js';
import {
  addEncodedCursors,
  type ChatId,
  type ChatInfo,
  type ChatKind,
  type ChatSummary,
  coveredFrom,
  type Device,
  type DeviceCursors,
  type DeviceId,
  type DeviceIdentity,
  emptyCursors,
  type LastSeenVisibility,
  type MemberInfo,
  type MessageMeta,
  type PinInfo,
  type PreKeyBundleRecord,
  type ProfileVersionRecord,
  type ReceiptChange,
  type ReceiptState,
  type Role,
  type StoredMessage,
  type StoredProfile,
  type User,
  type UserId,
  type UserPresenceRecord,
} from '../../../ports/types.js';
import { type CodeRow, toCode } from '../code-rows.js';
import { decideLookups } from '../discovery-rows.js';
import {
  bundleOf,
  checkSameIdentity,
  firstUploadKeys,
  type GrantsSeen,
  grantsCutoff,
  HOUR_MS,
  identityOf,
  type KeyRow,
  oneTimeAllowed,
} from '../key-rows.js';
import { type LockRow, toLock } from '../lock-rows.js';
import {
  type ChatRowFields,
  directKeyOf,
  KIND_PAYLOAD,
  KIND_UPDATE,
  type MessageRowFields,
  newChatInfo,
  TYPES,
  toChatInfo,
  toStoredMessage,
  updateClientId,
} from '../message-rows.js';
import {
  advancedReceipt,
  checkGroupSize,
  createdAckedSeq,
  highestAcks,
  highestPerMember,
  needsOtherReactions,
  pairKey,
  type ReceiptPosition,
  receiptChange,
  type TargetRow,
  targetRefusal,
} from '../message-rules.js';
import {
  type ProfileRow,
  type ProfileVersionRow,
  staleVersion,
  toProfile,
  toProfileVersion,
} from '../profile-rows.js';
import { ChatFactsCache, isMember, type MemberIds } from './chat-facts.js';
import {
  BACKSTOP_PAGES,
  type CheckpointStats,
  LOG_SIZE_LIMIT_BYTES,
  WalCheckpointer,
} from './checkpointer.js';
import { type Eraser, prepareEraser } from './erase.js';
import { SqliteMedia } from './media.js';
import { migrate } from './migrate.js';
import { SqliteModeration } from './moderation.js';
import { SqliteMutes } from './mutes.js';
import { makeDatabaseFilesPrivate } from './private-files.js';
import { SqlitePush } from './push.js';
import { prepareStatements, type Statements } from './statements.js';

export type SqliteSynchronous = 'FULL' | 'NORMAL' | 'OFF';

export interface SqliteStoreOptions {
  /** File path, or ':memory:' for tests. */
  path: string;
  synchronous?: SqliteSynchronous;
  /**
   * Run WAL checkpoints in a worker thread every this many ms instead of inside commits
   * (see checkpointer.ts); file databases only. Nodes use it; tests and tools need not.
   */
  backgroundCheckpointMs?: number;
  /**
   * A second, read-only connection to a database another SqliteStore writes (WAL lets it
   * read while the writer commits): no migrations, no checkpoints, writes fail.
   */
  readonly?: boolean;
  /** On a `readonly` connection: bytes of the file read through a memory map (0 or unset: none). */
  readerMmapBytes?: number;
}

interface MessageRow extends MessageRowFields {
  body: Buffer | null;
  /** Comma-joined user ids ('' for none). */
  mentions?: string;
}

function toMessage(r: MessageRow): StoredMessage {
  return toStoredMessage(r, r.mentions ? r.mentions.split(',') : []);
}

/** Translates driver failures into store codes; ParleyErrors pass through. */
function guard<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    if (err instanceof ParleyError) return Promise.reject(err);
    const code = (err as { code?: string }).code ?? '';
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      return Promise.reject(
        new ParleyError('UNAVAILABLE', 'store is busy', { cause: err, retryAfterMs: 100 }),
      );
    }
    return Promise.reject(new ParleyError('INTERNAL', 'store failure', { cause: err }));
  }
}

/**
 * Page cache of the writing connection, in KiB. Small on purpose: when a B-tree page splits,
 * SQLite briefly renumbers a page to the lock page (page 262,145 with 4 KiB pages), and the
 * commit that follows then walks every page in this connection's cache to drop pages past
 * the end of the file. With 64 MiB (16,384 pages) that walk was a fifth of the writer's CPU on
 * the all-pairs data set; with 8 MiB it is small, and the pages it no longer keeps are read
 * from the operating system's cache.
 */
const WRITER_CACHE_KIB = 8 * 1024;
/**
 * Acks one transaction of `acksPersist` holds at most (about 1-2 ms of the writer's time):
 * the writer runs one call at a time, so a message commit posted during a large ack flush
 * waits for one slice of it, not for all of it.
 */
const ACK_SLICE = 64;
/**
 * Acks cut into slices of about `ACK_SLICE`, a member's acks (all its devices') in one
 * slice, so that each member's position moves once, to its highest, and is reported once.
 */
function ackSlices<A extends { userId: UserId; chatId: ChatId }>(acks: readonly A[]): A[][] {
  const byMember = new Map<string, A[]>();
  for (const a of acks) {
    const key = pairKey(a.userId, a.chatId);
    const list = byMember.get(key);
    if (list) list.push(a);
    else byMember.set(key, [a]);
  }
  const slices: A[][] = [];
  let slice: A[] = [];
  for (const list of byMember.values()) {
    for (const a of list) slice.push(a);
    if (slice.length >= ACK_SLICE) {
      slices.push(slice);
      slice = [];
    }
  }
  if (slice.length > 0) slices.push(slice);
  return slices;
}
/** Page cache of a read-only connection, in KiB: it never commits, so it can be large. */
const READER_CACHE_KIB = 64 * 1024;

/** A message of a receipt move's range, as `receiptRange` reads it. */
interface RangeRow {
  seq: number;
  sender_user: string;
  kind: number;
  view_once: number;
  no_body: number;
}

/**
 * What one transaction's receipt moves share: the ranges already read (a group's members
 * usually move over the same messages) and the senders whose receipt stamps are already set
 * to this transaction's time (by chat and sender, and by sender).
 */
interface ReceiptPass {
  ranges: Map<string, RangeRow[]>;
  /** `chat\tsender` of the member rows stamped. */
  stampedMembers: Set<string>;
  stampedUsers: Set<string>;
}

const newReceiptPass = (): ReceiptPass => ({
  ranges: new Map(),
  stampedMembers: new Set(),
  stampedUsers: new Set(),
});

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly s: Statements;
  private readonly seqCache = new Map<ChatId, number>();
  private readonly chatFacts = new ChatFactsCache((chatId) => {
    const row = this.s.chatFactsOf.get(chatId) as
      | { disappearing_seconds: number; last_seq: number; members: string | null }
      | undefined;
    if (!row) return undefined;
    // A send reads the chat's last seq next: one statement reads both on a miss.
    if (!this.seqCache.has(chatId as ChatId)) this.seqCache.set(chatId as ChatId, row.last_seq);
    return { userIds: row.members ? row.members.split('\t') : [], timer: row.disappearing_seconds };
  });
  private readonly checkpointer: WalCheckpointer | undefined;
  private eraser: Eraser | undefined;
  private readonly moderation: SqliteModeration;
  private readonly push: SqlitePush;
  private readonly mutes: SqliteMutes;
  private readonly media: SqliteMedia;
  readonly synchronous: SqliteSynchronous;

  constructor(options: SqliteStoreOptions) {
    if (options.readonly) {
      this.db = new Database(options.path, { readonly: true, fileMustExist: true });
      if (options.readerMmapBytes) this.db.pragma(`mmap_size = ${Math.floor(options.readerMmapBytes)}`);
    } else {
      makeDatabaseFilesPrivate(options.path);
      this.db = new Database(options.path);
      this.db.pragma('journal_mode = WAL');
    }
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma(`cache_size = -${options.readonly ? READER_CACHE_KIB : WRITER_CACHE_KIB}`);
    this.db.pragma('temp_store = MEMORY');
    const level = this.db.pragma('synchronous', { simple: true }) as number;
    this.synchronous = (['OFF', 'NORMAL', 'FULL', 'EXTRA'][level] ?? 'FULL') as SqliteSynchronous;
    if (!options.readonly) migrate(this.db);
    this.s = prepareStatements(this.db);
    this.moderation = new SqliteModeration(this.db);
    this.push = new SqlitePush(this.db);
    this.mutes = new SqliteMutes(this.db);
    this.media = new SqliteMedia(this.db);
    if (options.backgroundCheckpointMs && options.path !== ':memory:' && !options.readonly) {
      this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
      this.db.pragma(`journal_size_limit = ${LOG_SIZE_LIMIT_BYTES}`);
      this.checkpointer = new WalCheckpointer(options.path, options.backgroundCheckpointMs);
    }
  }

  /**
   * Runs `fn` in one read transaction: the reads it makes see one snapshot. `fn` may be a
   * Store method: those do their reads before they return (their promise is already settled).
   */
  snapshot<T>(fn: () => T): T {
    this.db.exec('BEGIN');
    try {
      return fn();
    } finally {
      this.db.exec('COMMIT');
    }
  }

  /** What the background checkpointer did so far (undefined without one). */
  checkpointStats(): Promise<CheckpointStats | undefined> {
    return Promise.resolve(this.checkpointer?.stats);
  }

  // -- accounts ------------------------------------------------------------------------------

  userByPhone(phone: string): Promise<User | undefined> {
    return guard(() => {
      const r = this.s.userByPhone.get(phone) as
        | { id: string; phone: string; created_at: number }
        | undefined;
      return r && { id: r.id as UserId, phone: r.phone, createdAt: r.created_at };
    });
  }

  usersByPhoneHash(hashes: readonly Uint8Array[]) {
    return guard(() => {
      const out: Array<{ phoneHash: Uint8Array; userId: UserId }> = [];
      for (const h of hashes) {
        const r = this.s.userByPhoneHash.get(Buffer.from(h)) as { id: string } | undefined;
        if (r) out.push({ phoneHash: h, userId: r.id as UserId });
      }
      return out;
    });
  }

  userGet(userId: UserId): Promise<User | undefined> {
    return guard(() => {
      const r = this.s.userGet.get(userId) as { id: string; phone: string; created_at: number } | undefined;
      return r && { id: r.id as UserId, phone: r.phone, createdAt: r.created_at };
    });
  }

  accountErase(input: AccountErase): Promise<AccountErased> {
    return guard(
      this.db.transaction(() => {
        const chats = (this.s.chatIdsOfUser.all(input.userId) as Array<{ chat_id: string }>).map(
          (r) => r.chat_id as ChatId,
        );
        this.eraser ??= prepareEraser(this.db);
        const erased = this.eraser(input);
        for (const id of [...chats, ...erased.droppedChatIds]) this.forgetChat(id);
        return erased;
      }),
    );
  }

  mediaUploadRecord(mediaId: string, userId: UserId, now: number, avatar = false): Promise<void> {
    return guard(() => {
      this.s.mediaUploadRecord.run(mediaId, userId, now, avatar ? 1 : 0);
    });
  }

  mediaUploadsExpire(cutoff: number, limit: number): Promise<number> {
    return guard(() => this.s.mediaUploadsExpire.run(cutoff, limit).changes);
  }

  mediaAccess(mediaId: string, userId: UserId): Promise<MediaAccess> {
    return guard(() => this.media.access(mediaId, userId));
  }

  mediaKept(ids: readonly string[], uploadedSince: number, messagesSince: number): Promise<string[]> {
    return guard(() => this.media.kept(ids, uploadedSince, messagesSince));
  }

  mediaForget(ids: readonly string[]): Promise<number> {
    return guard(this.db.transaction(() => this.media.forget(ids)));
  }

  discoveryLookupsTake(input: DiscoveryLookupsTake): Promise<DiscoveryLookupsTaken> {
    return guard(
      this.db.transaction(() => {
        this.s.discoveryForget.run(input.userId, input.now - input.windowMs);
        const rows = this.s.discoveryOfUser.all(input.userId) as Array<{
          digest: string;
          looked_up_at: number;
        }>;
        const { answer, record } = decideLookups(
          rows.map((r) => ({ digest: r.digest, lookedUpAt: r.looked_up_at })),
          input,
        );
        for (const digest of record) this.s.discoveryInsert.run(input.userId, digest, input.now);
        return answer;
      }),
    );
  }

  discoveryLookupsExpire(cutoff: number, limit: number): Promise<number> {
    return guard(() => this.s.discoveryExpire.run(cutoff, limit).changes);
  }

  usersExist(userIds: readonly UserId[]): Promise<Set<UserId>> {
    return guard(() => new Set(userIds.filter((id) => this.s.userExists.get(id) !== undefined)));
  }

  primaryRegister(input: Parameters<Store['primaryRegister']>[0]) {
    return guard(
      this.db.transaction(() => {
        const existing = this.s.userByPhone.get(input.phone) as { id: string } | undefined;
        const userId = (existing?.id ?? input.userId) as UserId;
        if (!existing) this.s.userInsert.run(userId, input.phone, Buffer.from(input.phoneHash), input.now);
        const revoked = (this.s.primaryOf.all(userId) as Array<{ id: string }>).map((r) => r.id as DeviceId);
        for (const id of revoked) {
          this.s.deviceRevoke.run(input.now, id);
          this.s.cursorsDeleteDevice.run(id);
        }
        this.s.deviceInsert.run(input.deviceId, userId, 1, input.name, input.tokenHash, input.now, input.now);
        this.s.cursorsStartForDevice.run({ device: input.deviceId, user: userId });
        return { userId, revokedDeviceIds: revoked };
      }),
    );
  }

  deviceLink(input: Parameters<Store['deviceLink']>[0]): Promise<void> {
    return guard(
      this.db.transaction(() => {
        const { n } = this.s.deviceCount.get(input.userId) as { n: number };
        if (n >= input.maxDevices) {
          throw new ParleyError('DEVICE_LIMIT', `a user has at most ${input.maxDevices} devices`);
        }
        this.s.deviceInsert.run(
          input.deviceId,
          input.userId,
          0,
          input.name,
          input.tokenHash,
          input.now,
          input.now,
        );
        this.s.cursorsStartForDevice.run({ device: input.deviceId, user: input.userId });
      }),
    );
  }

  deviceByTokenHash(tokenHash: string): Promise<Device | undefined> {
    return guard(() => {
      const r = this.s.deviceByToken.get(tokenHash) as DeviceRow | undefined;
      return r && toDevice(r);
    });
  }

  devicesOfUsers(userIds: readonly UserId[]): Promise<Map<UserId, DeviceId[]>> {
    return guard(() => {
      const out = new Map<UserId, DeviceId[]>();
      for (const u of userIds) {
        const ids = (this.s.devicesOfUser.all(u) as Array<{ id: string }>).map((r) => r.id as DeviceId);
        if (ids.length) out.set(u, ids);
      }
      return out;
    });
  }

  deviceList(userId: UserId): Promise<Device[]> {
    return guard(() => (this.s.deviceListOfUser.all(userId) as DeviceRow[]).map(toDevice));
  }

  deviceRevoke(deviceId: DeviceId, now: number): Promise<boolean> {
    return guard(
      this.db.transaction(() => {
        const changed = this.s.deviceRevoke.run(now, deviceId).changes > 0;
        this.s.cursorsDeleteDevice.run(deviceId);
        return changed;
      }),
    );
  }

  devicesTouch(deviceIds: readonly DeviceId[], now: number): Promise<void> {
    return guard(() =>
      this.relaxed(() =>
        this.db.transaction(() => {
          for (const id of deviceIds) this.s.deviceTouch.run(now, id);
        })(),
      ),
    );
  }

  devicesRetireOrphans(cutoff: number, now: number): Promise<DeviceId[]> {
    return guard(
      this.db.transaction(() => {
        const ids = (this.s.orphanLinked.all(cutoff) as Array<{ id: string }>).map((r) => r.id as DeviceId);
        for (const id of ids) {
          this.s.deviceRevoke.run(now, id);
          this.s.cursorsDeleteDevice.run(id);
        }
        return ids;
      }),
    );
  }

  userPresenceGet(userId: UserId): Promise<UserPresenceRecord | undefined> {
    return guard(() => {
      const r = this.s.userPresence.get(userId) as
        | { last_seen_at: number; last_seen_visibility: LastSeenVisibility; read_receipts: number }
        | undefined;
      return (
        r && {
          lastSeenAt: r.last_seen_at,
          visibility: r.last_seen_visibility,
          readReceipts: r.read_receipts === 1,
        }
      );
    });
  }

  userLastSeenSet(userId: UserId, at: number): Promise<void> {
    return guard(() => this.relaxed(() => void this.s.userLastSeenSet.run(at, userId)));
  }

  userVisibilitySet(userId: UserId, visibility: LastSeenVisibility): Promise<void> {
    return guard(() => {
      this.s.userVisibilitySet.run(visibility, userId);
    });
  }

  usersSharingChat(userId: UserId, others: readonly UserId[]): Promise<Set<UserId>> {
    return guard(() => new Set(others.filter((o) => this.s.usersShareChat.get(userId, o) !== undefined)));
  }

  usersHaveDirectChat(a: UserId, b: UserId): Promise<boolean> {
    return guard(() => this.s.usersDirectChat.get(directKeyOf([a, b])) !== undefined);
  }

  // -- codes ------------------------------------------------------------------------------------

  codeGet(phone: string): Promise<OneTimeCode | undefined> {
    return guard(() => toCode(this.s.codeGet.get(phone) as CodeRow | undefined));
  }

  codePut(c: OneTimeCode): Promise<void> {
    return guard(() => {
      this.s.codePut.run(c.phone, c.codeHash, c.expiresAt, c.attempts, c.sentAt);
    });
  }

  codeAttemptTake(phone: string, now: number, maxAttempts: number): Promise<OneTimeCode | undefined> {
    return guard(() => toCode(this.s.codeAttemptTake.get(phone, maxAttempts, now) as CodeRow | undefined));
  }

  codeConsume(phone: string, codeHash: string): Promise<boolean> {
    return guard(() => this.s.codeConsume.run(phone, codeHash).changes === 1);
  }

  codeAttemptReturn(phone: string, codeHash: string): Promise<void> {
    return guard(() => {
      this.s.codeAttemptReturn.run(phone, codeHash);
    });
  }

  registrationLockGet(userId: UserId) {
    return guard(() => {
      const r = this.s.registrationLockGet.get(userId) as (LockRow & { last_seen_at: number }) | undefined;
      return r && { ...toLock(r)!, lastDeviceSeenAt: r.last_seen_at };
    });
  }

  registrationLockSet(userId: UserId, pinHash: string, now: number): Promise<void> {
    return guard(() => {
      this.s.registrationLockSet.run(userId, pinHash, now);
    });
  }

  registrationLockDelete(userId: UserId): Promise<boolean> {
    return guard(() => this.s.registrationLockDelete.run(userId).changes === 1);
  }

  registrationLockAttemptTake(userId: UserId, now: number, maxAttempts: number, lockoutMs: number) {
    return guard(() =>
      toLock(
        this.s.registrationLockAttemptTake.get({ user: userId, now, max: maxAttempts, lockout: lockoutMs }) as
          | LockRow
          | undefined,
      ),
    );
  }

  // -- profiles -----------------------------------------------------------------------------

  profilePut(input: { userId: UserId; version: number; ciphertext: Uint8Array; now: number }) {
    return guard((): StoredProfile => {
      const r = this.s.profilePut.get(input.userId, input.version, input.ciphertext, input.now) as
        | ProfileRow
        | undefined;
      if (!r) throw staleVersion(input.version);
      return toProfile(r);
    });
  }

  profilesGet(viewer: UserId, userIds: readonly UserId[]): Promise<StoredProfile[]> {
    return guard(() =>
      (this.s.profilesVisible.all({ viewer, users: JSON.stringify(userIds) }) as ProfileRow[]).map(toProfile),
    );
  }

  profileChanges(
    viewer: UserId,
    since: number,
    afterUserId: UserId | '',
    limit: number,
  ): Promise<ProfileVersionRecord[]> {
    return guard(() =>
      (this.s.profileChanges.all({ viewer, since, after: afterUserId, limit }) as ProfileVersionRow[]).map(
        toProfileVersion,
      ),
    );
  }

  profileAudience(userId: UserId): Promise<UserId[]> {
    return guard(() =>
      (this.s.profileAudience.all(userId) as Array<{ user_id: string }>).map((r) => r.user_id as UserId),
    );
  }

  registrationLockAttemptsReset(userId: UserId, pinHash: string): Promise<void> {
    return guard(() => {
      this.s.registrationLockAttemptsReset.run(userId, pinHash);
    });
  }

  linkCodePut(codeHash: string, userId: UserId, expiresAt: number): Promise<void> {
    return guard(() => {
      this.s.linkCodePut.run(codeHash, userId, expiresAt);
    });
  }

  linkCodeTake(codeHash: string, now: number): Promise<UserId | undefined> {
    return guard(() => {
      const r = this.s.linkCodeTake.get(codeHash) as { user_id: string; expires_at: number } | undefined;
      return r && r.expires_at > now ? (r.user_id as UserId) : undefined;
    });
  }

  // -- chats ------------------------------------------------------------------------------------

  chatCreate(input: ChatCreate): Promise<ChatInfo> {
    return guard(this.db.transaction(() => this.createOne(input)));
  }

  chatCreateBatch(inputs: readonly ChatCreate[]): Promise<ChatInfo[]> {
    return guard(this.db.transaction(() => inputs.map((input) => this.createOne(input))));
  }

  private createOne(input: ChatCreate): ChatInfo {
    for (const m of input.members) {
      if (this.s.userExists.get(m.userId) === undefined)
        throw new ParleyError('USER_NOT_FOUND', `unknown user ${m.userId}`);
    }
    if (!this.storeNewChat(input, 0)) {
      // The pair already has a direct chat: nothing is stored, that chat is the answer.
      const directKey = directKeyOf(input.members.map((m) => m.userId));
      const existing = this.s.chatByDirectKey.get(directKey) as { id: string };
      return this.chatRead(existing.id as ChatId)!;
    }
    return newChatInfo(input);
  }

  chatCreateMany(inputs: readonly ChatCreate[], options?: { ackedSeq?: number }): Promise<number> {
    return guard(() => {
      const acked = createdAckedSeq(options);
      return this.db.transaction(() => {
        let created = 0;
        for (const input of inputs) if (this.storeNewChat(input, acked)) created++;
        return created;
      })();
    });
  }

  /**
   * Stores a new chat with its members, their devices' cursors (acked at `acked`, the
   * creating device's at least at 1: its own CREATED update is nothing to deliver to it) and
   * its CREATED update as seq 1; false, storing nothing, when the pair already has a direct
   * chat.
   */
  private storeNewChat(input: ChatCreate, acked: number): boolean {
    this.forgetChat(input.chatId);
    const directKey = input.kind === 'direct' ? directKeyOf(input.members.map((m) => m.userId)) : null;
    const { changes } = this.s.chatInsert.run(
      input.chatId,
      input.kind,
      input.name,
      input.description,
      input.now,
      directKey,
    );
    if (changes === 0) return false;
    for (const m of input.members) {
      this.s.memberUpsert.run(input.chatId, m.userId, m.role, input.now, 1);
      this.s.cursorsStartForMember.run({
        chat: input.chatId,
        acked,
        user: m.userId,
        actor: input.createdByDevice,
        actorAcked: Math.max(acked, 1),
      });
    }
    this.s.messageInsert.run(
      input.chatId,
      1,
      input.createdBy,
      input.createdByDevice,
      updateClientId(input.chatId, 1),
      input.now,
      KIND_UPDATE,
      Buffer.from(input.update),
    );
    return true;
  }

  chatDirectFind(a: UserId, b: UserId): Promise<ChatId | undefined> {
    return guard(
      () => (this.s.chatByDirectKey.get(directKeyOf([a, b])) as { id: string } | undefined)?.id as ChatId,
    );
  }

  chatGet(chatId: ChatId): Promise<ChatInfo | undefined> {
    return guard(() => this.chatRead(chatId));
  }

  chatMembersPage(afterChatId: ChatId | '', limit: number): Promise<ChatMembership[]> {
    return guard(() => {
      const rows = this.s.chatMembersPage.all(afterChatId, limit) as Array<{
        id: string;
        kind: ChatKind;
        only_admins_send: number;
        user_id: string | null;
        role: Role | null;
      }>;
      const out: ChatMembership[] = [];
      for (const r of rows) {
        let c = out[out.length - 1];
        if (c?.chatId !== r.id) {
          c = { chatId: r.id as ChatId, kind: r.kind, onlyAdminsSend: r.only_admins_send === 1, members: [] };
          out.push(c);
        }
        if (r.user_id !== null) c.members.push({ userId: r.user_id as UserId, role: r.role! });
      }
      return out;
    });
  }

  chatMutate(m: ChatMutation): Promise<StoredMessage> {
    return guard(
      this.db.transaction(() => {
        this.forgetChat(m.chatId);
        // The chat first: an unknown chat is CHAT_NOT_FOUND whatever the mutation.
        const row = this.s.chatNextSeq.get(m.chatId) as { last_seq: number } | undefined;
        if (!row) throw new ParleyError('CHAT_NOT_FOUND', 'no such chat');
        const seq = row.last_seq;
        if (m.pin) this.checkPin(m.chatId, m.pin);
        if (m.unpinSeq !== undefined && this.s.pinDelete.run(m.chatId, m.unpinSeq).changes === 0) {
          throw new ParleyError('NOT_FOUND', 'that message is not pinned');
        }
        const clientId = updateClientId(m.chatId, seq);
        const body = Buffer.from(m.update);
        this.s.messageInsert.run(
          m.chatId,
          seq,
          m.actorUserId,
          m.actorDeviceId,
          clientId,
          m.now,
          KIND_UPDATE,
          body,
        );
        for (const a of m.addMembers ?? []) {
          this.s.memberUpsert.run(m.chatId, a.userId, a.role, m.now, seq);
          this.s.cursorsStartForMember.run({
            chat: m.chatId,
            acked: seq - 1,
            user: a.userId,
            actor: m.actorDeviceId,
            actorAcked: seq,
          });
        }
        if (m.addMembers?.length && m.maxMembers !== undefined) {
          checkGroupSize((this.s.memberCount.get(m.chatId) as { n: number }).n, m.maxMembers);
        }
        for (const u of m.removeUserIds ?? []) {
          this.s.memberDelete.run(m.chatId, u);
          this.s.cursorsEndForMember.run({ end: seq, chat: m.chatId, user: u });
        }
        if (m.setRole) this.s.memberSetRole.run(m.setRole.role, m.chatId, m.setRole.userId);
        if (m.name !== undefined) this.s.chatSetName.run(m.name, m.chatId);
        if (m.description !== undefined) this.s.chatSetDescription.run(m.description, m.chatId);
        if (m.iconMediaId !== undefined) this.s.chatSetIcon.run(m.iconMediaId, m.chatId);
        if (m.disappearingSeconds !== undefined) this.s.chatTimerSet.run(m.disappearingSeconds, m.chatId);
        if (m.pin) this.s.pinSet.run(m.chatId, m.pin.seq, m.actorUserId, m.pin.expiresAt);
        if (m.settings) {
          const flag = (v: boolean | undefined) => (v === undefined ? null : v ? 1 : 0);
          this.s.chatSetSettings.run(
            flag(m.settings.onlyAdminsSend),
            flag(m.settings.onlyAdminsEditInfo),
            m.chatId,
          );
        }
        return toMessage({
          chat_id: m.chatId,
          seq,
          sender_user: m.actorUserId,
          sender_device: m.actorDeviceId,
          client_id: clientId,
          server_time: m.now,
          kind: KIND_UPDATE,
          body,
        });
      }),
    );
  }

  private checkPin(chatId: ChatId, pin: { seq: number; now: number; max: number }): void {
    const t = this.s.messageTarget.get(chatId, pin.seq) as
      | { kind: number; msg_type: number; deleted: number }
      | undefined;
    if (!t || t.kind !== KIND_PAYLOAD || t.msg_type !== 0 || t.deleted) {
      throw new ParleyError('NOT_FOUND', `no message ${pin.seq} to pin in this chat`);
    }
    const active = this.s.pinsActive.all(chatId, pin.now) as Array<{ seq: number }>;
    if (!active.some((p) => p.seq === pin.seq) && active.length >= pin.max) {
      throw new ParleyError('TOO_MANY_PINS', `a chat has at most ${pin.max} pinned messages`);
    }
  }

  pinsActive(chatId: ChatId, now: number): Promise<PinInfo[]> {
    return guard(() =>
      (
        this.s.pinsActive.all(chatId, now) as Array<{ seq: number; pinned_by: string; expires_at: number }>
      ).map((r) => ({
        seq: r.seq,
        pinnedBy: r.pinned_by as UserId,
        expiresAt: r.expires_at,
      })),
    );
  }

  inviteSet(chatId: ChatId, code: string, createdBy: UserId, now: number): Promise<void> {
    return guard(() => {
      this.s.inviteSet.run(chatId, code, createdBy, now);
    });
  }

  inviteRevoke(chatId: ChatId): Promise<boolean> {
    return guard(() => this.s.inviteDelete.run(chatId).changes > 0);
  }

  inviteFind(code: string): Promise<ChatId | undefined> {
    return guard(
      () => (this.s.inviteFind.get(code) as { chat_id: string } | undefined)?.chat_id as ChatId | undefined,
    );
  }

  chatReadMark(
    chatId: ChatId,
    userId: UserId,
    seq: number,
    now: number,
  ): Promise<{ readSeq: number; unreadCount: number; change: ReceiptChange | undefined }> {
    return guard(
      this.db.transaction(() => {
        const change = this.advanceReceipt(chatId, userId, seq, seq, now);
        if (change === null) throw new ParleyError('NOT_A_MEMBER', 'you are not a member of this chat');
        const pos = this.s.memberPosition.get(chatId, userId) as { read_seq: number; joined_seq: number };
        return {
          readSeq: pos.read_seq,
          unreadCount: this.unread(chatId, userId, pos.read_seq, pos.joined_seq),
          change,
        };
      }),
    );
  }

  receiptsDelivered(
    items: ReadonlyArray<{ chatId: ChatId; userId: UserId; seq: number }>,
    now: number,
  ): Promise<ReceiptChange[]> {
    // Like acks, delivered positions can be re-derived from a redelivery: no disk sync.
    return guard(() => this.relaxed(() => this.db.transaction(() => this.deliver(items, now))()));
  }

  acksPersist(
    acks: ReadonlyArray<{ deviceId: DeviceId; userId: UserId; chatId: ChatId; seq: number }>,
    now: number,
  ): Promise<ReceiptChange[]> {
    if (acks.length === 0) return Promise.resolve([]);
    if (acks.length <= ACK_SLICE) return guard(() => this.persistAcks(acks, now, newReceiptPass()));
    return this.persistAckSlices(acks, now);
  }

  /**
   * A flush of many acks (a busy group's 1,000 members) in slices of `ACK_SLICE`, each its
   * own transaction, with a turn of the event loop between them: a message commit that
   * arrives meanwhile runs after the slice in progress instead of after the whole flush.
   * A member's acks share a slice (`ackSlices`), so each ack's cursor and its member's
   * delivered position move together, and a member is reported once. The pass is
   * shared: what it remembers (a range's senders, the stamps written) stays true across
   * the slices.
   */
  private async persistAckSlices(
    acks: ReadonlyArray<{ deviceId: DeviceId; userId: UserId; chatId: ChatId; seq: number }>,
    now: number,
  ): Promise<ReceiptChange[]> {
    const pass = newReceiptPass();
    const out: ReceiptChange[] = [];
    const slices = ackSlices(acks);
    for (let i = 0; i < slices.length; i++) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      out.push(...(await guard(() => this.persistAcks(slices[i]!, now, pass))));
    }
    return out;
  }

  private persistAcks(
    acks: ReadonlyArray<{ deviceId: DeviceId; userId: UserId; chatId: ChatId; seq: number }>,
    now: number,
    pass: ReceiptPass,
  ): ReceiptChange[] {
    return this.relaxed(() =>
      this.db.transaction(() => {
        this.advanceCursors(highestAcks(acks));
        return this.deliver(highestPerMember(acks), now, pass);
      })(),
    );
  }

  /** Runs `fn` without the disk sync (for writes that a redelivery re-derives). */
  private relaxed<T>(fn: () => T): T {
    const relax = this.synchronous !== 'OFF';
    if (relax) this.db.pragma('synchronous = OFF');
    try {
      return fn();
    } finally {
      if (relax) this.db.pragma(`synchronous = ${this.synchronous}`);
    }
  }

  /** Delivered positions from acks, inside the caller's transaction. */
  private deliver(
    items: ReadonlyArray<{ chatId: ChatId; userId: UserId; seq: number }>,
    now: number,
    pass: ReceiptPass = newReceiptPass(),
  ) {
    const out: ReceiptChange[] = [];
    for (const it of items) {
      const c = this.advanceReceipt(it.chatId, it.userId, it.seq, 0, now, pass);
      if (c) out.push(c);
    }
    return out;
  }

  /**
   * Moves a member's delivered (and read) position forward, capped at the chat's last seq,
   * and records a mark per moved kind. Null when not a member; undefined when nothing moved.
   * View-once messages from others that the move covers lose their payload (they were
   * delivered to one of this member's devices).
   */
  private advanceReceipt(
    chatId: ChatId,
    userId: UserId,
    delivered: number,
    read: number,
    now: number,
    pass: ReceiptPass = newReceiptPass(),
  ): ReceiptChange | undefined | null {
    const m = this.s.memberReceipts.get(chatId, userId) as
      | { delivered_seq: number; read_seq: number }
      | undefined;
    if (!m) return null;
    const p: ReceiptPosition = { ...m, last_seq: this.lastSeq(chatId) };
    const moved = advancedReceipt(p, delivered, read);
    if (!moved) return undefined;
    const { deliveredSeq, readSeq } = moved;
    this.s.receiptPositionSet.run(deliveredSeq, readSeq, now, chatId, userId);
    if (deliveredSeq > p.delivered_seq) this.s.receiptMark.run(chatId, userId, 1, deliveredSeq, now);
    if (readSeq > p.read_seq) this.s.receiptMark.run(chatId, userId, 2, readSeq, now);
    const from = coveredFrom({ deliveredSeq: p.delivered_seq, readSeq: p.read_seq }, moved);
    const rangeKey = `${chatId}\t${from}\t${deliveredSeq}`;
    let rows = pass.ranges.get(rangeKey);
    if (!rows) {
      rows = this.s.receiptRange.all(chatId, from, deliveredSeq) as RangeRow[];
      pass.ranges.set(rangeKey, rows);
    }
    const senders = new Set<string>();
    for (const r of rows) {
      if (r.kind === KIND_PAYLOAD && !senders.has(r.sender_user)) {
        senders.add(r.sender_user);
        // On the page of the row just moved (a chat's member rows sit together).
        const memberKey = `${chatId}\t${r.sender_user}`;
        if (r.sender_user !== userId && !pass.stampedMembers.has(memberKey)) {
          pass.stampedMembers.add(memberKey);
          this.s.sentReceiptMoved.run({ at: now, chat: chatId, user: r.sender_user });
          if (!pass.stampedUsers.has(r.sender_user)) {
            pass.stampedUsers.add(r.sender_user);
            this.s.userSentReceiptMoved.run({ at: now, user: r.sender_user });
          }
        }
      }
      if (r.view_once === 1 && r.seq > p.delivered_seq && r.sender_user !== userId) {
        if (!r.no_body) {
          this.s.messageBodyClear.run(chatId, r.seq);
          r.no_body = 1;
        }
        this.s.payloadsDelete.run(chatId, r.seq);
      }
    }
    const list = [...senders].map((sender_user) => ({ sender_user }));
    return receiptChange(p, moved, { chatId, userId, now }, list);
  }

  receiptSenders(chatId: ChatId, afterSeq: number, upToSeq: number): Promise<UserId[]> {
    return guard(() =>
      (this.s.sendersInRange.all(chatId, afterSeq, upToSeq) as Array<{ sender_user: string }>).map(
        (r) => r.sender_user as UserId,
      ),
    );
  }

  messageSender(chatId: ChatId, seq: number): Promise<UserId | undefined> {
    return guard(() => {
      const r = this.s.messageSender.get(chatId, seq) as { sender_user: string; kind: number } | undefined;
      return r && r.kind === KIND_PAYLOAD ? (r.sender_user as UserId) : undefined;
    });
  }

  receiptDetails(chatId: ChatId, seq: number) {
    return guard(() =>
      (
        this.s.receiptDetails.all({ chat: chatId, seq }) as Array<{
          user_id: string;
          delivered_at: number | null;
          read_at: number | null;
        }>
      ).map((r) => ({
        userId: r.user_id as UserId,
        deliveredAt: r.delivered_at ?? undefined,
        readAt: r.read_at ?? undefined,
      })),
    );
  }

  receiptsSince(userId: UserId, since: number): Promise<ReceiptState[]> {
    return guard(() => this.receiptsSinceNow(userId, since));
  }

  receiptsSinceMany(asks: ReadonlyArray<{ userId: UserId; since: number }>): Promise<ReceiptState[][]> {
    return guard(() =>
      this.db.transaction(() => asks.map((a) => this.receiptsSinceNow(a.userId, a.since)))(),
    );
  }

  private receiptsSinceNow(userId: UserId, since: number): ReceiptState[] {
    // Nothing moved for this user since then (the usual connect): one row, not one per chat.
    const stamp = this.s.userSentReceiptAt.get(userId) as { sent_receipt_at: number } | undefined;
    if (!stamp || stamp.sent_receipt_at <= since) return [];
    return (
      this.s.receiptsSince.all({ user: userId, since }) as Array<{
        chat_id: string;
        user_id: string;
        delivered_seq: number;
        read_seq: number;
        at: number;
      }>
    ).map((r) => ({
      chatId: r.chat_id as ChatId,
      userId: r.user_id as UserId,
      deliveredSeq: r.delivered_seq,
      readSeq: r.read_seq,
      at: r.at,
    }));
  }

  userReadReceiptsSet(userId: UserId, on: boolean): Promise<void> {
    return guard(() => {
      this.s.userReadReceiptsSet.run(on ? 1 : 0, userId);
    });
  }

  chatSummaries(userId: UserId, chatIds?: readonly ChatId[]): Promise<ChatSummary[]> {
    return guard(() => {
      const ids =
        chatIds ??
        (this.s.chatIdsOfUser.all(userId) as Array<{ chat_id: string }>).map((r) => r.chat_id as ChatId);
      const out: ChatSummary[] = [];
      for (const id of ids) {
        const chat = this.chatRead(id);
        const pos = this.s.memberPosition.get(id, userId) as
          | { read_seq: number; joined_seq: number; muted_until: number }
          | undefined;
        if (!chat || !pos) continue;
        const last = this.s.lastMessage.get(id, userId) as
          | { seq: number; sender_user: string; server_time: number; kind: number }
          | undefined;
        out.push({
          ...chat,
          readSeq: pos.read_seq,
          mutedUntil: pos.muted_until,
          unreadCount: this.unread(id, userId, pos.read_seq, pos.joined_seq),
          unreadMentions: (
            this.s.unreadMentions.get({
              chat: id,
              after: Math.max(pos.read_seq, pos.joined_seq - 1),
              user: userId,
            }) as { n: number }
          ).n,
          lastMessage: last && {
            seq: last.seq,
            senderUserId: last.sender_user as UserId,
            serverTime: last.server_time,
            isUpdate: last.kind === KIND_UPDATE,
          },
        });
      }
      return out;
    });
  }

  /** Payload messages from others the member can see (joined at `joinedSeq`) after `readSeq`. */
  private unread(chatId: ChatId, userId: UserId, readSeq: number, joinedSeq: number): number {
    return (this.s.unreadCount.get(chatId, Math.max(readSeq, joinedSeq - 1), userId) as { n: number }).n;
  }

  private chatRead(chatId: ChatId): ChatInfo | undefined {
    const c = this.s.chatGet.get(chatId) as ChatRowFields | undefined;
    if (!c) return undefined;
    const members = (
      this.s.membersOf.all(chatId) as Array<{ user_id: string; role: Role; joined_at: number }>
    ).map((r): MemberInfo => ({ userId: r.user_id as UserId, role: r.role, joinedAt: r.joined_at }));
    return toChatInfo(c, members);
  }

  // -- messages -------------------------------------------------------------------------------------

  messageCommit(batch: readonly SendCommit[]): Promise<CommitResult[]> {
    return guard(
      this.db.transaction(() => {
        try {
          const results = batch.map((b) => this.commitOne(b));
          this.push.recordJobs(batch, results);
          return results;
        } catch (err) {
          // The transaction rolls back: forget sequence numbers taken in it.
          this.seqCache.clear();
          throw err;
        }
      }),
    );
  }

  /**
   * This process is the only writer of its database, so each chat's last seq and member
   * set are cached here; every write to them goes through this class and updates the cache.
   */
  private lastSeq(chatId: ChatId): number {
    let seq = this.seqCache.get(chatId);
    if (seq === undefined) {
      seq = (this.s.chatLastSeq.get(chatId) as { last_seq: number }).last_seq;
      this.seqCache.set(chatId, seq);
    }
    return seq;
  }

  private forgetChat(chatId: ChatId): void {
    this.seqCache.delete(chatId);
    this.chatFacts.forget(chatId);
  }

  private commitOne(b: SendCommit): CommitResult {
    const facts = this.chatFacts.get(b.chatId);
    if (!facts || !isMember(facts.members, b.senderUserId)) {
      // A repeat of an accepted send still gets its first answer, even after leaving.
      const dup = this.s.messageByClientId.get(b.senderDeviceId, b.clientMessageId) as
        | { seq: number; server_time: number }
        | undefined;
      if (dup) return { ok: true, seq: dup.seq, serverTime: dup.server_time, duplicate: true };
      return { ok: false, code: facts ? 'NOT_A_MEMBER' : 'CHAT_NOT_FOUND' };
    }
    if (b.meta) {
      const refused = this.checkMeta(b, facts.members);
      if (refused) return refused;
    }
    const seq = this.lastSeq(b.chatId) + 1;
    const body = b.payload ? Buffer.from(b.payload.buffer, b.payload.byteOffset, b.payload.byteLength) : null;
    const inserted = this.s.messageInsertOrIgnore.run(
      b.chatId,
      seq,
      b.senderUserId,
      b.senderDeviceId,
      b.clientMessageId,
      b.serverTime,
      KIND_PAYLOAD,
      body,
    ).changes;
    if (inserted === 0) {
      const dup = this.s.messageByClientId.get(b.senderDeviceId, b.clientMessageId) as
        | { seq: number; server_time: number }
        | undefined;
      if (!dup) throw new ParleyError('INTERNAL', `sequence cache out of step for chat ${b.chatId}`);
      return { ok: true, seq: dup.seq, serverTime: dup.server_time, duplicate: true };
    }
    // This row's seq is the chat's last seq (migration 023): the chat's row is not written.
    this.seqCache.set(b.chatId, seq);
    if (b.meta) this.applyMeta(b, b.meta, seq);
    if (b.mediaIds && b.mediaIds.length > 0) this.media.refsInsert(b.chatId, seq, b.mediaIds);
    if (b.withheld) this.s.messageWithhold.run(b.chatId, seq);
    const timer = facts.timer;
    const expiresAt = timer > 0 ? b.serverTime + timer * 1000 : 0;
    if (expiresAt > 0 || b.meta?.viewOnce) {
      this.s.messageExtrasSet.run(b.meta?.viewOnce ? 1 : 0, expiresAt, b.chatId, seq);
    }
    if (b.devicePayloads) {
      for (const [deviceId, p] of b.devicePayloads) {
        this.s.payloadInsert.run(b.chatId, seq, deviceId, Buffer.from(p.buffer, p.byteOffset, p.byteLength));
      }
    }
    return {
      ok: true,
      seq,
      serverTime: b.serverTime,
      duplicate: false,
      ...(expiresAt > 0 && { expiresAt }),
    };
  }

  /** Validates an edit / delete / reaction / reply against its target, in the transaction. */
  private checkMeta(b: SendCommit, members: MemberIds): CommitResult | undefined {
    const m = b.meta!;
    const refuse = (code: Extract<CommitResult, { ok: false }>['code'], message: string): CommitResult => ({
      ok: false,
      code,
      message,
    });
    for (const u of m.mentions)
      if (!isMember(members, u)) return refuse('INVALID_ARGUMENT', 'mentions must name members');
    if (m.type === 'message' && m.refSeq === 0) return undefined;
    const t = this.s.messageTarget.get(b.chatId, m.refSeq) as TargetRow | undefined;
    const sender =
      m.type === 'delete'
        ? (this.s.memberRole.get(b.chatId, b.senderUserId) as { role: string; kind: string } | undefined)
        : undefined;
    return targetRefusal(b, m, t, {
      ...(sender && { role: sender.role, direct: sender.kind === 'direct' }),
      ...(needsOtherReactions(m) && {
        otherReactions: (
          this.s.reactionsOther.all(b.chatId, m.refSeq, b.senderUserId) as Array<{ emoji: string }>
        ).map((r) => r.emoji),
      }),
    });
  }

  private applyMeta(b: SendCommit, m: MessageMeta, seq: number): void {
    this.s.messageMetaSet.run(
      TYPES.indexOf(m.type),
      m.refSeq,
      m.reaction,
      m.mentions.join(','),
      m.forwardCount,
      b.chatId,
      seq,
    );
    if (m.type === 'delete') {
      this.media.refsWipe(b.chatId, m.refSeq);
      this.s.messageWipe.run(b.chatId, m.refSeq);
      this.s.payloadsDelete.run(b.chatId, m.refSeq);
      this.s.editsWipe.run(b.chatId, m.refSeq);
      this.s.editPayloadsDelete.run({ chat: b.chatId, ref: m.refSeq });
    } else if (m.type === 'reaction') {
      if (m.reaction === '') this.s.reactionDelete.run(b.chatId, m.refSeq, b.senderUserId);
      else this.s.reactionSet.run(b.chatId, m.refSeq, b.senderUserId, m.reaction);
    }
  }

  cursorsOf(deviceId: DeviceId): Promise<DeviceCursors> {
    return guard(() => {
      const out = emptyCursors();
      // Two strings built by SQLite: no row, and no object per chat.
      const row = this.s.cursorsOf.get(deviceId) as { caught_up: string | null; pending: string | null };
      out.caughtUp = row.caught_up ?? '';
      if (row.pending) addEncodedCursors(out, row.pending);
      return out;
    });
  }

  messagesRead(
    deviceId: DeviceId,
    chatId: ChatId,
    afterSeq: number,
    upToSeq: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    return guard(() =>
      (
        this.s.messagesRead.all({
          device: deviceId,
          chat: chatId,
          after: afterSeq,
          upTo: upToSeq,
          limit,
        }) as MessageRow[]
      ).map(toMessage),
    );
  }

  cursorsAck(acks: ReadonlyArray<{ deviceId: DeviceId; chatId: ChatId; seq: number }>): Promise<number> {
    const highest = highestAcks(acks);
    if (highest.length === 0) return Promise.resolve(0);
    // An ack lost to a power cut only means a redelivery, which clients remove by seq, so
    // ack transactions skip the disk sync (the next message commit syncs the WAL anyway).
    return guard(() => this.relaxed(() => this.db.transaction(() => this.advanceCursors(highest))()));
  }

  /** Moves cursors inside the caller's transaction; returns how many moved. */
  private advanceCursors(acks: ReadonlyArray<{ deviceId: DeviceId; chatId: ChatId; seq: number }>): number {
    let moved = 0;
    for (const a of acks) {
      const row = this.s.cursorAdvance.get(a.seq, a.deviceId, a.chatId, a.seq) as
        | { end_seq: number | null }
        | undefined;
      if (!row) continue;
      moved++;
      if (row.end_seq !== null && a.seq >= row.end_seq) this.s.cursorDeleteEnded.run(a.deviceId, a.chatId);
    }
    return moved;
  }

  messagesHistory(
    deviceId: DeviceId,
    chatId: ChatId,
    range: { beforeSeq?: number; afterSeq?: number; limit: number },
  ) {
    return guard(() => {
      const rows =
        range.afterSeq !== undefined
          ? this.s.historyAfter.all({
              device: deviceId,
              chat: chatId,
              after: range.afterSeq,
              limit: range.limit,
            })
          : this.s.historyBefore.all({
              device: deviceId,
              chat: chatId,
              before: range.beforeSeq ?? Number.MAX_SAFE_INTEGER,
              limit: range.limit,
            });
      return (rows as MessageRow[]).map(toMessage);
    });
  }

  messagesExpire(cutoff: number, limit: number, now?: number): Promise<number> {
    return guard(
      this.db.transaction(() => {
        const keys = this.s.expiredKeys.all(cutoff, limit) as Array<{ chat_id: string; seq: number }>;
        if (now !== undefined && keys.length < limit) {
          keys.push(
            ...(this.s.timerExpiredKeys.all(now, limit - keys.length) as Array<{
              chat_id: string;
              seq: number;
            }>),
          );
        }
        for (const k of keys) {
          this.s.payloadsDelete.run(k.chat_id, k.seq);
          this.media.refsOfMessageDelete(k.chat_id as ChatId, k.seq);
          this.s.messageDelete.run(k.chat_id, k.seq);
        }
        // Receipt marks go with the last message they cover.
        for (const chat of new Set(keys.map((k) => k.chat_id))) this.s.receiptMarksTrim.run({ chat });
        return keys.length;
      }),
    );
  }

  // -- key directory -------------------------------------------------------------------------

  keysUpload(input: KeysUploadInput): Promise<{ oneTimeCount: number }> {
    return guard(
      this.db.transaction(() => {
        const id = input.deviceId;
        const row = this.s.keysGet.get(id) as KeyRow | undefined;
        if (!row) {
          const { identityKey, registrationId, sp, lr } = firstUploadKeys(input);
          this.s.keysInsert.run(
            id,
            identityKey,
            registrationId,
            sp.id,
            sp.publicKey,
            sp.signature,
            lr.id,
            lr.publicKey,
            lr.signature,
            input.now,
          );
        } else {
          checkSameIdentity(row, input);
          const sp = input.signedPreKey;
          if (sp) this.s.keysSetSigned.run(sp.id, sp.publicKey, sp.signature, input.now, id);
          const lr = input.lastResortKey;
          if (lr) this.s.keysSetLastResort.run(lr.id, lr.publicKey, lr.signature, input.now, id);
        }
        if (input.replaceOneTime) this.s.oneTimeDeleteAll.run(id);
        const { n } = this.s.oneTimeCount.get(id) as { n: number };
        if (n + input.oneTimePreKeys.length > input.maxOneTime) {
          throw new ParleyError(
            'INVALID_ARGUMENT',
            `a device stores at most ${input.maxOneTime} one-time prekeys`,
          );
        }
        for (const k of input.oneTimePreKeys) {
          try {
            this.s.oneTimeInsert.run(id, k.id, k.publicKey);
          } catch (err) {
            if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) {
              throw new ParleyError('INVALID_ARGUMENT', `one-time prekey ${k.id} was already uploaded`);
            }
            throw err;
          }
        }
        return { oneTimeCount: n + input.oneTimePreKeys.length };
      }),
    );
  }

  keysTakeBundles(take: BundleTake): Promise<PreKeyBundleRecord[]> {
    const only = take.deviceIds && new Set<string>(take.deviceIds);
    return guard(
      this.db.transaction(() =>
        (this.s.keysOfUser.all(take.userId) as KeyRow[])
          .filter((row) => !only || only.has(row.device_id))
          .map((row) => {
            const otk = this.takeOneTime(row.device_id, take);
            const { n } = this.s.oneTimeCount.get(row.device_id) as { n: number };
            return bundleOf(take.userId, row, otk, n);
          }),
      ),
    );
  }

  /** The device's next one-time prekey if the requester may have one now (recording the grant). */
  private takeOneTime(deviceId: string, take: BundleTake) {
    this.s.grantsPrune.run(deviceId, grantsCutoff(take));
    const seen = this.s.grantsSeen.get({
      device: deviceId,
      requester: take.requester,
      hourAgo: take.now - HOUR_MS,
    }) as GrantsSeen;
    if (!oneTimeAllowed(take, seen)) return undefined;
    const otk = this.s.oneTimeFirst.get(deviceId) as { key_id: number; public_key: Buffer } | undefined;
    if (otk) {
      this.s.oneTimeDelete.run(deviceId, otk.key_id);
      this.s.grantRecord.run(deviceId, take.requester, take.now);
    }
    return otk;
  }

  keysOneTimeCount(deviceId: DeviceId): Promise<number> {
    return guard(() => (this.s.oneTimeCount.get(deviceId) as { n: number }).n);
  }

  keysOneTimeCounts(deviceIds: readonly DeviceId[]): Promise<Map<DeviceId, number>> {
    return guard(() =>
      this.db.transaction(() => {
        const counts = new Map<DeviceId, number>();
        for (const id of deviceIds) {
          const row = this.s.oneTimeCountKeyed.get(id) as { n: number } | undefined;
          if (row) counts.set(id, row.n);
        }
        return counts;
      })(),
    );
  }

  keysIdentities(userIds: readonly UserId[]): Promise<DeviceIdentity[]> {
    return guard(() =>
      [...new Set(userIds)].flatMap((userId) =>
        (this.s.keysOfUser.all(userId) as KeyRow[]).map((r) => identityOf(userId, r)),
      ),
    );
  }

  // -- blocking, reports and moderation ----------------------------------------------------

  // -- mutes and do-not-disturb --------------------------------------------------------------

  chatMuteSet(chatId: ChatId, userId: UserId, until: number): Promise<boolean> {
    return guard(() => this.mutes.chatMuteSet(chatId, userId, until));
  }

  doNotDisturbSet(userId: UserId, until: number): Promise<boolean> {
    return guard(() => this.mutes.doNotDisturbSet(userId, until));
  }

  alertSettings(userId: UserId, chatId?: ChatId): Promise<AlertSettings> {
    return guard(() => this.mutes.alertSettings(userId, chatId));
  }

  blockAdd(userId: UserId, blockedUserId: UserId, now: number, max: number): Promise<boolean> {
    return guard(() => this.moderation.blockAdd(userId, blockedUserId, now, max));
  }

  blockRemove(userId: UserId, blockedUserId: UserId): Promise<boolean> {
    return guard(() => this.moderation.blockRemove(userId, blockedUserId));
  }

  blocksOf(userId: UserId): Promise<BlockEntry[]> {
    return guard(() => this.moderation.blocksOf(userId));
  }

  blocksPage(
    after: { userId: UserId; blockedUserId: UserId } | undefined,
    limit: number,
  ): Promise<Array<{ userId: UserId; blockedUserId: UserId }>> {
    return guard(() => this.moderation.blocksPage(after, limit));
  }

  reportCreate(report: Omit<ReportRecord, 'status' | 'resolvedAt' | 'resolution'>): Promise<void> {
    return guard(() => this.moderation.reportCreate(report));
  }

  reportsList(query: { status?: ReportStatus; limit: number }): Promise<ReportRecord[]> {
    return guard(() => this.moderation.reportsList(query));
  }

  reportGet(id: string): Promise<ReportRecord | undefined> {
    return guard(() => this.moderation.reportGet(id));
  }

  reportResolve(id: string, now: number, resolution: string): Promise<boolean> {
    return guard(() => this.moderation.reportResolve(id, now, resolution));
  }

  userSuspend(userId: UserId, now: number, reason: string): Promise<boolean> {
    return guard(() => this.moderation.userSuspend(userId, now, reason));
  }

  userUnsuspend(userId: UserId): Promise<boolean> {
    return guard(() => this.moderation.userUnsuspend(userId));
  }

  userSuspension(userId: UserId): Promise<{ at: number; reason: string } | undefined> {
    return guard(() => this.moderation.userSuspension(userId));
  }

  usersSuspendedSince(since: number, limit: number): Promise<Array<{ userId: UserId; at: number }>> {
    return guard(() => this.moderation.usersSuspendedSince(since, limit));
  }

  auditRecord(entry: AuditEntry): Promise<void> {
    return guard(() => this.moderation.auditRecord(entry));
  }

  auditList(limit: number): Promise<AuditEntry[]> {
    return guard(() => this.moderation.auditList(limit));
  }

  adminStats(): Promise<AdminStats> {
    return guard(() => this.moderation.stats());
  }

  // -- push outbox (sqlite/push.ts) ---------------------------------------------------------

  pushRegister(...a: Parameters<Store['pushRegister']>) {
    return guard(() => this.push.pushRegister(...a));
  }
  pushUnregister(...a: Parameters<Store['pushUnregister']>) {
    return guard(() => this.push.pushUnregister(...a));
  }
  pushRegistrationGet(...a: Parameters<Store['pushRegistrationGet']>) {
    return guard(() => this.push.pushRegistrationGet(...a));
  }
  pushRegisteredPage(...a: Parameters<Store['pushRegisteredPage']>) {
    return guard(() => this.push.pushRegisteredPage(...a));
  }
  pushJobsLease(...a: Parameters<Store['pushJobsLease']>) {
    return guard(() => this.push.pushJobsLease(...a));
  }
  pushJobsFinish(...a: Parameters<Store['pushJobsFinish']>) {
    return guard(() => this.push.pushJobsFinish(...a));
  }
  pushStatus(...a: Parameters<Store['pushStatus']>) {
    return guard(() => this.push.pushStatus(...a));
  }
  pushDeadRetry(...a: Parameters<Store['pushDeadRetry']>) {
    return guard(() => this.push.pushDeadRetry(...a));
  }

  ping(): Promise<void> {
    return guard(() => {
      this.db.prepare('SELECT 1').get();
    });
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    return guard(() => {
      if (this.db.open) this.db.close();
    });
  }
}

interface DeviceRow {
  id: string;
  user_id: string;
  is_primary: number;
  name: string;
  created_at: number;
  last_seen_at: number;
  suspended_at?: number | null;
}

function toDevice(r: DeviceRow): Device {
  return {
    id: r.id as DeviceId,
    userId: r.user_id as UserId,
    primary: r.is_primary === 1,
    name: r.name,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    ...(r.suspended_at != null && { suspendedAt: r.suspended_at }),
  };
}
