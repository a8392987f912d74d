/**
 * Scheduled housekeeping: deletes messages older than the retention period in small
 * batches (yielding between them so traffic is not blocked), removes media bodies nothing
 * references any more (media/sweep.ts), forgets discovery lookups older than a day, and logs
 * out linked devices whose primary has not been seen for linkedDeviceMaxIdleDays.
 */
import { DISCOVERY_WINDOW_MS } from '../discovery/service.js';
import type { Logger } from '../log.js';
import { sweepMedia } from '../media/sweep.js';
import type { BlobStore } from '../ports/blobs.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { DeviceId } from '../ports/types.js';

const DAY = 86_400_000;
const BATCH = 1000;

export interface RetentionDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  retentionDays: number;
  linkedDeviceMaxIdleDays: number;
  /** Devices connected now: primaries among them count as seen. */
  connectedDevices: () => Iterable<DeviceId>;
  /** Writes the last-seen times still waiting in a batch, so a retirement sees them. */
  flushTouches?: () => Promise<void>;
  onRevoked: (ids: DeviceId[]) => void;
  /** Media bodies go when nothing references them (media/sweep.ts). */
  blobs?: BlobStore;
}

export async function runRetention(
  d: RetentionDeps,
): Promise<{ expired: number; retired: number; mediaExpired: number }> {
  const now = d.clock.now();
  let expired = 0;
  for (;;) {
    const n = await d.store.messagesExpire(now - d.retentionDays * DAY, BATCH, now);
    expired += n;
    if (n < BATCH) break;
    await new Promise((r) => setImmediate(r));
  }
  const mediaExpired = d.blobs
    ? await sweepMedia({ store: d.store, blobs: d.blobs, now, messagesSince: now - d.retentionDays * DAY })
    : 0;
  // Who uploaded a body is forgotten after the retention period (avatars stay with their bodies).
  while ((await d.store.mediaUploadsExpire(now - d.retentionDays * DAY, BATCH)) === BATCH) {
    await new Promise((r) => setImmediate(r));
  }
  // Discovery lookups are remembered for a day (discovery/service.ts).
  while ((await d.store.discoveryLookupsExpire(now - DISCOVERY_WINDOW_MS, BATCH)) === BATCH) {
    await new Promise((r) => setImmediate(r));
  }
  await d.flushTouches?.();
  const connected = [...d.connectedDevices()];
  for (let i = 0; i < connected.length; i += BATCH)
    await d.store.devicesTouch(connected.slice(i, i + BATCH), now);
  const retired = await d.store.devicesRetireOrphans(now - d.linkedDeviceMaxIdleDays * DAY, now);
  if (retired.length) d.onRevoked(retired);
  if (expired || retired.length || mediaExpired)
    d.log.info({ expired, retired: retired.length, mediaExpired }, 'retention run');
  return { expired, retired: retired.length, mediaExpired };
}
