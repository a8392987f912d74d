/**
 * The devices that have a push registration, in memory on every node (loaded at start, kept
 * current by this node's changes and by other nodes' over the bus). The commit path asks it
 * which recipients need a push job: with no registrations that is no work at all.
 */
import type { PushRecipient } from '../ports/store-push.js';
import type { DeviceId, UserId } from '../ports/types.js';

export class PushRegistry {
  private readonly byUser = new Map<UserId, DeviceId[]>();
  private readonly userOf = new Map<DeviceId, UserId>();

  get size(): number {
    return this.userOf.size;
  }

  has(deviceId: DeviceId): boolean {
    return this.userOf.has(deviceId);
  }

  add(deviceId: DeviceId, userId: UserId): void {
    if (this.userOf.get(deviceId) === userId) return;
    this.remove(deviceId);
    this.userOf.set(deviceId, userId);
    const list = this.byUser.get(userId);
    if (list) list.push(deviceId);
    else this.byUser.set(userId, [deviceId]);
  }

  remove(deviceId: DeviceId): void {
    const userId = this.userOf.get(deviceId);
    if (userId === undefined) return;
    this.userOf.delete(deviceId);
    const list = this.byUser.get(userId)!.filter((d) => d !== deviceId);
    if (list.length) this.byUser.set(userId, list);
    else this.byUser.delete(userId);
  }

  /** Replaces every entry (a reload from the store). */
  reset(entries: Iterable<PushRecipient>): void {
    this.byUser.clear();
    this.userOf.clear();
    for (const e of entries) this.add(e.deviceId, e.userId);
  }

  /**
   * Registered devices of `members` other than the sender's user, that `connected` says are
   * not connected. Walks whichever is smaller, the members or the registered users.
   */
  recipients(
    members: { readonly users: readonly UserId[]; has(userId: UserId): boolean },
    senderUserId: UserId,
    connected: (deviceId: DeviceId) => boolean,
    mentions: readonly UserId[] = [],
  ): PushRecipient[] {
    const out: PushRecipient[] = [];
    const take = (userId: UserId, devices: readonly DeviceId[]) => {
      if (userId === senderUserId) return;
      const mentioned = mentions.includes(userId);
      for (const deviceId of devices)
        if (!connected(deviceId))
          out.push(mentioned ? { deviceId, userId, mentioned } : { deviceId, userId });
    };
    if (members.users.length <= this.byUser.size) {
      for (const u of members.users) {
        const devices = this.byUser.get(u);
        if (devices) take(u, devices);
      }
    } else {
      for (const [u, devices] of this.byUser) if (members.has(u)) take(u, devices);
    }
    return out;
  }
}
