/**
 * The last-seen writes of connects and disconnects, one store call every `intervalMs`: a
 * storm of 10,000 connects costs a few dozen writes, not 10,000, and keeps a store call off
 * each connect (architecture.md, "A connect asks the store"). A time is written at most
 * `intervalMs` late; one lost in a crash is older, which only delays a linked device's
 * retirement (as `devicesTouch` says).
 */
import { Coalescer } from '../coalescer.js';
import type { Logger } from '../log.js';
import type { Store } from '../ports/store.js';
import type { DeviceId } from '../ports/types.js';

export class DeviceTouches {
  private readonly batches: Coalescer<DeviceId, true>;

  constructor(store: Store, log: Logger, intervalMs: number, now: () => number) {
    this.batches = new Coalescer(
      intervalMs,
      (batch) => store.devicesTouch([...batch.keys()], now()),
      (err, devices) => log.warn({ err, devices }, 'recording last-seen times failed'),
    );
  }

  /** The device was active now; written with the next batch. */
  touch(deviceId: DeviceId): void {
    this.batches.add(deviceId, true);
  }

  /** Writes every touch added so far (at shutdown, before the store closes). */
  flush(): Promise<void> {
    return this.batches.flush();
  }
}
