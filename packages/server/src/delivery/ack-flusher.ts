/**
 * Coalesces cursor acks from all connections and persists them, with the delivered receipt
 * positions they move, in one transaction every `intervalMs` (a device acking 200 messages a
 * second costs a few cursor writes, not 200). A lost flush (crash) only means redelivery,
 * never loss.
 */
import type { Logger } from '../log.js';
import type { Store } from '../ports/store.js';
import type { ChatId, DeviceId, ReceiptChange, UserId } from '../ports/types.js';

type PendingAck = { deviceId: DeviceId; userId: UserId; chatId: ChatId; seq: number };

export class AckFlusher {
  private pending = new Map<string, PendingAck>();
  private scheduled = false;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly intervalMs = 0,
    /** Called with the receipt positions each persisted batch moved. */
    private readonly onPersisted: (changes: readonly ReceiptChange[]) => Promise<void> = async () => {},
    private readonly now: () => number = Date.now,
  ) {}

  add(deviceId: DeviceId, userId: UserId, chatId: ChatId, seq: number): void {
    const key = `${deviceId}\u0000${chatId}`;
    const prev = this.pending.get(key);
    // An entry is the pending map's until a flush takes the map whole: moved in place.
    if (!prev) this.pending.set(key, { deviceId, userId, chatId, seq });
    else if (prev.seq < seq) prev.seq = seq;
    if (!this.scheduled) {
      this.scheduled = true;
      if (this.intervalMs > 0) setTimeout(() => void this.flush(), this.intervalMs).unref();
      else setImmediate(() => void this.flush());
    }
  }

  /** Persists everything added so far. */
  async flush(): Promise<void> {
    this.scheduled = false;
    if (this.inFlight) await this.inFlight;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.inFlight = this.store
      .acksPersist(batch, this.now())
      .then((changes) => this.onPersisted(changes))
      .catch((err) => {
        this.log.error(
          { err, acks: batch.length },
          'persisting acks failed; devices will get those messages again',
        );
      });
    await this.inFlight;
    this.inFlight = undefined;
  }
}
