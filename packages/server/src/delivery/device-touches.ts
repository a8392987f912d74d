/**
 * Coalesces the last-seen writes of connects and disconnects into one store call every
 * `intervalMs`: a storm of 10,000 connects costs a few dozen writes, not 10,000, and keeps
 * a store call (its promise, its message to the store's thread) off each connect. A time
 * is written at most `intervalMs` late; one lost in a crash is older, which only delays a
 * linked device's retirement (as `deviceTouch` says).
 */
import type { Logger } from '../log.js';
import type { Store } from '../ports/store.js';
import type { DeviceId } from '../ports/types.js';

export class DeviceTouches {
  private pending = new Set<DeviceId>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  /** The device was active now; written with the next batch. */
  touch(deviceId: DeviceId): void {
    this.pending.add(deviceId);
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  /** Writes every touch added so far (at shutdown, before the store closes). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight) await this.inFlight;
    if (this.pending.size === 0) return;
    const ids = [...this.pending];
    this.pending = new Set();
    this.inFlight = this.store
      .devicesTouch(ids, this.now())
      .catch((err) => this.log.warn({ err, devices: ids.length }, 'recording last-seen times failed'));
    await this.inFlight;
    this.inFlight = undefined;
  }
}
