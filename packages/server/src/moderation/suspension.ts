/**
 * Closes the sockets of suspended accounts. `parley admin suspend` writes `suspended_at` in the
 * store, usually from another process, so every node polls the store for suspensions made since
 * its last look (`Store.usersSuspendedSince`, an index range scan) every `suspensionCheckMs` and
 * closes its own connections of those users with close code 4004. No bus is needed, so this
 * works the same for one SQLite node and for many nodes on PostgreSQL; each node closes what it
 * holds. New connections are refused at authentication (ACCOUNT_SUSPENDED), so a device that
 * connects between the suspension and the next poll is refused as soon as it reconnects, and at
 * most `suspensionCheckMs` passes before an open socket closes.
 */
import { CloseCodes } from '@parley/protocol';
import type { Logger } from '../log.js';
import type { Store } from '../ports/store.js';
import type { DeviceId, UserId } from '../ports/types.js';

/** Suspensions read per poll at most; more are read on the next poll. */
const PAGE = 500;
/**
 * Suspension times come from the admin command's clock, not the node's: the poll looks back
 * this far before the newest time it saw, so a later suspension stamped with a clock a little
 * behind is still found. Users already handled within it are skipped.
 */
const LOOK_BACK_MS = 5 * 60_000;

export interface SuspensionDeps {
  store: Store;
  log: Logger;
  intervalMs: number;
  now: () => number;
  /** Connections on this node of the user's devices. */
  localDevicesOf(userId: UserId): DeviceId[];
  close(deviceIds: readonly DeviceId[], code: number, reason: string): void;
}

export class SuspensionWatcher {
  private timer: NodeJS.Timeout | undefined;
  private since: number;
  /** `${userId}@${at}` of suspensions handled within the look-back window. */
  private readonly handled = new Map<string, number>();
  private running = false;

  constructor(private readonly d: SuspensionDeps) {
    this.since = d.now() - LOOK_BACK_MS;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.check().catch((err) => this.d.log.warn({ err }, 'checking for suspended accounts failed'));
    }, this.d.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One poll: closes this node's connections of accounts suspended since the last one. */
  async check(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const found = await this.d.store.usersSuspendedSince(this.since, PAGE);
      let newest = this.since + LOOK_BACK_MS;
      for (const { userId, at } of found) {
        newest = Math.max(newest, at);
        const key = `${userId}@${at}`;
        if (this.handled.has(key)) continue;
        this.handled.set(key, at);
        const devices = this.d.localDevicesOf(userId);
        if (devices.length) {
          this.d.close(devices, CloseCodes.SUSPENDED, 'account suspended');
          this.d.log.info(
            { userId, devices: devices.length },
            'closed the connections of a suspended account',
          );
        }
      }
      // A full page may hide more at the same time: look again from there.
      this.since = found.length === PAGE ? found[found.length - 1]!.at : newest - LOOK_BACK_MS;
      for (const [key, at] of this.handled) if (at < this.since) this.handled.delete(key);
    } finally {
      this.running = false;
    }
  }
}
