/**
 * Incoming `deliver` frames, processed one at a time in arrival order. Per message: drop
 * it as a duplicate when its seq is at or below the chat's local cursor, else hand it to
 * the app and advance the cursor. Per frame: persist the advanced cursors, and only then
 * ack the highest seq per chat of the frame (duplicates included, so the server clears
 * them). A crash between handing a message to the app and persisting its cursor re-delivers
 * at most that frame.
 */
import type { Message } from '@parley/protocol';
import { num, toReceived } from './convert.js';
import type { ChatCursor, LocalStore } from './local-store.js';
import type { ClientStats, ReceivedChatUpdate, ReceivedMessage } from './types.js';

export interface DeliverySink {
  /** Hands a new message to the app; resolves once the app's listeners are done. */
  message(message: ReceivedMessage): Promise<void>;
  chatUpdate(update: ReceivedChatUpdate): Promise<void>;
  /** A failure while processing (e.g. the store could not persist): nothing was acked. */
  error(err: unknown): void;
}

/** Sends the ack for a processed frame; `messages` is how many messages it covers. */
export type AckSender = (cursors: ChatCursor[], messages: number) => void;

export class Delivery {
  private readonly cursors = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: LocalStore,
    private readonly sink: DeliverySink,
    private readonly stats: ClientStats,
  ) {}

  /** Queues one deliver frame's messages; the returned promise settles when it is processed. */
  enqueue(messages: readonly Message[], ack: AckSender): Promise<void> {
    this.chain = this.chain.then(() => this.process(messages, ack)).catch((err) => this.sink.error(err));
    return this.chain;
  }

  /** Resolves when every queued frame has been processed. */
  idle(): Promise<void> {
    return this.chain;
  }

  private async cursor(chatId: string): Promise<number> {
    let seq = this.cursors.get(chatId);
    if (seq === undefined) {
      seq = await this.store.getCursor(chatId);
      this.cursors.set(chatId, seq);
    }
    return seq;
  }

  private async process(messages: readonly Message[], ack: AckSender): Promise<void> {
    const highest = new Map<string, number>();
    const advanced = new Map<string, number>();
    for (const m of messages) {
      const seq = num(m.seq);
      highest.set(m.chatId, Math.max(highest.get(m.chatId) ?? 0, seq));
      if (seq <= (await this.cursor(m.chatId))) {
        this.stats.duplicates++;
        continue;
      }
      await this.handOver(m);
      this.stats.received++;
      this.cursors.set(m.chatId, seq);
      advanced.set(m.chatId, seq);
    }
    if (advanced.size > 0) {
      await this.store.setCursors([...advanced].map(([chatId, seq]) => ({ chatId, seq })));
    }
    if (highest.size > 0)
      ack(
        [...highest].map(([chatId, seq]) => ({ chatId, seq })),
        messages.length,
      );
  }

  private handOver(m: Message): Promise<void> {
    const received = toReceived(m);
    // A body this SDK does not know (newer server): nothing to show, but it counts as received.
    if (!received) return Promise.resolve();
    return 'payload' in received ? this.sink.message(received) : this.sink.chatUpdate(received);
  }
}
