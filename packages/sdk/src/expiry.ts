/**
 * ExpiryTracker: disappearing messages on the device (protocol.md §6.9a). Fed with messages
 * that carry `expiresAt`, it emits `expired` once each one's time has come, so the app
 * deletes it locally. No I/O of its own: a clock and one timer (for the earliest expiry),
 * both injectable, so tests (and apps) can drive time by hand. Browser-ready.
 *
 * ParleyClient owns one (`client.expiry`): it tracks every message it hands to the app and
 * re-emits `expired` on the client. Messages the app kept from an earlier session are not
 * known to a new client: feed them with `track` on start-up.
 */
import { TypedEmitter } from './emitter.js';
import type { ExpiredInfo } from './types.js';
import { systemTimers, type Timers } from './typing.js';

/** Longest delay one timer may have (setTimeout fires at once for longer ones). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the tracker needs of a message; one without `expiresAt` (or 0) never expires. */
export interface ExpiringMessage {
  chatId: string;
  seq: number;
  expiresAt?: number | undefined;
}

export type ExpiryTrackerEvents = {
  /** The message's time has come: delete it from the device. Emitted once per message. */
  expired: [ExpiredInfo];
};

export class ExpiryTracker extends TypedEmitter<ExpiryTrackerEvents> {
  /** `${chatId} ${seq}` → the message and when it expires. */
  private readonly due = new Map<string, { chatId: string; seq: number; expiresAt: number }>();
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(private readonly timers: Timers = systemTimers) {
    super();
  }

  /** Messages waiting for their time. */
  get size(): number {
    return this.due.size;
  }

  /**
   * Follows a message; true when it has an expiry. One whose time has already come expires
   * on the next timer tick (not synchronously). Tracking it again sets the new time.
   */
  track(m: ExpiringMessage): boolean {
    const expiresAt = m.expiresAt ?? 0;
    if (!Number.isFinite(expiresAt) || expiresAt <= 0) return false;
    this.due.set(key(m.chatId, m.seq), { chatId: m.chatId, seq: m.seq, expiresAt });
    if (expiresAt < this.timerAt) this.schedule(expiresAt);
    return true;
  }

  /** Stops following a message (e.g. the user deleted it); true when it was followed. */
  forget(chatId: string, seq: number): boolean {
    return this.due.delete(key(chatId, seq));
  }

  /** When a followed message expires, or undefined. */
  expiresAt(chatId: string, seq: number): number | undefined {
    return this.due.get(key(chatId, seq))?.expiresAt;
  }

  /** Forgets everything without events and stops the timer. */
  dispose(): void {
    this.due.clear();
    this.schedule(Number.POSITIVE_INFINITY);
  }

  /** Emits `expired` for every message whose time has come (earliest first), then re-arms. */
  private expire(): void {
    const now = this.timers.now();
    const ended = [...this.due.values()]
      .filter((m) => m.expiresAt <= now)
      .sort((a, b) => a.expiresAt - b.expiresAt); // ties: in the order they were tracked
    for (const m of ended) this.due.delete(key(m.chatId, m.seq));
    let next = Number.POSITIVE_INFINITY;
    for (const m of this.due.values()) next = Math.min(next, m.expiresAt);
    this.schedule(next);
    for (const m of ended) this.emit('expired', { chatId: m.chatId, seq: m.seq });
  }

  /** One timer, for `at` (capped at MAX_TIMER_MS away: an early tick just re-arms). */
  private schedule(at: number): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Number.POSITIVE_INFINITY) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.timers.now()));
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.expire();
    }, delay);
  }
}

function key(chatId: string, seq: number): string {
  return `${chatId} ${seq}`;
}
