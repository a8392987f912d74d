/**
 * Writes the ends of leased push jobs with group commit: an end that comes while an earlier
 * write is under way waits for it, then goes with every other end that came meanwhile in one
 * `pushJobsFinish` transaction. One disk sync then serves many pushes instead of one each; a
 * lone end is written at once, as before. Each caller learns when its own end is durable.
 * If a shared write fails, its ends are written again one by one, so one bad end fails alone.
 */
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { PushJobFinish } from '../ports/store-push.js';

/** Most ends in one transaction (a worker has at most its batch size in flight). */
const MAX_ENDS = 1000;

interface Waiting {
  end: PushJobFinish;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class PushJobFinisher {
  private waiting: Waiting[] = [];
  private writing = false;

  constructor(
    private readonly d: {
      store: Pick<Store, 'pushJobsFinish'>;
      clock: Clock;
      keepAttempts: number;
    },
  ) {}

  /** Resolves once the end is committed (rejects with the store's error). */
  finish(end: PushJobFinish): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ end, resolve, reject });
      if (!this.writing) void this.writeAll();
    });
  }

  private async writeAll(): Promise<void> {
    this.writing = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, MAX_ENDS);
        try {
          await this.write(batch.map((w) => w.end));
          for (const w of batch) w.resolve();
        } catch (err) {
          if (batch.length === 1) batch[0]!.reject(err);
          else await this.oneByOne(batch);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async oneByOne(batch: readonly Waiting[]): Promise<void> {
    for (const w of batch) {
      try {
        await this.write([w.end]);
        w.resolve();
      } catch (err) {
        w.reject(err);
      }
    }
  }

  private write(ends: readonly PushJobFinish[]): Promise<void> {
    return this.d.store.pushJobsFinish(ends, this.d.clock.now(), this.d.keepAttempts);
  }
}
