/**
 * Seeding (setup, not measured): users with known tokens, chats and queued messages are
 * written through the server's own Store API (SqliteStore, synchronous=OFF, into the data
 * dir; or PostgresStore, into the run's schema) before the server starts on it. Token hashes follow the server's auth/secrets.ts.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ChatKind, ChatUpdateKind, create, encodeChatUpdate, MemberSchema, Role } from '@parley/protocol';
import { PostgresStore, SqliteStore, type Store } from '@parley/server';
import { makePayload } from './payload.js';

type Register = Parameters<Store['primaryRegister']>[0];
type UserId = Register['userId'];
type DeviceId = Register['deviceId'];
type ChatId = Parameters<Store['chatGet']>[0];
type ChatCreate = Parameters<Store['chatCreate']>[0];

/** Chats per chatCreateMany call: one transaction each, and a progress line between them. */
const CHATS_PER_CALL = 10_000;

/** A seeded user with one (primary) device; `index` is global within the run. */
export interface SeedUser {
  index: number;
  userId: string;
  deviceId: string;
  token: string;
}

/** What the server's auth stores for a token: hashSecret(token) with an empty salt. */
export function tokenHash(token: string): string {
  return createHash('sha256').update('').update('\0').update(token).digest('base64url');
}

export class Seeder {
  private readonly now = Date.now();
  private chatCount = 0;

  private constructor(private readonly store: Store) {}

  static open(dataDir: string): Seeder {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    return new Seeder(new SqliteStore({ path: join(dataDir, 'parley.db'), synchronous: 'OFF' }));
  }

  /** Seeds a PostgreSQL database (the URL selects the run's schema); applies migrations first. */
  static async openPostgres(url: string): Promise<Seeder> {
    return new Seeder(await PostgresStore.open(url, { poolSize: 4 }));
  }

  /** Registers `n` users, each with one primary device and the token `bench-<index>`. */
  async users(n: number, first = 0): Promise<SeedUser[]> {
    const out: SeedUser[] = [];
    for (let index = first; index < first + n; index++) {
      const phone = `+1415${String(2_000_000 + index).padStart(7, '0')}`;
      const u: SeedUser = {
        index,
        userId: `u_b${index}`,
        deviceId: `d_b${index}`,
        token: `bench-token-${index}-${phone.slice(-7)}`,
      };
      await this.store.primaryRegister({
        userId: u.userId as UserId,
        phone,
        phoneHash: createHash('sha256').update(phone).digest(),
        deviceId: u.deviceId as DeviceId,
        tokenHash: tokenHash(u.token),
        name: 'bench',
        now: this.now,
      });
      out.push(u);
    }
    return out;
  }

  /**
   * Creates a chat (its CREATED update is seq 1, by the first member) and, unless
   * `keepCreated`, acks seq 1 for every member so nothing is pending when they connect.
   */
  async chat(kind: 'direct' | 'group', members: readonly SeedUser[], keepCreated = false): Promise<string> {
    const input = this.chatInput(kind, members);
    await this.store.chatCreate(input);
    if (!keepCreated) {
      await this.store.cursorsAck(
        members.map((m) => ({ deviceId: m.deviceId as DeviceId, chatId: input.chatId, seq: 1 })),
      );
    }
    return input.chatId;
  }

  /**
   * Creates one chat per member list, as `chat` does (nothing pending for any member), in
   * chunks of CHATS_PER_CALL per store call; `progress` hears how many are done after each.
   * Returns the chat ids in the order of `memberLists`. The store must not have these chats
   * yet: a direct pair that already has one fails the seeding.
   */
  async chats(
    kind: 'direct' | 'group',
    memberLists: ReadonlyArray<readonly SeedUser[]>,
    progress?: (done: number) => void,
  ): Promise<string[]> {
    const ids: string[] = [];
    while (ids.length < memberLists.length) {
      const inputs = memberLists
        .slice(ids.length, ids.length + CHATS_PER_CALL)
        .map((members) => this.chatInput(kind, members));
      const created = await this.store.chatCreateMany(inputs, { ackedSeq: 1 });
      if (created !== inputs.length) {
        throw new Error(`${inputs.length - created} of the ${kind} chats to seed already exist`);
      }
      for (const c of inputs) ids.push(c.chatId);
      progress?.(ids.length);
    }
    return ids;
  }

  /** A new chat of `members`, the first one creating it (and its creator, in a group). */
  private chatInput(kind: 'direct' | 'group', members: readonly SeedUser[]): ChatCreate {
    const chatId = `c_b${this.chatCount++}` as ChatId;
    const creatorRole = kind === 'group' ? 'creator' : 'member';
    const roles = members.map((m, i) => ({
      userId: m.userId as UserId,
      role: i === 0 ? creatorRole : 'member',
    })) as ChatCreate['members'];
    return {
      chatId,
      kind,
      name: kind === 'group' ? 'bench group' : '',
      description: '',
      createdBy: members[0]!.userId as UserId,
      createdByDevice: members[0]!.deviceId as DeviceId,
      members: roles,
      now: this.now,
      update: encodeChatUpdate({
        kind: ChatUpdateKind.CREATED,
        chatKind: kind === 'group' ? ChatKind.GROUP : ChatKind.DIRECT,
        name: kind === 'group' ? 'bench group' : '',
        members: roles.map((r) =>
          create(MemberSchema, {
            userId: r.userId,
            role: r.role === 'creator' ? Role.CREATOR : Role.MEMBER,
            joinedAt: BigInt(this.now),
          }),
        ),
      }),
    };
  }

  /** Stores `count` bench messages from `from` in the chat (batches of 512); returns the last seq. */
  async messages(chatId: string, from: SeedUser, count: number, payloadBytes: number): Promise<number> {
    let last = 0;
    for (let done = 0; done < count; ) {
      const n = Math.min(512, count - done);
      const batch = Array.from({ length: n }, (_, i) => ({
        chatId: chatId as ChatId,
        senderUserId: from.userId as UserId,
        senderDeviceId: from.deviceId as DeviceId,
        clientMessageId: `seed-${chatId}-${done + i}`,
        serverTime: this.now,
        payload: makePayload(payloadBytes, this.now, from.index, done + i),
        devicePayloads: undefined,
      }));
      const results = await this.store.messageCommit(batch);
      for (const r of results) {
        if (!r.ok) throw new Error(`seeding a message failed: ${r.code}`);
        last = r.seq;
      }
      done += n;
    }
    return last;
  }

  /**
   * Registers each user's device for APNs pushes (production, `topic`) with the token
   * `tokenOf(user)`, as a `registerPush` frame would store it (the token is its key).
   */
  async apnsRegistrations(
    users: readonly SeedUser[],
    topic: string,
    tokenOf: (u: SeedUser) => string,
  ): Promise<void> {
    for (const u of users) {
      const token = tokenOf(u);
      await this.store.pushRegister(
        {
          deviceId: u.deviceId as DeviceId,
          userId: u.userId as UserId,
          platform: 'apns',
          tokenKey: token,
          target: { platform: 'apns', token, topic, sandbox: false },
        },
        this.now,
      );
    }
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
