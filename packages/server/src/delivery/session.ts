/**
 * Delivery state of one connected device. Invariants:
 * - per chat, messages go out in seq order with no gap (`sent` only grows by exactly one
 *   step at a time, or by a page read from the store after `sent`);
 * - at most `window` delivered messages are unacked; above it, or when the socket's send
 *   buffer is over its limit, live pushes stop and the device reads from the store later;
 * - a cursor is persisted only from an ack of this device (through AckFlusher);
 * - a `deliver` frame carries at least one message; a drain's last page has `backlog`
 *   false (there is no separate "caught up" frame).
 */
import { ParleyError } from '@parley/protocol';
import type { Logger } from '../log.js';
import type { Store } from '../ports/store.js';
import {
  CaughtUpChats,
  type ChatId,
  type DeviceCursors,
  type DeviceId,
  type StoredMessage,
  type UserId,
} from '../ports/types.js';

/** Where a session writes; its methods never throw (a failure closes that connection only). */
export interface DeliveryTransport {
  /** Sends an encoded `deliver` frame built from the messages (at least one). */
  sendMessages(messages: readonly StoredMessage[], backlog: boolean): void;
  /** Sends a pre-encoded frame (shared by many recipients). */
  sendEncoded(frame: Uint8Array | string): void;
  readonly bufferedAmount: number;
}

export interface SessionLimits {
  window: number;
  pageSize: number;
  sendBufferBytes: number;
}

interface ChatState {
  /** Highest seq sent to (or skipped for) this connection. */
  sent: number;
  /** Highest seq acked (as persisted). */
  acked: number;
  /** Seqs delivered and not yet acked, ascending. */
  unacked: number[];
  /** Set when the user left or was removed. */
  endSeq: number | undefined;
}

const PAGE_BYTES = 1024 * 1024;
/** What a session starts with: no chats touched, none known caught up (both never written). */
const NO_CHATS: ReadonlyMap<ChatId, ChatState> = new Map();
const NONE_CAUGHT_UP = new CaughtUpChats('');

/** Where accepted acks go (shared by all sessions; see AckFlusher). */
export interface AckSink {
  add(deviceId: DeviceId, userId: UserId, chatId: ChatId, seq: number): void;
  /** Persists every ack added so far. */
  flush(): Promise<void>;
}

export class DeliverySession {
  /**
   * Chats with something in flight or touched on this connection. Shared and empty until
   * the first one (an idle connection holds no map of its own): only `chatState` adds.
   */
  private chats: ReadonlyMap<ChatId, ChatState> = NO_CHATS;
  /**
   * The chats that were caught up at the last drain's read, with their acked seq, as the
   * store encodes them: a chat leaves it for `chats` when a message comes.
   */
  private caughtUpChats = NONE_CAUGHT_UP;
  private inflight = 0;
  private behind = true;
  private draining = false;
  private dirty = false;
  private closed = false;
  private caughtUpOnce = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pageBytes = 0;
  /** A full page not sent yet: whether it is the last (`backlog` false) is known only later. */
  private held: StoredMessage[] | undefined;
  /**
   * Where a paused drain stopped: the cursors it read and the chat it was in. The next drain
   * goes on from there without reading the cursors again (a drain of a long backlog pauses
   * each time the window fills, so once a page otherwise), and reads them afresh at its end.
   * The chat it paused in keeps its state meanwhile: it still has messages to send, and only
   * an ack through a chat's end drops a chat's state.
   */
  private pausedAt: { cursors: DeviceCursors; chat: number } | undefined;

  constructor(
    readonly deviceId: DeviceId,
    readonly userId: UserId,
    private readonly transport: DeliveryTransport,
    private readonly store: Store,
    private readonly limits: SessionLimits,
    private readonly acks: AckSink,
    private readonly log: Logger,
  ) {}

  /** Starts reading the backlog. */
  start(): void {
    this.scheduleDrain();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** Records the state of a chat this connection touches, making its map on the first. */
  private chatState(chatId: ChatId, st: ChatState): ChatState {
    if (this.chats === NO_CHATS) this.chats = new Map();
    (this.chats as Map<ChatId, ChatState>).set(chatId, st);
    return st;
  }

  /** Something may have been committed for this device (told by another node): read the store. */
  wake(): void {
    if (!this.closed) this.markBehind();
  }

  /** Everything stored for this device so far was sent (or is waiting for acks to fit the window). */
  get caughtUp(): boolean {
    return this.caughtUpOnce && !this.behind && !this.draining;
  }

  get unackedCount(): number {
    return this.inflight;
  }

  /**
   * A message just committed for this device. `frame` encodes it as a one-message
   * deliver frame (shared between recipients); `message` is this device's view of it.
   */
  offerLive(message: StoredMessage, frame: (() => Uint8Array | string) | undefined): void {
    if (this.closed) return;
    let st = this.chats.get(message.chatId);
    if (!st && !this.behind) {
      // A chat caught up at the last read (its acked seq is known), or one created just now
      // (nothing comes before its first message): it goes out live, without another read.
      const acked = message.seq === 1 ? 0 : this.caughtUpChats.seqOf(message.chatId);
      if (acked !== undefined) {
        st = this.chatState(message.chatId, { sent: acked, acked, unacked: [], endSeq: undefined });
      }
    }
    if (this.behind || !st || message.seq !== st.sent + 1) {
      this.markBehind();
      return;
    }
    if (this.nothingFor(message)) {
      st.sent = message.seq; // own message or nothing for this device: nothing to deliver
      return;
    }
    if (this.inflight >= this.limits.window || this.transport.bufferedAmount > this.limits.sendBufferBytes) {
      this.markBehind();
      return;
    }
    if (frame) this.transport.sendEncoded(frame());
    else this.transport.sendMessages([message], false);
    st.sent = message.seq;
    st.unacked.push(message.seq);
    this.inflight++;
  }

  /**
   * Applies a cumulative ack. Throws ACK_UNKNOWN_CHAT for a chat never delivered on this
   * connection and ACK_AHEAD beyond what was sent; acks at or below the last are no-ops.
   */
  ack(chatId: ChatId, seq: number): void {
    const st = this.chats.get(chatId);
    if (!st)
      throw new ParleyError('ACK_UNKNOWN_CHAT', `nothing was delivered in chat ${chatId} on this connection`);
    if (seq > st.sent) throw new ParleyError('ACK_AHEAD', `ack for seq ${seq} but only ${st.sent} was sent`);
    if (seq <= st.acked) return;
    let n = 0;
    while (n < st.unacked.length && st.unacked[n]! <= seq) n++;
    if (n > 0) st.unacked.splice(0, n);
    this.inflight -= n;
    // Everything between the acked seq and `sent` that was never delivered (own messages,
    // nothing for this device) is settled by this ack too.
    const through = st.unacked.length === 0 ? st.sent : seq;
    st.acked = through;
    this.acks.add(this.deviceId, this.userId, chatId, through);
    if (st.endSeq !== undefined && through >= st.endSeq)
      (this.chats as Map<ChatId, ChatState>).delete(chatId);
    if (this.behind && this.inflight < this.limits.window) {
      if (this.draining) this.dirty = true;
      else this.scheduleDrain();
    }
  }

  /**
   * Own messages, messages without a body for this device, and messages withheld from this
   * user (sent by someone they had blocked) are not delivered; an ack covers them.
   */
  private nothingFor(m: StoredMessage): boolean {
    return (
      m.senderDeviceId === this.deviceId ||
      m.body === undefined ||
      (m.withheld === true && m.senderUserId !== this.userId)
    );
  }

  private markBehind(): void {
    this.behind = true;
    if (this.draining) this.dirty = true;
    else this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.closed || this.draining) return;
    this.draining = true;
    setImmediate(() => {
      this.drain()
        .catch((err) => this.log.error({ err, deviceId: this.deviceId }, 'backlog drain failed'))
        .finally(() => {
          this.draining = false;
          if (this.dirty && !this.closed) this.scheduleDrain();
        });
    });
  }

  private async drain(): Promise<void> {
    try {
      if (await this.drainPages()) this.sendHeld(false);
    } finally {
      // Paused, failed or closed: more may follow, so a page still held is not the last.
      this.sendHeld(true);
    }
  }

  /** Reads the backlog into pages; true when it caught up, false when it paused or closed. */
  private async drainPages(): Promise<boolean> {
    do {
      this.dirty = false;
      const resumed = this.pausedAt;
      this.pausedAt = undefined;
      let cursors: DeviceCursors;
      if (resumed) cursors = resumed.cursors;
      else {
        // Acks of this device's previous connection may still wait in the flusher: write
        // them first, so the cursors read below never send again what was already acked.
        if (!this.caughtUpOnce) await this.acks.flush();
        cursors = await this.store.cursorsOf(this.deviceId);
        if (this.closed) return false;
        this.caughtUpChats = cursors.caughtUp ? new CaughtUpChats(cursors.caughtUp) : NONE_CAUGHT_UP;
      }
      const page: StoredMessage[] = [];
      let paused = false;
      for (let i = resumed?.chat ?? 0; i < cursors.chatIds.length; i++) {
        const chatId = cursors.chatIds[i]!;
        const endSeq = cursors.endSeqs[i] || undefined;
        let st = this.chats.get(chatId);
        if (!st) {
          const acked = cursors.ackedSeqs[i]!;
          st = this.chatState(chatId, { sent: acked, acked, unacked: [], endSeq });
        }
        st.endSeq = endSeq;
        const upTo = endSeq ?? cursors.lastSeqs[i]!;
        while (st.sent < upTo) {
          const room = Math.min(
            this.limits.pageSize - page.length,
            this.limits.window - this.inflight - page.length,
          );
          if (room <= 0 || this.transport.bufferedAmount > this.limits.sendBufferBytes) {
            paused = true;
            break;
          }
          const rows = await this.store.messagesRead(this.deviceId, chatId, st.sent, upTo, room);
          if (this.closed) return false;
          if (rows.length === 0) {
            // The rest expired before this device came back: nothing left to deliver.
            st.sent = upTo;
            if (st.unacked.length === 0) {
              st.acked = upTo;
              this.acks.add(this.deviceId, this.userId, chatId, upTo);
            }
            break;
          }
          for (const r of rows) {
            st.sent = r.seq;
            if (this.nothingFor(r)) continue;
            page.push(r);
            st.unacked.push(r.seq);
            this.pageBytes += r.body?.length ?? 0;
            // Pages are also capped in bytes so one frame stays well under clients' limits.
            if (this.pageBytes >= PAGE_BYTES) this.flushPage(page);
          }
          if (page.length >= this.limits.pageSize) this.flushPage(page);
        }
        if (paused) {
          this.pausedAt = { cursors, chat: i };
          break;
        }
        if (st.unacked.length === 0 && st.sent > st.acked && st.sent >= upTo) {
          // Everything after the acked seq was nothing for this device (its own messages):
          // settled, so the chat reads as caught up at the next connect.
          st.acked = st.sent;
          this.acks.add(this.deviceId, this.userId, chatId, st.sent);
        }
      }
      this.flushPage(page);
      if (paused) {
        // Resumed by an ack (window) or by this timer (send buffer).
        if (this.inflight < this.limits.window) this.retryLater();
        return false;
      }
      // The cursors were read before the pause: read them again for what came since.
      if (resumed) this.dirty = true;
    } while (this.dirty && !this.closed);
    if (this.closed) return false;
    this.behind = false;
    this.caughtUpOnce = true;
    return true;
  }

  /** Ends a page: the page held before it is sent (more followed it) and this one is held. */
  private flushPage(page: StoredMessage[]): void {
    this.pageBytes = 0;
    if (page.length === 0) return;
    this.sendHeld(true);
    this.held = page.splice(0);
    this.inflight += this.held.length;
  }

  private sendHeld(backlog: boolean): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    this.transport.sendMessages(held, backlog);
  }

  private retryLater(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.behind) this.scheduleDrain();
    }, 20);
    this.retryTimer.unref();
  }
}
