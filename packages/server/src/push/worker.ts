/**
 * The push worker of one node: leases due jobs, drops those whose device came online or
 * received the messages since, and sends the rest through the provider of the target's
 * platform. Its answer decides the job's end: sent (gone), invalid token (registration gone),
 * retry (backoff with full jitter, honouring Retry-After), rejected or too many attempts
 * (dead letter). A job is only ever ended by its leaseholder, so a crash mid-send means the
 * job is leased again after the lease: at least once, never lost.
 */
import type { Logger } from '../log.js';
import type { Clock } from '../ports/clock.js';
import type { PushOutcome, PushPayload, PushPlatform, PushProvider } from '../ports/push.js';
import type { Store } from '../ports/store.js';
import type { PushAttempt, PushJob, PushJobEnd } from '../ports/store-push.js';
import { type ChatId, caughtUpSeq, type DeviceId, type UserId } from '../ports/types.js';
import { retryDelayMs } from './backoff.js';
import { PushJobFinisher } from './finisher.js';
import type { PushMetrics } from './metrics.js';

export interface PushWorkerSettings {
  pollMs: number;
  batchSize: number;
  leaseMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Attempts kept per device for `parley admin push status`. */
  keepAttempts: number;
}

/** Whether a push alerts (sound, banner) or is silent: muted chats and do-not-disturb say no. */
export type AlertFor = (userId: UserId, chatId: ChatId, mentioned: boolean) => boolean | Promise<boolean>;

export interface PushWorkerDeps {
  store: Store;
  providers: ReadonlyMap<PushPlatform, PushProvider>;
  clock: Clock;
  log: Logger;
  metrics: PushMetrics;
  /** The lease owner name: this node's id. */
  owner: string;
  settings: PushWorkerSettings;
  /** Which of these devices are connected now (on this node or, cheaply, any). */
  online(deviceIds: readonly DeviceId[]): Promise<Set<DeviceId>>;
  alertFor: AlertFor;
  /** The provider said the token is gone (the store already removed the registration). */
  tokenRemoved(deviceId: DeviceId): void;
  random: () => number;
}

export class PushWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  /** Ends of the jobs of a run are written together as their sends come back. */
  private readonly finisher: PushJobFinisher;

  constructor(private readonly d: PushWorkerDeps) {
    this.finisher = new PushJobFinisher({
      store: d.store,
      clock: d.clock,
      keepAttempts: d.settings.keepAttempts,
    });
  }

  start(): void {
    this.stopped = false;
    this.schedule(this.d.settings.pollMs);
  }

  /** Stops polling and waits for the run in progress (its jobs finish or keep their lease). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .then((n) => this.schedule(n >= this.d.settings.batchSize ? 0 : this.d.settings.pollMs))
        .catch((err) => {
          this.d.log.warn({ err }, 'push worker run failed');
          this.schedule(this.d.settings.pollMs);
        });
    }, ms);
    this.timer.unref();
  }

  /** Leases the jobs due now and handles them; returns how many were leased. */
  async runOnce(): Promise<number> {
    const s = this.d.settings;
    const jobs = await this.d.store.pushJobsLease(this.d.owner, this.d.clock.now(), s.leaseMs, s.batchSize);
    if (jobs.length === 0) return 0;
    const online = await this.d.online(jobs.map((j) => j.deviceId)).catch((err) => {
      this.d.log.warn({ err }, 'push: cannot tell which devices are online; sending anyway');
      return new Set<DeviceId>();
    });
    await Promise.all(
      jobs.map((job) =>
        this.handle(job, online.has(job.deviceId)).catch((err) =>
          this.d.log.warn({ err, deviceId: job.deviceId }, 'push job failed; it is retried after its lease'),
        ),
      ),
    );
    return jobs.length;
  }

  private async handle(job: PushJob, online: boolean): Promise<void> {
    const drop = (reason: string) => {
      this.d.metrics.dropped.inc({ reason });
      return this.finish(job, { kind: 'done' }, this.attempt('', 'dropped', 0, reason, 0));
    };
    if (!job.target) return drop('unregistered');
    if (online) return drop('online');
    if (await this.delivered(job)) return drop('delivered');
    const platform = job.target.platform;
    const provider = this.d.providers.get(platform);
    if (!provider) {
      this.d.metrics.failed.inc({ platform, reason: 'no-provider' });
      this.d.metrics.deadLettered.inc({ platform });
      const reason = `no ${platform} provider is configured`;
      return this.finish(job, { kind: 'dead', reason }, this.attempt(platform, 'no-provider', 0, reason, 0));
    }
    const payload = await this.payload(job);
    const t0 = performance.now();
    let outcome: PushOutcome;
    try {
      outcome = await provider.send(job.target, payload);
    } catch (err) {
      // Providers map every answer to an outcome; a throw is a bug there, treated as a retry.
      outcome = { kind: 'retry', status: 0, reason: (err as Error).message ?? 'provider failed' };
    }
    const latency = performance.now() - t0;
    this.d.metrics.commitToAnswer.observe(
      { platform },
      Math.max(0, this.d.clock.now() - job.createdAt) / 1000,
    );
    const reason = outcome.kind === 'sent' ? '' : outcome.reason.slice(0, 200);
    const attempt = this.attempt(platform, outcome.kind, outcome.status, reason, latency);
    switch (outcome.kind) {
      case 'sent':
        this.d.metrics.sent.inc({ platform });
        return this.finish(job, { kind: 'done' }, attempt);
      case 'invalid-token':
        this.d.metrics.failed.inc({ platform, reason: 'invalid-token' });
        await this.finish(job, { kind: 'invalid-token' }, attempt);
        this.d.tokenRemoved(job.deviceId);
        return;
      case 'rejected':
        this.d.metrics.failed.inc({ platform, reason: 'rejected' });
        this.d.metrics.deadLettered.inc({ platform });
        return this.finish(job, { kind: 'dead', reason: `rejected: ${reason}` }, attempt);
      case 'retry': {
        this.d.metrics.failed.inc({ platform, reason: 'retry' });
        const s = this.d.settings;
        if (job.attempts + 1 >= s.maxAttempts) {
          this.d.metrics.deadLettered.inc({ platform });
          const why = `gave up after ${job.attempts + 1} attempts: ${reason}`;
          return this.finish(job, { kind: 'dead', reason: why }, attempt);
        }
        const wait = retryDelayMs(
          job.attempts,
          { baseMs: s.backoffBaseMs, capMs: s.backoffCapMs },
          this.d.random,
          outcome.retryAfterMs,
        );
        return this.finish(job, { kind: 'retry', dueAt: this.d.clock.now() + wait }, attempt);
      }
    }
  }

  /** True when the device acked the job's newest message (it connected and drained since). */
  private async delivered(job: PushJob): Promise<boolean> {
    const c = await this.d.store.cursorsOf(job.deviceId);
    const i = c.chatIds.indexOf(job.chatId);
    // No cursor: the device left the chat or is gone; nothing to announce.
    const acked = i >= 0 ? c.ackedSeqs[i]! : (caughtUpSeq(c.caughtUp, job.chatId) ?? Number.MAX_SAFE_INTEGER);
    return acked >= job.lastSeq;
  }

  private async payload(job: PushJob): Promise<PushPayload> {
    const chats = await this.d.store.chatSummaries(job.userId);
    let badge = 0;
    for (const c of chats) badge += c.unreadCount;
    const alert = await this.d.alertFor(job.userId, job.chatId, job.mentioned);
    return {
      kind: 'message',
      deviceId: job.deviceId,
      userId: job.userId,
      chatId: job.chatId,
      messageCount: job.messageCount,
      badge,
      alert,
      collapseId: job.chatId,
      // A silent push (muted, do-not-disturb) shows nothing, so it carries no preview either.
      ...(alert && job.preview && { preview: Buffer.from(job.preview).toString('base64') }),
    };
  }

  private attempt(
    platform: PushPlatform | '',
    outcome: PushAttempt['outcome'],
    status: number,
    reason: string,
    latencyMs: number,
  ): PushAttempt {
    return { at: this.d.clock.now(), platform, outcome, status, reason, latencyMs };
  }

  private finish(job: PushJob, end: PushJobEnd, attempt: PushAttempt): Promise<void> {
    return this.finisher.finish({ job, end, attempt });
  }
}
