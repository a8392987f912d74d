/**
 * The PostgreSQL Store, for several nodes sharing one database. Nothing about chats is
 * cached between calls (any node may have changed it); ordering and idempotency come from
 * row locks and unique indexes, so they hold across nodes. Every call commits with
 * synchronous_commit on, except acks and delivered receipts, which the port lets skip the
 * WAL flush. Import this module with a dynamic import(), so the embedded mode never loads pg.
 */
import { ParleyError } from '@parley/protocol';
import type pg from 'pg';
import type { Logger } from '../../../log.js';
import type { PushPlatform } from '../../../ports/push.js';
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
  addCursor,
  type ChatId,
  type ChatInfo,
  type ChatKind,
  type ChatSummary,
  type Device,
  type DeviceCursors,
  type DeviceId,
  type DeviceIdentity,
  emptyCursors,
  type LastSeenVisibility,
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
import { type LockRow, toLock } from '../lock-rows.js';
import { createdAckedSeq, highestAcks, highestPerMember } from '../message-rules.js';
import {
  type ProfileRow,
  type ProfileVersionRow,
  staleVersion,
  toProfile,
  toProfileVersion,
} from '../profile-rows.js';
import { type RegistrationRow, targetOf } from '../push-rows.js';
import { type AuditRow, blockListFull, type ReportRow, toAudit, toReport } from '../report-rows.js';
import {
  chatRead,
  chatSummaries,
  createChat,
  createChats,
  mutateChat,
  requireMembersExist,
} from './chats.js';
import { commitBatch } from './commit.js';
import { createPool, type Db, poolDb, transaction, withClient } from './db.js';
import { checkPostgresDurability, type PostgresDurability } from './durability.js';
import { eraseAccount } from './erase.js';
import { toStoreError } from './errors.js';
import { identities, takeBundles, uploadKeys } from './keys.js';
import { applyMigrations, type MigrateResult } from './migrate.js';
import { pushJobsFinish, pushJobsLease, pushRegister, pushStatus, pushUnregister } from './push.js';
import { delivered, readMark } from './receipts.js';
import {
  buf,
  type DeviceRow,
  directKeyOf,
  KIND_PAYLOAD,
  type MessageRow,
  toDevice,
  toMessage,
} from './rows.js';

export { checkPostgresDurability, type PostgresDurability } from './durability.js';
export { migrate } from './migrate.js';

export interface PostgresStoreOptions {
  /** Schema holding the tables (created if missing); the connection's default when absent. */
  schema?: string;
  /** Connections in this node's pool (default 10). */
  poolSize?: number;
  /**
   * Longest a statement may run, in ms (default 30 000); past it the call fails with a
   * retryable UNAVAILABLE. 0 leaves the server's statement_timeout (off unless set there).
   */
  statementTimeoutMs?: number;
  /**
   * Longest a statement may wait for a lock (a row another node holds), in ms (default
   * 10 000); past it the call fails with a retryable UNAVAILABLE. 0 leaves the server's
   * lock_timeout (off unless set there).
   */
  lockTimeoutMs?: number;
  /** Open even when the server may lose commits on power loss (see durability.ts). */
  allowUnsafeDurability?: boolean;
  log?: Pick<Logger, 'warn'>;
}

export class PostgresStore implements Store {
  private readonly db: Db;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    /** What the durability check at open found. */
    readonly durability: PostgresDurability,
    /** What the migrations at open did. */
    readonly migrations: MigrateResult,
  ) {
    this.db = poolDb(pool);
  }

  /**
   * Connects, refuses a server that may lose commits on power loss (INVALID_ARGUMENT with
   * details.reason UNSAFE_DURABILITY) unless allowed, and applies pending migrations.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    let pool: pg.Pool | undefined;
    try {
      pool = createPool(url, options);
      // An idle connection that fails is dropped and replaced by the pool; without a
      // listener the error would crash the process.
      pool.on('error', (err) => options.log?.warn({ err }, 'idle PostgreSQL connection failed'));
      const durability = await checkPostgresDurability(pool);
      if (durability.problem !== undefined) {
        if (!options.allowUnsafeDurability) {
          throw new ParleyError(
            'INVALID_ARGUMENT',
            `${durability.problem}; acknowledged messages could be lost on power loss. Fix the server setting, or set allowUnsafeDurability=true to accept that`,
            {
              details: {
                reason: 'UNSAFE_DURABILITY',
                synchronousCommit: durability.synchronousCommit,
                fsync: durability.fsync,
              },
            },
          );
        }
        options.log?.warn(
          { problem: durability.problem },
          'PostgreSQL durability is unsafe (allowed by allowUnsafeDurability)',
        );
      }
      const migrations = await withClient(pool, (client) => applyMigrations(client, options.schema));
      if (migrations.unknown.length > 0) {
        options.log?.warn({ versions: migrations.unknown }, 'the schema has migrations newer than this node');
      }
      return new PostgresStore(pool, durability, migrations);
    } catch (err) {
      await pool?.end().catch(() => undefined);
      throw toStoreError(err);
    }
  }

  /** Runs `fn`, translating any driver failure into a store code. */
  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err);
    }
  }

  private tx<T>(fn: (db: Db) => Promise<T>, relaxed = false): Promise<T> {
    return this.run(() => transaction(this.pool, fn, { relaxed }));
  }

  private rows<R>(name: Parameters<Db['rows']>[0], values: readonly unknown[]): Promise<R[]> {
    return this.run(() => this.db.rows<R>(name, values));
  }

  private count(name: Parameters<Db['count']>[0], values: readonly unknown[]): Promise<number> {
    return this.run(() => this.db.count(name, values));
  }

  // -- accounts ---------------------------------------------------------------------------------

  async userByPhone(phone: string): Promise<User | undefined> {
    const [r] = await this.rows<{ id: string; phone: string; created_at: number }>('userByPhone', [phone]);
    return r && { id: r.id as UserId, phone: r.phone, createdAt: r.created_at };
  }

  async usersByPhoneHash(hashes: readonly Uint8Array[]) {
    const rows = await this.rows<{ id: string; phone_hash: Buffer }>('usersByPhoneHash', [
      hashes.map((h) => Buffer.from(h)),
    ]);
    const byHash = new Map(rows.map((r) => [r.phone_hash.toString('hex'), r.id as UserId]));
    const out: Array<{ phoneHash: Uint8Array; userId: UserId }> = [];
    for (const h of hashes) {
      const userId = byHash.get(Buffer.from(h).toString('hex'));
      if (userId) out.push({ phoneHash: h, userId });
    }
    return out;
  }

  async userGet(userId: UserId): Promise<User | undefined> {
    const [r] = await this.rows<{ id: string; phone: string; created_at: number }>('userGet', [userId]);
    return r && { id: r.id as UserId, phone: r.phone, createdAt: r.created_at };
  }

  accountErase(input: AccountErase): Promise<AccountErased> {
    return this.tx((db) => eraseAccount(db, input));
  }

  async mediaUploadRecord(mediaId: string, userId: UserId, now: number, avatar = false): Promise<void> {
    await this.count('mediaUploadRecord', [mediaId, userId, now, avatar]);
  }

  async mediaAccess(mediaId: string, userId: UserId): Promise<MediaAccess> {
    const [g] = await this.rows<{ granted: boolean }>('mediaGranted', [mediaId, userId]);
    const owners = await this.rows<{ user_id: string }>('mediaAvatarOwners', [mediaId, userId]);
    return { granted: g?.granted === true, avatarOwners: owners.map((r) => r.user_id as UserId) };
  }

  async mediaKept(ids: readonly string[], uploadedSince: number, messagesSince: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.rows<{ id: string }>('mediaKept', [ids, uploadedSince, messagesSince]);
    return rows.map((r) => r.id);
  }

  mediaForget(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return Promise.resolve(0);
    return this.tx(
      async (db) =>
        (await db.count('mediaRefsForget', [ids])) + (await db.count('mediaUploadsForget', [ids])),
    );
  }

  mediaUploadsExpire(cutoff: number, limit: number): Promise<number> {
    return this.count('mediaUploadsExpire', [cutoff, limit]);
  }

  discoveryLookupsTake(input: DiscoveryLookupsTake): Promise<DiscoveryLookupsTaken> {
    return this.tx(async (db) => {
      await db.rows('discoveryLock', [input.userId]);
      await db.count('discoveryForget', [input.userId, input.now - input.windowMs]);
      const rows = await db.rows<{ digest: string; looked_up_at: string | number }>('discoveryOfUser', [
        input.userId,
      ]);
      const { answer, record } = decideLookups(
        rows.map((r) => ({ digest: r.digest, lookedUpAt: Number(r.looked_up_at) })),
        input,
      );
      if (record.length) await db.count('discoveryInsert', [input.userId, record, input.now]);
      return answer;
    });
  }

  discoveryLookupsExpire(cutoff: number, limit: number): Promise<number> {
    return this.count('discoveryExpire', [cutoff, limit]);
  }

  async usersExist(userIds: readonly UserId[]): Promise<Set<UserId>> {
    const found = new Set((await this.rows<{ id: string }>('usersExisting', [userIds])).map((r) => r.id));
    return new Set(userIds.filter((id) => found.has(id)));
  }

  primaryRegister(input: Parameters<Store['primaryRegister']>[0]) {
    return this.tx(async (db) => {
      const [user] = await db.rows<{ id: string }>('userUpsert', [
        input.userId,
        input.phone,
        Buffer.from(input.phoneHash),
        input.now,
      ]);
      const userId = user!.id as UserId;
      const revoked = (await db.rows<{ id: string }>('primaryRevoke', [userId, input.now])).map(
        (r) => r.id as DeviceId,
      );
      if (revoked.length > 0) await db.count('cursorsDeleteDevices', [revoked]);
      await db.count('deviceInsert', [input.deviceId, userId, true, input.name, input.tokenHash, input.now]);
      await db.count('cursorsStartForDevice', [input.deviceId, userId]);
      return { userId, revokedDeviceIds: revoked };
    });
  }

  deviceLink(input: Parameters<Store['deviceLink']>[0]): Promise<void> {
    return this.tx(async (db) => {
      await db.rows('userLock', [input.userId]);
      const [{ n } = { n: 0 }] = await db.rows<{ n: number }>('deviceCount', [input.userId]);
      if (n >= input.maxDevices) {
        throw new ParleyError('DEVICE_LIMIT', `a user has at most ${input.maxDevices} devices`);
      }
      await db.count('deviceInsert', [
        input.deviceId,
        input.userId,
        false,
        input.name,
        input.tokenHash,
        input.now,
      ]);
      await db.count('cursorsStartForDevice', [input.deviceId, input.userId]);
    });
  }

  async deviceByTokenHash(tokenHash: string): Promise<Device | undefined> {
    const [r] = await this.rows<DeviceRow>('deviceByToken', [tokenHash]);
    return r && toDevice(r);
  }

  async devicesOfUsers(userIds: readonly UserId[]): Promise<Map<UserId, DeviceId[]>> {
    const rows = await this.rows<{ id: string; user_id: string }>('devicesOfUsers', [userIds]);
    const byUser = new Map<string, DeviceId[]>();
    for (const r of rows) {
      const list = byUser.get(r.user_id) ?? [];
      list.push(r.id as DeviceId);
      byUser.set(r.user_id, list);
    }
    const out = new Map<UserId, DeviceId[]>();
    for (const u of userIds) {
      const ids = byUser.get(u);
      if (ids) out.set(u, ids);
    }
    return out;
  }

  async deviceList(userId: UserId): Promise<Device[]> {
    return (await this.rows<DeviceRow>('deviceList', [userId])).map(toDevice);
  }

  deviceRevoke(deviceId: DeviceId, now: number): Promise<boolean> {
    return this.tx(async (db) => {
      const changed = (await db.count('deviceRevoke', [deviceId, now])) > 0;
      await db.count('cursorsDeleteDevices', [[deviceId]]);
      return changed;
    });
  }

  async devicesTouch(deviceIds: readonly DeviceId[], now: number): Promise<void> {
    if (deviceIds.length > 0) await this.count('devicesTouch', [deviceIds, now]);
  }

  async devicesRetireOrphans(cutoff: number, now: number): Promise<DeviceId[]> {
    return (await this.rows<{ id: string }>('orphansRetire', [cutoff, now])).map((r) => r.id as DeviceId);
  }

  async userPresenceGet(userId: UserId): Promise<UserPresenceRecord | undefined> {
    const [r] = await this.rows<{
      last_seen_at: number;
      last_seen_visibility: LastSeenVisibility;
      read_receipts: boolean;
    }>('userPresence', [userId]);
    return (
      r && { lastSeenAt: r.last_seen_at, visibility: r.last_seen_visibility, readReceipts: r.read_receipts }
    );
  }

  async userLastSeenSet(userId: UserId, at: number): Promise<void> {
    await this.count('userLastSeenSet', [userId, at]);
  }

  async userVisibilitySet(userId: UserId, visibility: LastSeenVisibility): Promise<void> {
    await this.count('userVisibilitySet', [userId, visibility]);
  }

  async usersSharingChat(userId: UserId, others: readonly UserId[]): Promise<Set<UserId>> {
    const found = new Set(
      (await this.rows<{ user_id: string }>('usersSharingChat', [userId, others])).map((r) => r.user_id),
    );
    return new Set(others.filter((o) => found.has(o)));
  }

  async usersHaveDirectChat(a: UserId, b: UserId): Promise<boolean> {
    return (await this.rows('usersDirectChat', [directKeyOf([a, b])])).length > 0;
  }

  // -- codes ------------------------------------------------------------------------------------

  async codeGet(phone: string): Promise<OneTimeCode | undefined> {
    return toCode((await this.rows<CodeRow>('codeGet', [phone]))[0]);
  }

  async codePut(c: OneTimeCode): Promise<void> {
    await this.count('codePut', [c.phone, c.codeHash, c.expiresAt, c.attempts, c.sentAt]);
  }

  async codeAttemptTake(phone: string, now: number, maxAttempts: number): Promise<OneTimeCode | undefined> {
    return toCode((await this.rows<CodeRow>('codeAttemptTake', [phone, maxAttempts, now]))[0]);
  }

  async codeConsume(phone: string, codeHash: string): Promise<boolean> {
    return (await this.count('codeConsume', [phone, codeHash])) === 1;
  }

  async codeAttemptReturn(phone: string, codeHash: string): Promise<void> {
    await this.count('codeAttemptReturn', [phone, codeHash]);
  }

  // -- registration lock ------------------------------------------------------------------------

  // -- profiles -----------------------------------------------------------------------------

  async profilePut(input: {
    userId: UserId;
    version: number;
    ciphertext: Uint8Array;
    now: number;
  }): Promise<StoredProfile> {
    const [r] = await this.rows<ProfileRow>('profilePut', [
      input.userId,
      input.version,
      buf(input.ciphertext),
      input.now,
    ]);
    if (!r) throw staleVersion(input.version);
    return toProfile(r);
  }

  async profilesGet(viewer: UserId, userIds: readonly UserId[]): Promise<StoredProfile[]> {
    return (await this.rows<ProfileRow>('profilesVisible', [viewer, userIds])).map(toProfile);
  }

  async profileChanges(
    viewer: UserId,
    since: number,
    afterUserId: UserId | '',
    limit: number,
  ): Promise<ProfileVersionRecord[]> {
    return (await this.rows<ProfileVersionRow>('profileChanges', [viewer, since, afterUserId, limit])).map(
      toProfileVersion,
    );
  }

  async profileAudience(userId: UserId): Promise<UserId[]> {
    return (await this.rows<{ user_id: string }>('profileAudience', [userId])).map(
      (r) => r.user_id as UserId,
    );
  }

  async registrationLockGet(userId: UserId) {
    const [r] = await this.rows<LockRow & { last_seen_at: number }>('registrationLockGet', [userId]);
    return r && { ...toLock(r)!, lastDeviceSeenAt: Number(r.last_seen_at) };
  }

  async registrationLockSet(userId: UserId, pinHash: string, now: number): Promise<void> {
    await this.count('registrationLockSet', [userId, pinHash, now]);
  }

  async registrationLockDelete(userId: UserId): Promise<boolean> {
    return (await this.count('registrationLockDelete', [userId])) === 1;
  }

  async registrationLockAttemptTake(userId: UserId, now: number, maxAttempts: number, lockoutMs: number) {
    const [r] = await this.rows<LockRow>('registrationLockAttemptTake', [
      userId,
      now,
      maxAttempts,
      lockoutMs,
    ]);
    return toLock(r);
  }

  async registrationLockAttemptsReset(userId: UserId, pinHash: string): Promise<void> {
    await this.count('registrationLockAttemptsReset', [userId, pinHash]);
  }

  async linkCodePut(codeHash: string, userId: UserId, expiresAt: number): Promise<void> {
    await this.count('linkCodePut', [codeHash, userId, expiresAt]);
  }

  async linkCodeTake(codeHash: string, now: number): Promise<UserId | undefined> {
    const [r] = await this.rows<{ user_id: string; expires_at: number }>('linkCodeTake', [codeHash]);
    return r && r.expires_at > now ? (r.user_id as UserId) : undefined;
  }

  // -- chats ------------------------------------------------------------------------------------

  chatCreate(input: ChatCreate): Promise<ChatInfo> {
    return this.tx(async (db) => {
      await requireMembersExist(db, [input]);
      return createChat(db, input);
    });
  }

  chatCreateBatch(inputs: readonly ChatCreate[]): Promise<ChatInfo[]> {
    return this.tx(async (db) => {
      await requireMembersExist(db, inputs);
      const out: ChatInfo[] = [];
      for (const input of inputs) out.push(await createChat(db, input));
      return out;
    });
  }

  chatCreateMany(inputs: readonly ChatCreate[], options?: { ackedSeq?: number }): Promise<number> {
    return this.run(async () => {
      const acked = createdAckedSeq(options);
      return inputs.length === 0 ? 0 : this.tx((db) => createChats(db, inputs, acked));
    });
  }

  async chatMembersPage(afterChatId: ChatId | '', limit: number): Promise<ChatMembership[]> {
    const rows = await this.rows<{
      id: string;
      kind: ChatKind;
      only_admins_send: boolean;
      members: Array<{ u: string; r: Role }>;
    }>('chatMembersPage', [afterChatId, limit]);
    return rows.map((r) => ({
      chatId: r.id as ChatId,
      kind: r.kind,
      onlyAdminsSend: r.only_admins_send,
      members: r.members.map((m) => ({ userId: m.u as UserId, role: m.r })),
    }));
  }

  async chatDirectFind(a: UserId, b: UserId): Promise<ChatId | undefined> {
    const [r] = await this.rows<{ id: string }>('chatByDirectKey', [directKeyOf([a, b])]);
    return r?.id as ChatId | undefined;
  }

  chatGet(chatId: ChatId): Promise<ChatInfo | undefined> {
    return this.run(() => chatRead(this.db, chatId));
  }

  chatMutate(m: ChatMutation): Promise<StoredMessage> {
    return this.tx((db) => mutateChat(db, m));
  }

  chatReadMark(chatId: ChatId, userId: UserId, seq: number, now: number) {
    return this.tx((db) => readMark(db, chatId, userId, seq, now));
  }

  receiptsDelivered(
    items: ReadonlyArray<{ chatId: ChatId; userId: UserId; seq: number }>,
    now: number,
  ): Promise<ReceiptChange[]> {
    if (items.length === 0) return Promise.resolve([]);
    // Like acks, delivered positions are re-derived from a redelivery: no WAL flush wait.
    return this.tx((db) => delivered(db, items, now), true);
  }

  async receiptSenders(chatId: ChatId, afterSeq: number, upToSeq: number): Promise<UserId[]> {
    return (await this.rows<{ sender_user: string }>('sendersInRange', [chatId, afterSeq, upToSeq])).map(
      (r) => r.sender_user as UserId,
    );
  }

  async messageSender(chatId: ChatId, seq: number): Promise<UserId | undefined> {
    const [r] = await this.rows<{ sender_user: string; kind: number }>('messageSender', [chatId, seq]);
    return r && r.kind === KIND_PAYLOAD ? (r.sender_user as UserId) : undefined;
  }

  async receiptDetails(chatId: ChatId, seq: number) {
    const rows = await this.rows<{ user_id: string; delivered_at: number | null; read_at: number | null }>(
      'receiptDetails',
      [chatId, seq],
    );
    return rows.map((r) => ({
      userId: r.user_id as UserId,
      deliveredAt: r.delivered_at ?? undefined,
      readAt: r.read_at ?? undefined,
    }));
  }

  async receiptsSince(userId: UserId, since: number): Promise<ReceiptState[]> {
    const rows = await this.rows<{
      chat_id: string;
      user_id: string;
      delivered_seq: number;
      read_seq: number;
      at: number;
    }>('receiptsSince', [userId, since]);
    return rows.map((r) => ({
      chatId: r.chat_id as ChatId,
      userId: r.user_id as UserId,
      deliveredSeq: r.delivered_seq,
      readSeq: r.read_seq,
      at: r.at,
    }));
  }

  async receiptsSinceMany(asks: ReadonlyArray<{ userId: UserId; since: number }>): Promise<ReceiptState[][]> {
    return Promise.all(asks.map((a) => this.receiptsSince(a.userId, a.since)));
  }

  async userReadReceiptsSet(userId: UserId, on: boolean): Promise<void> {
    await this.count('userReadReceiptsSet', [userId, on]);
  }

  async pinsActive(chatId: ChatId, now: number): Promise<PinInfo[]> {
    const rows = await this.rows<{ seq: number; pinned_by: string; expires_at: number }>('pinsActive', [
      chatId,
      now,
    ]);
    return rows.map((r) => ({ seq: r.seq, pinnedBy: r.pinned_by as UserId, expiresAt: r.expires_at }));
  }

  async inviteSet(chatId: ChatId, code: string, createdBy: UserId, now: number): Promise<void> {
    await this.count('inviteSet', [chatId, code, createdBy, now]);
  }

  async inviteRevoke(chatId: ChatId): Promise<boolean> {
    return (await this.count('inviteDelete', [chatId])) > 0;
  }

  async inviteFind(code: string): Promise<ChatId | undefined> {
    const [r] = await this.rows<{ chat_id: string }>('inviteFind', [code]);
    return r?.chat_id as ChatId | undefined;
  }

  chatSummaries(userId: UserId, chatIds?: readonly ChatId[]): Promise<ChatSummary[]> {
    return this.run(() => chatSummaries(this.db, userId, chatIds));
  }

  // -- messages ---------------------------------------------------------------------------------

  messageCommit(batch: readonly SendCommit[]): Promise<CommitResult[]> {
    if (batch.length === 0) return Promise.resolve([]);
    return this.tx((db) => commitBatch(db, batch));
  }

  async cursorsOf(deviceId: DeviceId): Promise<DeviceCursors> {
    const rows = await this.rows<{
      chat_id: string;
      acked_seq: number;
      end_seq: number | null;
      last_seq: number;
    }>('cursorsOf', [deviceId]);
    const out = emptyCursors();
    for (const r of rows) addCursor(out, r.chat_id, r.acked_seq, r.end_seq, r.last_seq);
    return out;
  }

  async messagesRead(
    deviceId: DeviceId,
    chatId: ChatId,
    afterSeq: number,
    upToSeq: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    const rows = await this.rows<MessageRow>('messagesRead', [deviceId, chatId, afterSeq, upToSeq, limit]);
    return rows.map(toMessage);
  }

  cursorsAck(acks: ReadonlyArray<{ deviceId: DeviceId; chatId: ChatId; seq: number }>): Promise<number> {
    const list = highestAcks(acks);
    if (list.length === 0) return Promise.resolve(0);
    // A lost ack only means a redelivery, which clients remove by seq: no WAL flush wait.
    return this.tx((db) => advanceCursors(db, list), true);
  }

  acksPersist(
    acks: ReadonlyArray<{ deviceId: DeviceId; userId: UserId; chatId: ChatId; seq: number }>,
    now: number,
  ): Promise<ReceiptChange[]> {
    if (acks.length === 0) return Promise.resolve([]);
    return this.tx(async (db) => {
      await advanceCursors(db, highestAcks(acks));
      return delivered(db, highestPerMember(acks), now);
    }, true);
  }

  async messagesHistory(
    deviceId: DeviceId,
    chatId: ChatId,
    range: { beforeSeq?: number; afterSeq?: number; limit: number },
  ): Promise<StoredMessage[]> {
    const rows =
      range.afterSeq !== undefined
        ? await this.rows<MessageRow>('historyAfter', [deviceId, chatId, range.afterSeq, range.limit])
        : await this.rows<MessageRow>('historyBefore', [
            deviceId,
            chatId,
            range.beforeSeq ?? Number.MAX_SAFE_INTEGER,
            range.limit,
          ]);
    return rows.map(toMessage);
  }

  messagesExpire(cutoff: number, limit: number, now?: number): Promise<number> {
    // Each statement is its own short transaction: a batch that fails halfway lost nothing.
    return this.run(async () => {
      const [old] = await this.db.rows<{ n: number }>('messagesExpireOld', [cutoff, limit]);
      let n = old!.n;
      if (now !== undefined && n < limit) {
        const [timed] = await this.db.rows<{ n: number }>('messagesExpireTimed', [now, limit - n]);
        n += timed!.n;
      }
      return n;
    });
  }

  // -- key directory ----------------------------------------------------------------------------

  keysUpload(input: KeysUploadInput): Promise<{ oneTimeCount: number }> {
    return this.tx((db) => uploadKeys(db, input));
  }

  keysTakeBundles(take: BundleTake): Promise<PreKeyBundleRecord[]> {
    return this.tx((db) => takeBundles(db, take));
  }

  async keysOneTimeCount(deviceId: DeviceId): Promise<number> {
    return (await this.rows<{ n: number }>('oneTimeCount', [deviceId]))[0]?.n ?? 0;
  }

  async keysOneTimeCounts(deviceIds: readonly DeviceId[]): Promise<Map<DeviceId, number>> {
    if (deviceIds.length === 0) return new Map();
    const rows = await this.rows<{ device_id: DeviceId; n: number }>('oneTimeCounts', [
      [...new Set(deviceIds)],
    ]);
    return new Map(rows.map((r) => [r.device_id, r.n]));
  }

  keysIdentities(userIds: readonly UserId[]): Promise<DeviceIdentity[]> {
    return this.run(() => identities(this.db, userIds));
  }

  // -- lifecycle --------------------------------------------------------------------------------

  // -- blocking, reports and moderation ----------------------------------------------------

  // -- mutes and do-not-disturb --------------------------------------------------------------

  async chatMuteSet(chatId: ChatId, userId: UserId, until: number): Promise<boolean> {
    return (await this.count('chatMuteSet', [chatId, userId, until])) > 0;
  }

  async doNotDisturbSet(userId: UserId, until: number): Promise<boolean> {
    return (await this.count('doNotDisturbSet', [userId, until])) > 0;
  }

  async alertSettings(userId: UserId, chatId?: ChatId): Promise<AlertSettings> {
    const [r] = await this.rows<{ dnd_until: number; kind: ChatKind | null; muted_until: number | null }>(
      'alertSettings',
      [userId, chatId ?? null],
    );
    const out: AlertSettings = { doNotDisturbUntil: r?.dnd_until ?? 0 };
    if (r?.kind && r.muted_until !== null) out.chat = { kind: r.kind, mutedUntil: r.muted_until };
    return out;
  }

  blockAdd(userId: UserId, blockedUserId: UserId, now: number, max: number): Promise<boolean> {
    return this.tx(async (db) => {
      await db.rows('blockLockUser', [userId]);
      if ((await db.rows('blockExists', [userId, blockedUserId])).length) return false;
      const [c] = await db.rows<{ n: number }>('blockCount', [userId]);
      if (c!.n >= max) throw blockListFull(max);
      return (await db.count('blockInsert', [userId, blockedUserId, now])) === 1;
    });
  }

  async blockRemove(userId: UserId, blockedUserId: UserId): Promise<boolean> {
    return (await this.count('blockDelete', [userId, blockedUserId])) === 1;
  }

  async blocksOf(userId: UserId): Promise<BlockEntry[]> {
    const rows = await this.rows<{ blocked_user_id: string; blocked_at: number }>('blocksOf', [userId]);
    return rows.map((r) => ({ userId: r.blocked_user_id as UserId, blockedAt: Number(r.blocked_at) }));
  }

  async blocksPage(
    after: { userId: UserId; blockedUserId: UserId } | undefined,
    limit: number,
  ): Promise<Array<{ userId: UserId; blockedUserId: UserId }>> {
    const rows = await this.rows<{ user_id: string; blocked_user_id: string }>('blocksPage', [
      after?.userId ?? '',
      after?.blockedUserId ?? '',
      limit,
    ]);
    return rows.map((r) => ({ userId: r.user_id as UserId, blockedUserId: r.blocked_user_id as UserId }));
  }

  async reportCreate(r: Omit<ReportRecord, 'status' | 'resolvedAt' | 'resolution'>): Promise<void> {
    await this.count('reportInsert', [
      r.id,
      r.reporterUserId,
      r.targetUserId ?? null,
      r.chatId ?? null,
      r.reason,
      r.detail,
      JSON.stringify(r.messages),
      r.createdAt,
    ]);
  }

  async reportsList(query: { status?: ReportStatus; limit: number }): Promise<ReportRecord[]> {
    const rows = await this.rows<ReportRow>('reportsList', [query.status ?? null, query.limit]);
    return rows.map(toReport);
  }

  async reportGet(id: string): Promise<ReportRecord | undefined> {
    const [r] = await this.rows<ReportRow>('reportGet', [id]);
    return r && toReport(r);
  }

  async reportResolve(id: string, now: number, resolution: string): Promise<boolean> {
    return (await this.count('reportResolve', [id, now, resolution])) === 1;
  }

  async userSuspend(userId: UserId, now: number, reason: string): Promise<boolean> {
    return (await this.count('userSuspend', [userId, now, reason])) === 1;
  }

  async userUnsuspend(userId: UserId): Promise<boolean> {
    return (await this.count('userUnsuspend', [userId])) === 1;
  }

  async userSuspension(userId: UserId): Promise<{ at: number; reason: string } | undefined> {
    const [r] = await this.rows<{ suspended_at: number; suspend_reason: string }>('userSuspension', [userId]);
    return r && { at: Number(r.suspended_at), reason: r.suspend_reason };
  }

  async usersSuspendedSince(since: number, limit: number): Promise<Array<{ userId: UserId; at: number }>> {
    const rows = await this.rows<{ id: string; suspended_at: number }>('usersSuspendedSince', [since, limit]);
    return rows.map((r) => ({ userId: r.id as UserId, at: Number(r.suspended_at) }));
  }

  async auditRecord(e: AuditEntry): Promise<void> {
    await this.count('auditInsert', [e.at, e.actor, e.action, e.target, JSON.stringify(e.detail)]);
  }

  async auditList(limit: number): Promise<AuditEntry[]> {
    return (await this.rows<AuditRow>('auditList', [limit])).map(toAudit);
  }

  async adminStats(): Promise<AdminStats> {
    const [r] = await this.rows<AdminStats>('adminStats', []);
    return r!;
  }

  // -- push outbox (push.ts) ------------------------------------------------------------------

  pushRegister(...a: Parameters<Store['pushRegister']>) {
    return this.tx((db) => pushRegister(db, ...a));
  }
  pushUnregister(deviceIds: readonly DeviceId[]) {
    return this.tx((db) => pushUnregister(db, deviceIds));
  }
  async pushRegistrationGet(deviceId: DeviceId) {
    const [r] = await this.rows<RegistrationRow>('pushRegGet', [deviceId]);
    return (
      r && {
        deviceId,
        userId: r.user_id as UserId,
        platform: r.platform as PushPlatform,
        tokenKey: r.token_key,
        target: targetOf(r),
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      }
    );
  }
  async pushRegisteredPage(after: DeviceId | '', limit: number) {
    const rows = await this.rows<{ device_id: string; user_id: string }>('pushRegPage', [after, limit]);
    return rows.map((r) => ({ deviceId: r.device_id as DeviceId, userId: r.user_id as UserId }));
  }
  pushJobsLease(...a: Parameters<Store['pushJobsLease']>) {
    return this.tx((db) => pushJobsLease(db, ...a));
  }
  pushJobsFinish(...a: Parameters<Store['pushJobsFinish']>) {
    return this.tx((db) => pushJobsFinish(db, ...a));
  }
  pushStatus(userId: UserId) {
    return this.run(() => pushStatus(this.db, userId));
  }
  async pushDeadRetry(userId: UserId | undefined, now: number) {
    return (await this.tx((db) => db.rows('pushDeadRequeue', [userId ?? null, now]))).length;
  }

  async ping(): Promise<void> {
    await this.run(() => this.pool.query('SELECT 1'));
  }

  /** Waits for calls in flight, then closes every connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.pool.end().catch((err) => {
      throw toStoreError(err);
    });
    return this.closing;
  }
}

/** Moves cursors forward in the caller's transaction; returns how many moved. */
async function advanceCursors(
  db: Db,
  list: ReadonlyArray<{ deviceId: DeviceId; chatId: ChatId; seq: number }>,
): Promise<number> {
  const moved = await db.rows<{
    device_id: string;
    chat_id: string;
    acked_seq: number;
    end_seq: number | null;
  }>('cursorsAdvance', [list.map((a) => a.deviceId), list.map((a) => a.chatId), list.map((a) => a.seq)]);
  // Only a removed member's cursor has an end; it goes once acked through it.
  const ended = moved.filter((m) => m.end_seq !== null && m.acked_seq >= m.end_seq);
  if (ended.length > 0) {
    await db.count('cursorsDeleteEnded', [ended.map((m) => m.device_id), ended.map((m) => m.chat_id)]);
  }
  return moved.length;
}
