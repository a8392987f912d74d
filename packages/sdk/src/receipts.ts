/**
 * ReceiptTracker: the highest delivered/read positions seen per (chat, member), from
 * `receipt` events, and the status of a message this user sent (protocol.md §6.11). Pure:
 * no I/O, no timers; positions only move forward, so events may arrive in any order.
 */
import type { MessageStatus, ReceiptInfo } from './types.js';

export interface ReceiptPosition {
  deliveredSeq: number;
  readSeq: number;
}

/** Anything that emits `receipt` events (a ParleyClient). */
export interface ReceiptSource {
  on(event: 'receipt', listener: (r: ReceiptInfo) => void): () => void;
}

export class ReceiptTracker {
  private readonly chats = new Map<string, Map<string, ReceiptPosition>>();

  /** Records a receipt; true when it moved a position forward. */
  update(r: ReceiptInfo): boolean {
    let members = this.chats.get(r.chatId);
    if (!members) {
      members = new Map();
      this.chats.set(r.chatId, members);
    }
    const old = members.get(r.userId) ?? { deliveredSeq: 0, readSeq: 0 };
    // A read also counts as delivered.
    const readSeq = Math.max(old.readSeq, r.readSeq);
    const deliveredSeq = Math.max(old.deliveredSeq, r.deliveredSeq, readSeq);
    if (readSeq === old.readSeq && deliveredSeq === old.deliveredSeq) return false;
    members.set(r.userId, { deliveredSeq, readSeq });
    return true;
  }

  /** Feeds the client's `receipt` events in; returns the function that stops it. */
  attach(source: ReceiptSource, onChange?: (r: ReceiptInfo) => void): () => void {
    return source.on('receipt', (r) => {
      if (this.update(r)) onChange?.(r);
    });
  }

  /** A member's highest positions in a chat (zeros when nothing was heard). */
  position(chatId: string, userId: string): ReceiptPosition {
    return this.chats.get(chatId)?.get(userId) ?? { deliveredSeq: 0, readSeq: 0 };
  }

  /**
   * The status of message `seq` this user sent, given the chat's other current members:
   * delivered / read once every one of them reached it. 'sent' with no other members.
   */
  status(chatId: string, seq: number, otherMemberIds: readonly string[]): MessageStatus {
    if (otherMemberIds.length === 0) return 'sent';
    const positions = otherMemberIds.map((id) => this.position(chatId, id));
    if (positions.every((p) => p.readSeq >= seq)) return 'read';
    if (positions.every((p) => p.deliveredSeq >= seq)) return 'delivered';
    return 'sent';
  }

  /** Forgets a chat (e.g. after leaving it). */
  forget(chatId: string): void {
    this.chats.delete(chatId);
  }
}
