/**
 * Push metrics, in the node's registry. Labels are bounded: platforms and outcome reasons
 * from fixed lists, never a device or token.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export class PushMetrics {
  readonly queued: Counter;
  readonly sent: Counter<'platform'>;
  readonly failed: Counter<'platform' | 'reason'>;
  readonly dropped: Counter<'reason'>;
  readonly deadLettered: Counter<'platform'>;
  readonly commitToAnswer: Histogram<'platform'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.queued = new Counter({
      name: 'parley_push_queued_total',
      help: 'Messages recorded for a push to an offline registered device (coalesced per device into one job)',
      registers,
    });
    this.sent = new Counter({
      name: 'parley_push_sent_total',
      help: 'Pushes the provider accepted, by platform',
      labelNames: ['platform'],
      registers,
    });
    this.failed = new Counter({
      name: 'parley_push_failed_total',
      help: 'Push attempts that failed, by platform and reason (invalid-token, retry, rejected, no-provider)',
      labelNames: ['platform', 'reason'],
      registers,
    });
    this.dropped = new Counter({
      name: 'parley_push_dropped_total',
      help: 'Push jobs dropped unsent, by reason (online, delivered, unregistered)',
      labelNames: ['reason'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'parley_push_dead_lettered_total',
      help: 'Push jobs moved to the dead letters, by platform',
      labelNames: ['platform'],
      registers,
    });
    this.commitToAnswer = new Histogram({
      name: 'parley_push_commit_to_answer_seconds',
      help: "Time from a push job's first message commit to the provider's answer, by platform",
      labelNames: ['platform'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 3, 5, 10, 30, 60, 300],
      registers,
    });
  }
}
