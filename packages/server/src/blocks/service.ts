/**
 * Block lists. Each user's list lives in the store; the node caches it per user, so the
 * checks on the send, fan-out, presence, typing and receipt paths are a Map lookup after a
 * user's first. Every change drops the user's entry here and, with several nodes, on every
 * other node (`onInvalidate`, sent over the Bus by Cluster); entries older than `ttlMs` are
 * read again, which bounds staleness while the bus is down. Most users block nobody: they
 * share one empty set.
 *
 * What a block means is enforced where it happens (chat/service.ts, delivery/session.ts,
 * presence, typing, receipts, retry); `isBlocked(blocker, other)` is the one question they ask.
 */
import { type FrameInit, ParleyError } from '@parley/protocol';
import type { Store } from '../ports/store.js';
import type { UserId } from '../ports/types.js';

/** Users one block list holds at most. */
export const MAX_BLOCKED = 10_000;

const EMPTY: ReadonlySet<UserId> = new Set();

interface Entry {
  set: ReadonlySet<UserId>;
  at: number;
}

/** The question every path asks; answered from memory once the blocker's list is cached. */
export interface BlockCheck {
  /** True when `blocker` has blocked `other`. */
  isBlocked(blocker: UserId, other: UserId): boolean | Promise<boolean>;
}

export interface BlockDeps {
  store: Store;
  now: () => number;
  /** Cached lists at most; the oldest tenth goes when full. */
  maxEntries: number;
  ttlMs?: number;
  /** The user's devices (to tell the other ones of a change). */
  devicesOf(userId: UserId): Promise<readonly string[]>;
  /** Pushes a frame body to devices here or on other nodes. */
  push(deviceIds: readonly string[], body: FrameInit['body']): void;
}

export interface BlockedUserView {
  userId: UserId;
  blockedAt: bigint;
}

export class BlockService implements BlockCheck {
  private readonly cache = new Map<UserId, Entry>();
  private readonly loading = new Map<UserId, Promise<ReadonlySet<UserId>>>();
  private epoch = 0;
  /**
   * After a full preload (one node, every list held): a user without an entry blocks nobody,
   * so no check waits for the store; users changed since are `stale` and read on use.
   */
  private complete = false;
  private readonly stale = new Set<UserId>();
  /** Users changed while a preload runs (its pages may predate the change). */
  private changedDuringPreload: Set<UserId> | undefined;
  /** Called for every local change (not for those applied from other nodes): `other` is the user (un)blocked. */
  onInvalidate: (userId: UserId, other: UserId) => void = () => {};
  /** Called for every change, local or from another node, once this node's cache dropped it. */
  onChanged: (blocker: UserId, other: UserId) => void = () => {};

  constructor(private readonly d: BlockDeps) {}

  isBlocked(blocker: UserId, other: UserId): boolean | Promise<boolean> {
    const e = this.fresh(blocker);
    if (e) return e.set.has(other);
    if (this.complete && !this.stale.has(blocker)) return false;
    return this.load(blocker).then((set) => set.has(other));
  }

  /** The users `blocker` has blocked (cached). */
  blockedBy(blocker: UserId): Promise<ReadonlySet<UserId>> {
    const e = this.fresh(blocker);
    if (e) return Promise.resolve(e.set);
    if (this.complete && !this.stale.has(blocker)) return Promise.resolve(EMPTY);
    return this.load(blocker);
  }

  /**
   * Loads every block list, page by page, so that on one node no check ever waits for the
   * store (as the chat directory does). Only for a cache without expiry; gives up (lists then
   * load on first use) when there are more blockers than the cache holds or `stopped()` turns
   * true. Returns how many users' lists it holds.
   */
  async preload(stopped: () => boolean = () => false, pageSize = 2000): Promise<number> {
    if (this.d.ttlMs !== undefined || this.changedDuringPreload) return 0;
    const changed = new Set<UserId>();
    this.changedDuringPreload = changed;
    try {
      const lists = new Map<UserId, Set<UserId>>();
      let after: { userId: UserId; blockedUserId: UserId } | undefined;
      for (;;) {
        if (stopped()) return 0;
        const page = await this.d.store.blocksPage(after, pageSize);
        for (const r of page) {
          let set = lists.get(r.userId);
          if (!set) {
            set = new Set();
            lists.set(r.userId, set);
          }
          set.add(r.blockedUserId);
        }
        if (lists.size > this.d.maxEntries) return 0;
        if (page.length < pageSize) break;
        after = page.at(-1);
      }
      for (const [u, set] of lists) if (!changed.has(u) && !this.cache.has(u)) this.put(u, set);
      // A list changed meanwhile may hold blocks the pages did not see: read it on use.
      for (const u of changed) this.stale.add(u);
      this.complete = this.cache.size <= this.d.maxEntries && !this.evicted;
      return lists.size;
    } finally {
      this.changedDuringPreload = undefined;
    }
  }

  /** Blocks `target` for the device's user; answers with the whole list. */
  async block(userId: UserId, target: UserId, fromDevice: string): Promise<BlockedUserView[]> {
    if (target === userId) throw new ParleyError('INVALID_ARGUMENT', 'you cannot block yourself');
    if (!(await this.d.store.usersExist([target])).has(target))
      throw new ParleyError('USER_NOT_FOUND', 'no such user');
    const changed = await this.d.store.blockAdd(userId, target, this.d.now(), MAX_BLOCKED);
    return this.changed(userId, target, changed, fromDevice);
  }

  async unblock(userId: UserId, target: UserId, fromDevice: string): Promise<BlockedUserView[]> {
    const changed = await this.d.store.blockRemove(userId, target);
    return this.changed(userId, target, changed, fromDevice);
  }

  async list(userId: UserId): Promise<BlockedUserView[]> {
    return (await this.d.store.blocksOf(userId)).map((e) => ({
      userId: e.userId,
      blockedAt: BigInt(e.blockedAt),
    }));
  }

  /** Another node changed the user's list (`other`: whom, when told). */
  applyRemote(userId: UserId, other?: UserId): void {
    this.drop(userId);
    if (other) this.onChanged(userId, other);
  }

  /** Drops every entry (the bus was down: changes may have been missed). */
  clear(): void {
    this.epoch++;
    this.cache.clear();
    this.complete = false;
    this.stale.clear();
  }

  private async changed(
    userId: UserId,
    other: UserId,
    changed: boolean,
    fromDevice: string,
  ): Promise<BlockedUserView[]> {
    if (changed) {
      this.drop(userId);
      this.onInvalidate(userId, other);
      this.onChanged(userId, other);
    }
    const users = await this.list(userId);
    if (changed) {
      const others = (await this.d.devicesOf(userId)).filter((d) => d !== fromDevice);
      this.d.push(others, { case: 'blockListChanged', value: { users } });
    }
    return users;
  }

  private drop(userId: UserId): void {
    this.epoch++;
    this.cache.delete(userId);
    this.changedDuringPreload?.add(userId);
    if (this.complete) this.stale.add(userId);
  }

  private fresh(userId: UserId): Entry | undefined {
    const e = this.cache.get(userId);
    if (e && this.d.ttlMs !== undefined && this.d.now() - e.at > this.d.ttlMs) {
      this.cache.delete(userId);
      return undefined;
    }
    return e;
  }

  private load(userId: UserId): Promise<ReadonlySet<UserId>> {
    let p = this.loading.get(userId);
    if (p) return p;
    const epoch = this.epoch;
    p = this.d.store
      .blocksOf(userId)
      .then((list) => {
        const set: ReadonlySet<UserId> = list.length ? new Set(list.map((e) => e.userId)) : EMPTY;
        // A change that landed while this read ran may not be in it: answer, but do not cache.
        if (epoch === this.epoch) {
          this.put(userId, set);
          this.stale.delete(userId);
        }
        return set;
      })
      .finally(() => this.loading.delete(userId));
    this.loading.set(userId, p);
    return p;
  }

  private evicted = false;

  private put(userId: UserId, set: ReadonlySet<UserId>): void {
    if (this.cache.size >= this.d.maxEntries) {
      // Entries dropped for room: a missing entry no longer means "blocks nobody".
      this.evicted = true;
      this.complete = false;
      let n = Math.max(1, Math.floor(this.d.maxEntries / 10));
      for (const k of this.cache.keys()) {
        this.cache.delete(k);
        if (--n === 0) break;
      }
    }
    this.cache.set(userId, { set, at: this.d.now() });
  }
}
