/**
 * Wires push into a node: the registry of registered devices, registrations, the commit
 * hook that adds push jobs to a batch, and the worker. Without any registration the commit
 * hook returns the batch untouched (no lookups, no extra rows).
 */

import type { Registry } from 'prom-client';
import type { Directory } from '../chat/directory.js';
import type { Config } from '../config/schema.js';
import type { Limiters } from '../limits/limiters.js';
import type { Logger } from '../log.js';
import { alertFor } from '../mutes/alert.js';
import type { Clock } from '../ports/clock.js';
import type { PushPlatform, PushProvider } from '../ports/push.js';
import type { CommitResult, SendCommit, Store } from '../ports/store.js';
import type { ChatId, DeviceId, UserId } from '../ports/types.js';
import { type RingingCall, sendCallPushes } from './call-push.js';
import { PushMetrics } from './metrics.js';
import { PushRegistrations, type PushRegistryChange } from './registrations.js';
import { PushRegistry } from './registry.js';
import { type AlertFor, PushWorker } from './worker.js';

export interface PushOverrides {
  /** Providers by platform (createNode builds them from config unless given). */
  providers?: readonly PushProvider[];
  /** Randomness of the backoff jitter (tests make it deterministic). */
  random?: () => number;
  /** Whether a push alerts; default: the user's mutes and do-not-disturb (mutes/alert.ts). */
  alertFor?: AlertFor;
}

export interface PushWiring {
  readonly registry: PushRegistry;
  readonly registrations: PushRegistrations;
  readonly worker: PushWorker;
  readonly metrics: PushMetrics;
  /** Whether this node runs the worker. */
  readonly enabled: boolean;
  /** The batch with push jobs for registered recipients that are not connected here. */
  withPushJobs(batch: readonly SendCommit[]): Promise<readonly SendCommit[]>;
  /** Counts the jobs a committed batch recorded. */
  committed(batch: readonly SendCommit[], results: readonly CommitResult[]): void;
  /** Ring pushes for a call that starts ringing (call-push.ts): at once, no job, never rejects. */
  ringCall(call: RingingCall): Promise<void>;
  close(): Promise<void>;
}

export interface PushDeps {
  config: Config;
  store: Store;
  directory: Directory;
  limiters: Limiters;
  clock: Clock;
  log: Logger;
  registry: Registry;
  owner: string;
  connectedHere(deviceId: DeviceId): boolean;
  /** Which devices are connected on any node. */
  online(deviceIds: readonly DeviceId[]): Promise<Set<DeviceId>>;
  announce(change: PushRegistryChange): void;
  overrides: PushOverrides | undefined;
}

/** New messages get a push; edits, deletions and reactions do not. */
const pushes = (b: SendCommit) => !b.withheld && (!b.meta || b.meta.type === 'message');

export function wirePush(d: PushDeps): PushWiring {
  const c = d.config;
  const providers = new Map<PushPlatform, PushProvider>();
  for (const p of d.overrides?.providers ?? []) providers.set(p.platform, p);
  const registry = new PushRegistry();
  const metrics = new PushMetrics(d.registry);
  const registrations = new PushRegistrations({
    store: d.store,
    registry,
    limiters: d.limiters,
    clock: d.clock,
    log: d.log,
    rules: { allowInsecureUrls: c.pushAllowInsecureUrls, webhookOrigins: c.pushWebhookOrigins },
    announce: d.announce,
  });
  const alertOf: AlertFor =
    d.overrides?.alertFor ??
    ((userId: UserId, chatId: ChatId, mentioned: boolean) =>
      alertFor({ store: d.store }, { userId, chatId, mentioned, now: d.clock.now() }));
  const worker = new PushWorker({
    store: d.store,
    providers,
    clock: d.clock,
    log: d.log,
    metrics,
    owner: d.owner,
    settings: {
      pollMs: c.pushPollMs,
      batchSize: c.pushBatchSize,
      leaseMs: c.pushLeaseMs,
      maxAttempts: c.pushMaxAttempts,
      backoffBaseMs: c.pushBackoffBaseMs,
      backoffCapMs: c.pushBackoffCapMs,
      keepAttempts: 20,
    },
    online: d.online,
    // Mutes and do-not-disturb decide (mutes/alert.ts): a mention breaks through a group mute.
    alertFor: alertOf,
    tokenRemoved: (deviceId) => registrations.tokenRemoved(deviceId),
    random: d.overrides?.random ?? Math.random,
  });
  return {
    registry,
    registrations,
    worker,
    metrics,
    enabled: c.pushEnabled ?? providers.size > 0,
    async withPushJobs(batch) {
      if (registry.size === 0) return batch;
      let out: SendCommit[] | undefined;
      for (let i = 0; i < batch.length; i++) {
        const b = batch[i]!;
        if (!pushes(b)) continue;
        const members = await d.directory.members(b.chatId);
        if (!members) continue;
        let to = registry.recipients(members, b.senderUserId, d.connectedHere, b.meta?.mentions);
        if (to.length === 0) continue;
        const previews = b.pushPreviews;
        if (previews)
          to = to.map((r) => (previews.has(r.deviceId) ? { ...r, preview: previews.get(r.deviceId) } : r));
        out ??= batch.slice();
        out[i] = { ...b, push: { dueAt: b.serverTime + c.pushCoalesceMs, to } };
      }
      return out ?? batch;
    },
    committed(batch, results) {
      let n = 0;
      for (let i = 0; i < batch.length; i++) {
        const r = results[i];
        if (batch[i]!.push && r?.ok && !r.duplicate) n += batch[i]!.push!.to.length;
      }
      if (n > 0) metrics.queued.inc(n);
    },
    ringCall: (call) =>
      sendCallPushes(
        {
          store: d.store,
          registry,
          providers,
          metrics,
          log: d.log,
          online: d.online,
          alertFor: async (userId, chatId) => alertOf(userId, chatId, false),
          forget: (deviceId) => {
            registrations
              .forget([deviceId])
              .catch((err) => d.log.warn({ err }, 'removing an invalid push registration failed'));
          },
        },
        call,
      ),
    async close() {
      await worker.stop();
      await Promise.all([...providers.values()].map((p) => p.close().catch(() => {})));
    },
  };
}
