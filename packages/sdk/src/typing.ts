/**
 * Typing indicators for a user interface, both ways, with no I/O of their own:
 * - TypingTracker: who is typing in each chat, from the client's `typing` events. An entry
 *   ends on `paused`, on a message from that user in that chat, or when its time runs out.
 * - TypingNotifier: turns keystrokes into `composing` (at most one per `repeatMs`) and
 *   `paused` (after `idleMs` without a keystroke, or when the line is sent).
 * Both take a clock and timers, so tests (and apps) can drive time by hand.
 */
import { TypedEmitter } from './emitter.js';
import type { TypingInfo, TypingStatus } from './types.js';

/** A clock and one-shot timers. */
export interface Timers {
  /** ms since the epoch */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The platform's clock and timers; in Node they do not keep the process alive. */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Why someone is no longer shown as typing. */
export type TypingStopReason = 'paused' | 'message' | 'expired' | 'cleared';

export type TypingTrackerEvents = {
  /** Someone started typing in a chat (not repeated while their `composing` events renew it). */
  start: [chatId: string, userId: string];
  stop: [chatId: string, userId: string, reason: TypingStopReason];
  /** The list of people typing in a chat changed (after `start` or `stop`). */
  change: [chatId: string, userIds: string[]];
};

/** The part of ParleyClient a tracker listens to. */
export interface TypingSource {
  on(event: 'typing', listener: (t: TypingInfo) => void): () => void;
  on(event: 'message', listener: (m: { chatId: string; senderUserId: string }) => void): () => void;
  on(event: 'disconnected', listener: () => void): () => void;
}

export class TypingTracker extends TypedEmitter<TypingTrackerEvents> {
  /** chatId → userId → expiresAt, in the order they started typing. */
  private readonly chats = new Map<string, Map<string, number>>();
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(private readonly timers: Timers = systemTimers) {
    super();
  }

  /**
   * Follows a client: its `typing` events, its messages (a message ends its sender's typing)
   * and disconnections (nothing is known any more: everyone stops). Returns the detach.
   */
  attach(client: TypingSource): () => void {
    const offs = [
      client.on('typing', (t) => this.update(t)),
      client.on('message', (m) => this.messageFrom(m.chatId, m.senderUserId)),
      client.on('disconnected', () => this.clear()),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  /** Applies a typing event. */
  update(t: TypingInfo): void {
    const typing = this.chats.get(t.chatId);
    const was = typing?.has(t.userId) ?? false;
    if (t.state === 'composing' && t.expiresAt > this.timers.now()) {
      if (typing) typing.set(t.userId, t.expiresAt);
      else this.chats.set(t.chatId, new Map([[t.userId, t.expiresAt]]));
      if (!was) {
        this.emit('start', t.chatId, t.userId);
        this.emit('change', t.chatId, this.typingIn(t.chatId));
      }
    } else if (was) {
      this.remove(t.chatId, t.userId, t.state === 'paused' ? 'paused' : 'expired');
    }
    this.schedule();
  }

  /** A message from `userId` arrived in `chatId`: they are done typing it. */
  messageFrom(chatId: string, userId: string): void {
    if (!this.chats.get(chatId)?.has(userId)) return;
    this.remove(chatId, userId, 'message');
    this.schedule();
  }

  /** Users typing in the chat now, in the order they started. */
  typingIn(chatId: string): string[] {
    const now = this.timers.now();
    return [...(this.chats.get(chatId) ?? [])].filter(([, until]) => until > now).map(([userId]) => userId);
  }

  isTyping(chatId: string, userId: string): boolean {
    return (this.chats.get(chatId)?.get(userId) ?? 0) > this.timers.now();
  }

  /** Forgets everyone (e.g. the connection dropped), with a `stop` for each. */
  clear(): void {
    for (const [chatId, typing] of [...this.chats]) {
      for (const userId of [...typing.keys()]) this.remove(chatId, userId, 'cleared');
    }
    this.schedule();
  }

  /** Forgets everything without events and stops the timer. */
  dispose(): void {
    this.chats.clear();
    this.schedule();
  }

  private remove(chatId: string, userId: string, reason: TypingStopReason): void {
    const typing = this.chats.get(chatId);
    if (!typing?.delete(userId)) return;
    if (typing.size === 0) this.chats.delete(chatId);
    this.emit('stop', chatId, userId, reason);
    this.emit('change', chatId, this.typingIn(chatId));
  }

  /** Ends every entry whose time ran out. */
  private expire(): void {
    const now = this.timers.now();
    for (const [chatId, typing] of [...this.chats]) {
      for (const [userId, until] of [...typing]) if (until <= now) this.remove(chatId, userId, 'expired');
    }
    this.schedule();
  }

  /** One timer, for the earliest expiry. */
  private schedule(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const typing of this.chats.values())
      for (const until of typing.values()) next = Math.min(next, until);
    if (next === this.timerAt) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (next === Number.POSITIVE_INFINITY) return;
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.expire();
      },
      Math.max(0, next - this.timers.now()),
    );
  }
}

export interface TypingNotifierOptions {
  /** Sends a state, e.g. `(chatId, state) => client.typing(chatId, state)`. */
  send(chatId: string, state: TypingStatus): Promise<void> | void;
  /** Least time between two `composing` for the same chat while typing (default 3000 ms). */
  repeatMs?: number;
  /** Time without a keystroke after which `paused` is sent (default 5000 ms). */
  idleMs?: number;
  /** Failed sends (a typing indicator is never worth retrying); default: ignored. */
  onError?: (err: unknown) => void;
  timers?: Timers;
}

export class TypingNotifier {
  /** The chat told `composing` and not yet `paused`. */
  private chatId: string | undefined;
  private lastComposingAt = Number.NEGATIVE_INFINITY;
  private idleTimer: unknown;
  private readonly repeatMs: number;
  private readonly idleMs: number;
  private readonly timers: Timers;

  constructor(private readonly options: TypingNotifierOptions) {
    this.repeatMs = options.repeatMs ?? 3000;
    this.idleMs = options.idleMs ?? 5000;
    this.timers = options.timers ?? systemTimers;
  }

  /** The chat currently told `composing`, if any. */
  get composingIn(): string | undefined {
    return this.chatId;
  }

  /** The user typed (or edited) the draft of `chatId`. */
  keystroke(chatId: string): void {
    if (this.chatId !== undefined && this.chatId !== chatId) this.stop();
    const now = this.timers.now();
    if (this.chatId === undefined || now - this.lastComposingAt >= this.repeatMs) {
      this.chatId = chatId;
      this.lastComposingAt = now;
      this.send(chatId, 'composing');
    }
    if (this.idleTimer !== undefined) this.timers.clearTimeout(this.idleTimer);
    this.idleTimer = this.timers.setTimeout(() => {
      this.idleTimer = undefined;
      this.stop();
    }, this.idleMs);
  }

  /** The draft was sent or cleared, or the chat closed: `paused`, if `composing` was told. */
  stop(): void {
    if (this.idleTimer !== undefined) this.timers.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const chatId = this.chatId;
    if (chatId === undefined) return;
    this.chatId = undefined;
    this.lastComposingAt = Number.NEGATIVE_INFINITY;
    this.send(chatId, 'paused');
  }

  /** Stops the timer without sending anything (the client is closing). */
  dispose(): void {
    if (this.idleTimer !== undefined) this.timers.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.chatId = undefined;
  }

  private send(chatId: string, state: TypingStatus): void {
    const report = (err: unknown) => this.options.onError?.(err);
    try {
      const r = this.options.send(chatId, state);
      if (r instanceof Promise) r.catch(report);
    } catch (err) {
      report(err);
    }
  }
}
