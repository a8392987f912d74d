/**
 * Gathers work for `windowMs` and hands it over as one batch: what many events close in time
 * cause (a storm of connects: their last-seen writes, prekey checks, receipt catch-ups) costs
 * one store call instead of one each. A key added twice in a window is in its batch once,
 * with the later value. One batch runs at a time; `flush` runs what is waiting now (and waits
 * for a batch in progress); `stop` drops what is waiting and takes nothing more.
 */
export class Coalescer<K, V> {
  private waiting = new Map<K, V>();
  private running: Map<K, V> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly windowMs: number,
    private readonly run: (batch: ReadonlyMap<K, V>) => Promise<void>,
    /** A batch failed: told once, with its size. Later batches still run. */
    private readonly failed: (err: unknown, size: number) => void,
  ) {}

  add(key: K, value: V): void {
    if (this.stopped) return;
    this.waiting.set(key, value);
    this.timer ??= setTimeout(() => void this.flush(), this.windowMs).unref();
  }

  /** Takes a key out of the waiting batch and out of the one being run (it has been handled). */
  forget(key: K): void {
    this.waiting.delete(key);
    this.running?.delete(key);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.inFlight) await this.inFlight;
    if (this.waiting.size === 0) return;
    const batch = this.waiting;
    this.waiting = new Map();
    this.running = batch;
    let ran: Promise<void>;
    try {
      ran = this.run(batch);
    } catch (err) {
      ran = Promise.reject(err);
    }
    this.inFlight = ran
      .catch((err) => this.failed(err, batch.size))
      .finally(() => {
        this.running = undefined;
        this.inFlight = undefined;
      });
    await this.inFlight;
  }

  /** Drops what is waiting; a batch in progress finishes. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.waiting.clear();
  }
}
