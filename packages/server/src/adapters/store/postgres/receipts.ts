/**
 * Read and delivered positions. A position is read and moved under its member row's lock
 * (`FOR UPDATE`), so two nodes moving the same member's position at once cannot move it
 * back; batches lock their rows in (chat, user) order first, so they never deadlock.
 */
import { ParleyError } from '@parley/protocol';
import { type ChatId, coveredFrom, type ReceiptChange, type UserId } from '../../../ports/types.js';
import { advancedReceipt, type ReceiptPosition, receiptChange } from '../message-rules.js';
import type { Db } from './db.js';

export async function readMark(
  db: Db,
  chatId: ChatId,
  userId: UserId,
  seq: number,
  now: number,
): Promise<{ readSeq: number; unreadCount: number; change: ReceiptChange | undefined }> {
  const change = await advanceReceipt(db, chatId, userId, seq, seq, now);
  if (change === null) throw new ParleyError('NOT_A_MEMBER', 'you are not a member of this chat');
  const [pos] = await db.rows<{ read_seq: number; joined_seq: number }>('memberPosition', [chatId, userId]);
  const [unread] = await db.rows<{ n: number }>('unreadCount', [
    chatId,
    Math.max(pos!.read_seq, pos!.joined_seq - 1),
    userId,
  ]);
  return { readSeq: pos!.read_seq, unreadCount: unread!.n, change };
}

export async function delivered(
  db: Db,
  items: ReadonlyArray<{ chatId: ChatId; userId: UserId; seq: number }>,
  now: number,
): Promise<ReceiptChange[]> {
  await db.rows('membersLock', [items.map((i) => i.chatId), items.map((i) => i.userId)]);
  const out: ReceiptChange[] = [];
  for (const it of items) {
    // View-once messages lose their payload at the first recipient device's ack.
    const c = await advanceReceipt(db, it.chatId, it.userId, it.seq, 0, now, true);
    if (c) out.push(c);
  }
  return out;
}

/**
 * Moves a member's delivered (and read) position forward, capped at the chat's last seq,
 * and records a mark per moved kind: two round trips, the locking read and `receiptMove`.
 * With `opens`, view-once messages the move delivers lose their payloads. Null when not a
 * member; undefined when nothing moved.
 */
async function advanceReceipt(
  db: Db,
  chatId: ChatId,
  userId: UserId,
  delivered: number,
  read: number,
  now: number,
  opens = false,
): Promise<ReceiptChange | undefined | null> {
  const [p] = await db.rows<ReceiptPosition>('receiptPosition', [chatId, userId]);
  if (!p) return null;
  const moved = advancedReceipt(p, delivered, read);
  if (!moved) return undefined;
  const { deliveredSeq, readSeq } = moved;
  const kinds = [...(deliveredSeq > p.delivered_seq ? [1] : []), ...(readSeq > p.read_seq ? [2] : [])];
  const from = coveredFrom({ deliveredSeq: p.delivered_seq, readSeq: p.read_seq }, moved);
  const senders = await db.rows<{ sender_user: string }>('receiptMove', [
    chatId,
    userId,
    deliveredSeq,
    readSeq,
    now,
    kinds,
    from,
    opens,
    p.delivered_seq,
  ]);
  return receiptChange(p, moved, { chatId, userId, now }, senders);
}
