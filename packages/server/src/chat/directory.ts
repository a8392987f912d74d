/**
 * Read-through caches of chat membership and users' active devices, used to validate sends
 * and to find recipients for fan-out. The store stays the authority: the send transaction
 * re-checks membership. Entries are dropped by whoever changes them (invalidate*); with
 * several nodes each drop is also published to the others (`onInvalidate`), and entries
 * older than `ttlMs` are read again, which bounds staleness while the bus is down.
 */
import type { Store } from '../ports/store.js';
import type { ChatId, ChatKind, DeviceId, Role, UserId } from '../ports/types.js';

export interface ChatMembers {
  kind: ChatKind;
  roles: Map<UserId, Role>;
  onlyAdminsSend: boolean;
}

/** A dropped cache entry, as published to other nodes. */
export type Invalidation = { chatId: ChatId } | { userId: UserId } | { allDevices: true };

interface Entry<V> {
  value: Promise<V>;
  at: number;
}

export class Directory {
  private readonly chats = new Map<ChatId, Entry<ChatMembers | undefined>>();
  private readonly devices = new Map<UserId, Entry<DeviceId[]>>();
  /** Called for every local invalidation (not for those applied from other nodes). */
  onInvalidate: (inv: Invalidation) => void = () => {};

  constructor(
    private readonly store: Store,
    private readonly maxEntries = 100_000,
    private readonly ttlMs = Number.POSITIVE_INFINITY,
    private readonly now: () => number = Date.now,
  ) {}

  private fresh<K, V>(map: Map<K, Entry<V>>, key: K): Promise<V> | undefined {
    const e = map.get(key);
    if (!e) return undefined;
    if (this.now() - e.at > this.ttlMs) {
      map.delete(key);
      return undefined;
    }
    return e.value;
  }

  members(chatId: ChatId): Promise<ChatMembers | undefined> {
    let p = this.fresh(this.chats, chatId);
    if (!p) {
      p = this.store.chatGet(chatId).then((c) =>
        c
          ? {
              kind: c.kind,
              roles: new Map(c.members.map((m) => [m.userId, m.role])),
              onlyAdminsSend: c.onlyAdminsSend,
            }
          : undefined,
      );
      p.catch(() => this.chats.delete(chatId));
      this.remember(this.chats, chatId, p);
    }
    return p;
  }

  devicesOf(userId: UserId): Promise<DeviceId[]> {
    let p = this.fresh(this.devices, userId);
    if (!p) {
      p = this.store.devicesOfUsers([userId]).then((m) => m.get(userId) ?? []);
      p.catch(() => this.devices.delete(userId));
      this.remember(this.devices, userId, p);
    }
    return p;
  }

  /** Active devices of every member, by user. */
  async memberDevices(members: Iterable<UserId>): Promise<Map<UserId, DeviceId[]>> {
    const out = new Map<UserId, DeviceId[]>();
    for (const u of members) out.set(u, await this.devicesOf(u));
    return out;
  }

  invalidateChat(chatId: ChatId): void {
    this.chats.delete(chatId);
    this.onInvalidate({ chatId });
  }

  invalidateUser(userId: UserId): void {
    this.devices.delete(userId);
    this.onInvalidate({ userId });
  }

  invalidateAllDevices(): void {
    this.devices.clear();
    this.onInvalidate({ allDevices: true });
  }

  /** Applies an invalidation published by another node. */
  applyRemote(inv: Invalidation): void {
    if ('chatId' in inv) this.chats.delete(inv.chatId);
    else if ('userId' in inv) this.devices.delete(inv.userId);
    else this.devices.clear();
  }

  /** Drops everything (after the bus was down and invalidations may have been lost). */
  clear(): void {
    this.chats.clear();
    this.devices.clear();
  }

  private remember<K, V>(map: Map<K, Entry<V>>, key: K, value: Promise<V>): void {
    // A simple bound: when full, drop the oldest entry (Map keeps insertion order).
    if (map.size >= this.maxEntries) {
      const first = map.keys().next();
      if (!first.done) map.delete(first.value);
    }
    map.set(key, { value, at: this.now() });
  }
}
