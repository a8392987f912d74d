/**
 * Read-through caches of chat membership and users' active devices, used to validate sends
 * and to find recipients for fan-out. The store stays the authority: the send transaction
 * re-checks membership. Entries are dropped by whoever changes them (invalidate*).
 */
import type { Store } from '../ports/store.js';
import type { ChatId, ChatKind, DeviceId, Role, UserId } from '../ports/types.js';

export interface ChatMembers {
  kind: ChatKind;
  roles: Map<UserId, Role>;
  onlyAdminsSend: boolean;
}

export class Directory {
  private readonly chats = new Map<ChatId, Promise<ChatMembers | undefined>>();
  private readonly devices = new Map<UserId, Promise<DeviceId[]>>();

  constructor(
    private readonly store: Store,
    private readonly maxEntries = 100_000,
  ) {}

  members(chatId: ChatId): Promise<ChatMembers | undefined> {
    let p = this.chats.get(chatId);
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
    let p = this.devices.get(userId);
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
  }

  invalidateUser(userId: UserId): void {
    this.devices.delete(userId);
  }

  invalidateAllDevices(): void {
    this.devices.clear();
  }

  private remember<K, V>(map: Map<K, V>, key: K, value: V): void {
    // A simple bound: when full, drop the oldest entry (Map keeps insertion order).
    if (map.size >= this.maxEntries) {
      const first = map.keys().next();
      if (!first.done) map.delete(first.value);
    }
    map.set(key, value);
  }
}
