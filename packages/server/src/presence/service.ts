/**
 * Presence: a user is online while any of their devices is connected here; when the last
 * one goes, the time is stored as last seen. Connections subscribe to the users of the chat
 * they show and get every change pushed, filtered by each target's last-seen privacy
 * (everyone / contacts = a direct chat / nobody) and the watcher's own (who hides it from
 * everyone sees no one's). Nothing but the last-seen time is stored.
 */
import {
  create,
  type FrameInit,
  type Presence,
  PresenceSchema,
  LastSeenVisibility as WireVisibility,
} from '@parley/protocol';
import type { BlockCheck } from '../blocks/service.js';
import type { Logger } from '../log.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { LastSeenVisibility, UserId } from '../ports/types.js';

export interface PresenceConnection {
  readonly userId: UserId;
  /** Sends a push frame (id 0) on this connection. */
  push(body: FrameInit['body']): void;
}

export const MAX_SUBSCRIPTIONS = 256;

/** With several nodes: whether a user has a device connected to any node. */
export interface PresenceRemote {
  connectedAnywhere(userId: UserId): Promise<boolean>;
}

export const visibilityToWire: Record<LastSeenVisibility, WireVisibility> = {
  everyone: WireVisibility.EVERYONE,
  contacts: WireVisibility.CONTACTS,
  nobody: WireVisibility.NOBODY,
};

export class PresenceService {
  private readonly connected = new Map<UserId, number>();
  private readonly watchers = new Map<UserId, Set<PresenceConnection>>();
  private readonly subscriptions = new Map<PresenceConnection, Set<UserId>>();
  private readonly visibility = new Map<UserId, LastSeenVisibility>();
  private readonly generations = new Map<PresenceConnection, number>();
  private readonly open = new Set<PresenceConnection>();
  /** The online state last pushed to watchers of each user. */
  private readonly lastSent = new Map<UserId, boolean>();
  remote: PresenceRemote | undefined;
  /** A user who blocked the watcher shows as offline with no last seen, and no change is pushed. */
  blocks: BlockCheck | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Connected to this node. */
  isOnline(userId: UserId): boolean {
    return (this.connected.get(userId) ?? 0) > 0;
  }

  /** Connected to this node or, with several nodes, to another. */
  async onlineNow(userId: UserId): Promise<boolean> {
    if (this.isOnline(userId)) return true;
    return this.remote ? this.remote.connectedAnywhere(userId) : false;
  }

  /** Another node says the user's presence may have changed: tell watchers here if it did. */
  async refresh(userId: UserId): Promise<void> {
    if (!this.watchers.has(userId)) return;
    const online = await this.onlineNow(userId);
    if (this.lastSent.get(userId) === online) return;
    const lastSeen = online ? 0 : ((await this.store.userPresenceGet(userId))?.lastSeenAt ?? 0);
    this.notify(userId, lastSeen, online);
  }

  connectionOpened(conn: PresenceConnection): void {
    this.open.add(conn);
    const n = (this.connected.get(conn.userId) ?? 0) + 1;
    this.connected.set(conn.userId, n);
    if (n === 1) this.notify(conn.userId, 0, true);
  }

  connectionClosed(conn: PresenceConnection): void {
    this.open.delete(conn);
    this.generations.delete(conn);
    this.unsubscribeAll(conn);
    const n = (this.connected.get(conn.userId) ?? 1) - 1;
    if (n > 0) {
      this.connected.set(conn.userId, n);
      return;
    }
    this.connected.delete(conn.userId);
    const at = this.clock.now();
    const offline = () => {
      this.store
        .userLastSeenSet(conn.userId, at)
        .catch((err) => this.log.error({ err }, 'storing last seen failed'));
      this.notify(conn.userId, at, false);
    };
    if (!this.remote) {
      offline();
      return;
    }
    // Still online if another device is connected to another node.
    this.remote.connectedAnywhere(conn.userId).then(
      (elsewhere) => {
        if (!elsewhere && !this.isOnline(conn.userId)) offline();
      },
      () => offline(),
    );
  }

  /** Replaces the connection's subscriptions; answers with each user's presence now. */
  async subscribe(conn: PresenceConnection, userIds: readonly UserId[]): Promise<Presence[]> {
    // Overlapping subscribes on one connection: only the latest one takes effect.
    const generation = (this.generations.get(conn) ?? 0) + 1;
    this.generations.set(conn, generation);
    const unique = [...new Set(userIds)];
    const others = unique.filter((u) => u !== conn.userId);
    const allowed = await this.store.usersSharingChat(conn.userId, others);
    for (const u of allowed) if (await this.blocks?.isBlocked(u, conn.userId)) allowed.delete(u);
    allowed.add(conn.userId);
    const targets = new Set(unique.filter((u) => allowed.has(u)));
    if (this.generations.get(conn) === generation && this.open.has(conn)) {
      this.unsubscribeAll(conn);
      this.subscriptions.set(conn, targets);
      for (const t of targets) {
        let set = this.watchers.get(t);
        if (!set) {
          set = new Set();
          this.watchers.set(t, set);
        }
        set.add(conn);
      }
    }
    const out: Presence[] = [];
    for (const u of unique) {
      if (!targets.has(u)) {
        out.push(create(PresenceSchema, { userId: u, online: false, lastSeen: 0n }));
        continue;
      }
      const record = await this.store.userPresenceGet(u);
      const online = await this.onlineNow(u);
      out.push(await this.view(conn.userId, u, online ? 0 : (record?.lastSeenAt ?? 0), online));
    }
    return out;
  }

  async visibilityOf(userId: UserId): Promise<LastSeenVisibility> {
    let v = this.visibility.get(userId);
    if (!v) {
      v = (await this.store.userPresenceGet(userId))?.visibility ?? 'everyone';
      this.visibility.set(userId, v);
    }
    return v;
  }

  async setVisibility(userId: UserId, v: LastSeenVisibility): Promise<void> {
    await this.store.userVisibilitySet(userId, v);
    this.visibility.set(userId, v);
  }

  /** What `watcher` may see of `target`, who is online when `lastSeenAt` is 0. */
  private async view(
    watcher: UserId,
    target: UserId,
    lastSeenAt: number,
    online: boolean,
  ): Promise<Presence> {
    let lastSeen = online ? 0 : lastSeenAt;
    if (lastSeen > 0 && watcher !== target) {
      const theirs = await this.visibilityOf(target);
      const mine = await this.visibilityOf(watcher);
      const visible =
        mine !== 'nobody' &&
        (theirs === 'everyone' ||
          (theirs === 'contacts' && (await this.store.usersHaveDirectChat(watcher, target))));
      if (!visible) lastSeen = 0;
    }
    return create(PresenceSchema, { userId: target, online, lastSeen: BigInt(lastSeen) });
  }

  /**
   * `blocker` blocked or unblocked `other`: `other`'s connections here that watch `blocker`
   * see them go offline (no last seen), or see their presence again.
   */
  async blockChanged(blocker: UserId, other: UserId): Promise<void> {
    const set = this.watchers.get(blocker);
    if (!set) return;
    const conns = [...set].filter((c) => c.userId === other);
    if (conns.length === 0) return;
    const online = await this.onlineNow(blocker);
    const lastSeenAt = online ? 0 : ((await this.store.userPresenceGet(blocker))?.lastSeenAt ?? 0);
    const presence =
      (await this.viewUnlessBlocked(other, blocker, lastSeenAt, online)) ??
      create(PresenceSchema, { userId: blocker, online: false, lastSeen: 0n });
    for (const conn of conns)
      if (this.subscriptions.get(conn)?.has(blocker)) conn.push({ case: 'presence', value: { presence } });
  }

  private async viewUnlessBlocked(
    watcher: UserId,
    target: UserId,
    lastSeenAt: number,
    online: boolean,
  ): Promise<Presence | undefined> {
    if (await this.blocks?.isBlocked(target, watcher)) return undefined;
    return this.view(watcher, target, lastSeenAt, online);
  }

  private notify(target: UserId, lastSeenAt: number, online: boolean): void {
    const set = this.watchers.get(target);
    if (!set) return;
    this.lastSent.set(target, online);
    for (const conn of set) {
      this.viewUnlessBlocked(conn.userId, target, lastSeenAt, online).then(
        (presence) => {
          if (presence && this.subscriptions.get(conn)?.has(target))
            conn.push({ case: 'presence', value: { presence } });
        },
        (err) => this.log.error({ err }, 'presence update failed'),
      );
    }
  }

  private unsubscribeAll(conn: PresenceConnection): void {
    const targets = this.subscriptions.get(conn);
    if (!targets) return;
    for (const t of targets) {
      const set = this.watchers.get(t);
      set?.delete(conn);
      if (set?.size === 0) {
        this.watchers.delete(t);
        this.lastSent.delete(t);
      }
    }
    this.subscriptions.delete(conn);
  }
}
