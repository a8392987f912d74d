/**
 * Read-through caches of chat membership and users' active devices, used to validate sends
 * and to find recipients for fan-out. The store stays the authority: the send transaction
 * re-checks membership. Entries are dropped by whoever changes them (invalidate*); with
 * several nodes each drop is also published to the others (`onInvalidate`), and entries
 * older than `ttlMs` are read again, which bounds staleness while the bus is down.
 *
 * The cache is sized to hold every active chat (a node with 500,000 busy direct chats keeps
 * them all: a miss costs a store round trip on the send path). Entries are compact, since
 * every object they hold is one more for each major garbage collection to trace: a chat is
 * its id, one `ChatMembers` (with its cache time as a small integer) and one array of
 * interned user ids; role lists are shared between chats that have the same one (every
 * direct chat has the same), and a chat found missing is remembered in a separate map.
 */
import type { Store } from '../ports/store.js';
import type { ChatId, ChatInfo, ChatKind, DeviceId, Role, UserId } from '../ports/types.js';

/** A chat's members and the send rule, as cached. */
export class ChatMembers {
  private index: Map<UserId, number> | undefined;
  /** When the directory cached this entry: ms since the directory was made (a small integer). */
  cachedAt = 0;

  constructor(
    readonly kind: ChatKind,
    /** Member user ids, in the store's order. */
    readonly users: readonly UserId[],
    private readonly roles: readonly Role[],
    readonly onlyAdminsSend: boolean,
  ) {}

  has(userId: UserId): boolean {
    return this.at(userId) >= 0;
  }

  role(userId: UserId): Role | undefined {
    const i = this.at(userId);
    return i >= 0 ? this.roles[i] : undefined;
  }

  private at(userId: UserId): number {
    // A scan is fastest for the direct chats and small groups that most chats are.
    if (this.users.length <= 16) return this.users.indexOf(userId);
    this.index ??= new Map(this.users.map((u, i) => [u, i]));
    return this.index.get(userId) ?? -1;
  }
}

/** A dropped cache entry, as published to other nodes. */
export type Invalidation = { chatId: ChatId } | { userId: UserId } | { allDevices: true };

interface Entry<V> {
  value: V;
  at: number;
}

/** Entries kept per map by default; a direct chat costs roughly 200 bytes. */
export const DIRECTORY_MAX_ENTRIES = 1_000_000;

/** Distinct role lists shared between chats, at most (beyond it, chats keep their own). */
const SHARED_ROLE_LISTS = 10_000;

export class Directory {
  private readonly chats = new Map<ChatId, ChatMembers>();
  /** Chats found not to exist, with the time they were found (ms since the directory was made). */
  private readonly absent = new Map<ChatId, number>();
  /** One array per distinct role list of small chats ("member,member" for every direct chat). */
  private readonly roleLists = new Map<string, readonly Role[]>();
  private readonly base: number;
  private readonly devices = new Map<UserId, Entry<DeviceId[]>>();
  /** Reads in flight, so concurrent misses of one key share one store call. */
  private readonly loadingChats = new Map<ChatId, Promise<ChatMembers | undefined>>();
  private readonly loadingDevices = new Map<UserId, Promise<DeviceId[]>>();
  /** One string per user id across all entries. */
  private readonly userIds = new Map<string, UserId>();
  private preloads = 0;
  /** Bumped by every invalidation: a read that started before one is not cached. */
  private epoch = 0;
  /** Called for every local invalidation (not for those applied from other nodes). */
  onInvalidate: (inv: Invalidation) => void = () => {};

  constructor(
    private readonly store: Store,
    private readonly maxEntries = DIRECTORY_MAX_ENTRIES,
    private readonly ttlMs = Number.POSITIVE_INFINITY,
    private readonly now: () => number = Date.now,
  ) {
    this.base = now();
  }

  /** Now, in ms since the directory was made: a small integer, stored without a boxed number. */
  private stamp(): number {
    return this.now() - this.base;
  }

  get size(): { chats: number; users: number } {
    return { chats: this.chats.size, users: this.devices.size };
  }

  private fresh<K, V>(map: Map<K, Entry<V>>, key: K): Entry<V> | undefined {
    const e = map.get(key);
    if (e && this.ttlMs !== Number.POSITIVE_INFINITY && this.now() - e.at > this.ttlMs) {
      map.delete(key);
      return undefined;
    }
    return e;
  }

  members(chatId: ChatId): Promise<ChatMembers | undefined> {
    const m = this.chats.get(chatId);
    if (m) {
      if (this.stamp() - m.cachedAt <= this.ttlMs) return Promise.resolve(m);
      this.chats.delete(chatId);
    } else {
      const at = this.absent.get(chatId);
      if (at !== undefined) {
        if (this.stamp() - at <= this.ttlMs) return Promise.resolve(undefined);
        this.absent.delete(chatId);
      }
    }
    let p = this.loadingChats.get(chatId);
    if (!p) {
      const epoch = this.epoch;
      const loading = this.store.chatGet(chatId).then((c) => (c ? this.toMembers(c) : undefined));
      p = loading;
      this.loadingChats.set(chatId, loading);
      loading.then(
        (value) => {
          if (this.loadingChats.get(chatId) === loading) this.loadingChats.delete(chatId);
          if (epoch === this.epoch) this.rememberChat(chatId, value);
        },
        () => {
          if (this.loadingChats.get(chatId) === loading) this.loadingChats.delete(chatId);
        },
      );
    }
    return p;
  }

  devicesOf(userId: UserId): Promise<DeviceId[]> {
    const e = this.fresh(this.devices, userId);
    if (e) return Promise.resolve(e.value);
    return this.readDevices(userId);
  }

  /**
   * The user's devices when cached, else undefined: a fan-out asks this for each member and
   * awaits `devicesOf` only on a miss, so a group of 1,000 costs no promise a member.
   */
  cachedDevicesOf(userId: UserId): readonly DeviceId[] | undefined {
    return this.fresh(this.devices, userId)?.value;
  }

  private readDevices(userId: UserId): Promise<DeviceId[]> {
    let p = this.loadingDevices.get(userId);
    if (!p) {
      const epoch = this.epoch;
      p = this.store.devicesOfUsers([userId]).then((m) => m.get(userId) ?? []);
      this.load(this.loadingDevices, this.devices, userId, p, epoch);
    }
    return p;
  }

  /** True while `preload` runs. */
  get loading(): boolean {
    return this.preloads > 0;
  }

  /**
   * Loads chats' membership from the store, page by page, until the cache is full or every
   * chat is held, so sends after a start do not each wait for a store read (a round trip to
   * another thread, whose tail under load is tens of ms). Only for a cache without expiry (one
   * node): with a ttl the entries would expire unused. Stops early when `stopped()` turns
   * true. Pages are small and the loop yields between them, so live traffic shares the store
   * and the event loop with it. Returns how many chats it added.
   */
  async preload(stopped: () => boolean = () => false, pageSize = 2000): Promise<number> {
    this.preloads++;
    try {
      let after: ChatId | '' = '';
      let added = 0;
      while (!stopped() && this.chats.size < this.maxEntries) {
        const epoch = this.epoch;
        const page = await this.store.chatMembersPage(
          after,
          Math.min(pageSize, this.maxEntries - this.chats.size),
        );
        if (page.length === 0) break;
        // A page read while something was invalidated may be stale: leave it to on-demand reads.
        if (epoch === this.epoch) {
          const at = this.stamp();
          for (const c of page) {
            if (this.chats.has(c.chatId)) continue;
            const m = this.toMembers(c);
            m.cachedAt = at;
            this.chats.set(c.chatId, m);
            this.absent.delete(c.chatId);
            added++;
          }
        }
        after = page[page.length - 1]!.chatId;
        await new Promise((resolve) => setImmediate(resolve));
      }
      return added;
    } finally {
      this.preloads--;
    }
  }

  /**
   * Caches a chat this node just created (nothing can have cached or invalidated it yet), so
   * its first fan-out and sends do not read it back.
   */
  noteCreated(chat: ChatInfo): void {
    if (this.chats.has(chat.id) || this.loadingChats.has(chat.id)) return;
    this.rememberChat(chat.id, this.toMembers(chat));
  }

  private toMembers(c: {
    kind: ChatKind;
    onlyAdminsSend: boolean;
    members: ReadonlyArray<{ userId: UserId; role: Role }>;
  }): ChatMembers {
    return new ChatMembers(
      c.kind,
      c.members.map((m) => this.intern(m.userId)),
      this.roleList(c.members.map((m) => m.role)),
      c.onlyAdminsSend,
    );
  }

  /** The shared array equal to `roles`, for small chats (a group's list is its own). */
  private roleList(roles: Role[]): readonly Role[] {
    if (roles.length > 16) return roles;
    const key = roles.join(',');
    const shared = this.roleLists.get(key);
    if (shared) return shared;
    if (this.roleLists.size < SHARED_ROLE_LISTS) this.roleLists.set(key, Object.freeze(roles));
    return roles;
  }

  /** Active devices of every member, by user. */
  async memberDevices(members: Iterable<UserId>): Promise<Map<UserId, DeviceId[]>> {
    const out = new Map<UserId, DeviceId[]>();
    for (const u of members) out.set(u, await this.devicesOf(u));
    return out;
  }

  invalidateChat(chatId: ChatId): void {
    this.dropChat(chatId);
    this.onInvalidate({ chatId });
  }

  invalidateUser(userId: UserId): void {
    this.dropUser(userId);
    this.onInvalidate({ userId });
  }

  invalidateAllDevices(): void {
    this.dropAllDevices();
    this.onInvalidate({ allDevices: true });
  }

  /** Applies an invalidation published by another node. */
  applyRemote(inv: Invalidation): void {
    if ('chatId' in inv) this.dropChat(inv.chatId);
    else if ('userId' in inv) this.dropUser(inv.userId);
    else this.dropAllDevices();
  }

  /** Drops everything (after the bus was down and invalidations may have been lost). */
  clear(): void {
    this.epoch++;
    this.chats.clear();
    this.absent.clear();
    this.devices.clear();
    this.loadingChats.clear();
    this.loadingDevices.clear();
  }

  private dropChat(chatId: ChatId): void {
    this.epoch++;
    this.chats.delete(chatId);
    this.absent.delete(chatId);
    this.loadingChats.delete(chatId);
  }

  private dropUser(userId: UserId): void {
    this.epoch++;
    this.devices.delete(userId);
    this.loadingDevices.delete(userId);
  }

  private dropAllDevices(): void {
    this.epoch++;
    this.devices.clear();
    this.loadingDevices.clear();
  }

  private intern(userId: UserId): UserId {
    const known = this.userIds.get(userId);
    if (known) return known;
    if (this.userIds.size >= this.maxEntries) this.userIds.clear();
    this.userIds.set(userId, userId);
    return userId;
  }

  /** Caches what `p` resolves to, unless something was invalidated while it was read. */
  private load<K, V>(
    loading: Map<K, Promise<V>>,
    map: Map<K, Entry<V>>,
    key: K,
    p: Promise<V>,
    epoch: number,
  ): void {
    loading.set(key, p);
    p.then(
      (value) => {
        if (loading.get(key) === p) loading.delete(key);
        if (epoch === this.epoch) this.remember(map, key, value);
      },
      () => {
        if (loading.get(key) === p) loading.delete(key);
      },
    );
  }

  private rememberChat(chatId: ChatId, value: ChatMembers | undefined): void {
    const at = this.stamp();
    if (value) {
      this.absent.delete(chatId);
      // A simple bound: when full, drop the oldest entry (Map keeps insertion order).
      if (this.chats.size >= this.maxEntries) {
        const first = this.chats.keys().next();
        if (!first.done) this.chats.delete(first.value);
      }
      value.cachedAt = at;
      this.chats.set(chatId, value);
    } else {
      this.chats.delete(chatId);
      if (this.absent.size >= this.maxEntries) {
        const first = this.absent.keys().next();
        if (!first.done) this.absent.delete(first.value);
      }
      this.absent.set(chatId, at);
    }
  }

  private remember<K, V>(map: Map<K, Entry<V>>, key: K, value: V): void {
    // A simple bound: when full, drop the oldest entry (Map keeps insertion order).
    if (map.size >= this.maxEntries) {
      const first = map.keys().next();
      if (!first.done) map.delete(first.value);
    }
    map.set(key, { value, at: this.now() });
  }
}
