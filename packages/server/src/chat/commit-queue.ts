/**
 * Group commit: writes that arrive together go to the store in one transaction, so they
 * share one disk sync. A flush is scheduled `windowMs` after the first enqueue (or on the
 * next turn of the event loop), so everything decoded from the sockets meanwhile joins the
 * batch; one batch is in flight at a time, and items arriving during it form the next batch.
 * An item's promise resolves only after its transaction committed. Sends go through a
 * CommitQueue; chat creation through a GroupCommit of its own (chat/service.ts).
 */
import type { CommitResult, SendCommit, Store } from '../ports/store.js';

interface Pending<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export interface GroupCommitOptions<I, R> {
  maxBatch: number;
  /** How long the first item of a batch may wait for others to join it (0 = next turn of the loop). */
  windowMs?: number;
  /** Called after each committed batch, in order, before the items' promises resolve. */
  onCommitted?: (items: readonly I[], results: readonly R[]) => void;
  onBatch?: (size: number, ms: number) => void;
}

export interface CommitQueueOptions extends GroupCommitOptions<SendCommit, CommitResult> {
  onCommitted: (items: readonly SendCommit[], results: readonly CommitResult[]) => void;
  /** Test-only unsafe mode: resolve at once and commit after this delay. */
  unsafeAckBeforeCommitMs?: number;
}

export class GroupCommit<I, R> {
  private queue: Pending<I, R>[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | undefined;

  constructor(
    /** Commits a batch in one transaction; one result per item, in order. */
    private readonly commit: (items: I[]) => Promise<R[]>,
    private readonly options: GroupCommitOptions<I, R>,
  ) {}

  get depth(): number {
    return this.queue.length;
  }

  enqueue(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when everything enqueued so far has been committed (used on shutdown). */
  async idle(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight) {
      if (this.inFlight) await this.inFlight;
      else await this.flush();
    }
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    // A short window lets concurrent sends share one disk sync; a full batch goes at once.
    const windowMs = this.options.windowMs ?? 0;
    if (windowMs > 0 && this.queue.length < this.options.maxBatch)
      setTimeout(() => void this.flush(), windowMs);
    else setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatch);
    const items = batch.map((p) => p.item);
    const started = performance.now();
    this.inFlight = (async () => {
      try {
        const results = await this.commit(items);
        this.options.onBatch?.(items.length, performance.now() - started);
        try {
          this.options.onCommitted?.(items, results);
        } finally {
          for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
        }
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    })();
    await this.inFlight;
    this.inFlight = undefined;
    if (this.queue.length > 0) {
      if (!this.scheduled) {
        // These sends already waited for the previous commit: no extra window.
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    }
  }
}

/** The group commit of sends. */
export class CommitQueue extends GroupCommit<SendCommit, CommitResult> {
  private readonly unsafeDelay: number | undefined;

  constructor(store: Pick<Store, 'messageCommit'>, options: CommitQueueOptions) {
    super((items) => store.messageCommit(items), options);
    this.unsafeDelay = options.unsafeAckBeforeCommitMs;
  }

  override enqueue(item: SendCommit): Promise<CommitResult> {
    const unsafeDelay = this.unsafeDelay;
    if (unsafeDelay === undefined) return super.enqueue(item);
    // Each send joins the queue only `unsafeDelay` ms after it was acknowledged, so at any
    // moment the acks of the last `unsafeDelay` ms are not yet durable.
    setTimeout(() => void super.enqueue(item).catch(() => {}), unsafeDelay);
    return Promise.resolve({ ok: true, seq: 0, serverTime: item.serverTime, duplicate: false });
  }
}
