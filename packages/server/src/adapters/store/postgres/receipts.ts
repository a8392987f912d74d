/**
 * Read and delivered positions. A position is read and moved under its member row's lock
 * (`FOR UPDATE`), so two nodes moving the same member's position at once cannot move it
 * back; a batch locks its rows in (chat, user) order, so two batches never deadlock, and
 * moves them all in one statement.
 */
import { ParleyError } from '@parley/protocol';
import { type ChatId, coveredFrom, type ReceiptChange, type UserId } from '../../../ports/types.js';
import {
  advancedReceipt,
  highestPerMember,
  pairKey,
  type ReceiptPosition,
  receiptChange,
} from '../message-rules.js';
import type { Db } from './db.js';

export async function readMark(
  db: Db,
  chatId: ChatId,
  userId: UserId,
  seq: number,
  now: number,
): Promise<{ readSeq: number; unreadCount: number; change: ReceiptChange | undefined }> {
  const [change] = await moveReceipts(db, [{ chatId, userId, delivered: seq, read: seq }], now, false);
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
  // View-once messages lose their payload at the first recipient device's ack.
  const changes = await moveReceipts(
    db,
    highestPerMember(items).map((it) => ({
      chatId: it.chatId,
      userId: it.userId,
      delivered: it.seq,
      read: 0,
    })),
    now,
    true,
  );
  return changes.filter((c): c is ReceiptChange => c !== undefined && c !== null);
}

interface Move {
  chatId: ChatId;
  userId: UserId;
  delivered: number;
  read: number;
}

/**
 * Moves members' delivered (and read) positions forward, capped at their chats' last seq,
 * and records a mark per moved kind, whatever the number of members: two round trips, the
 * locking read of every position (`receiptPositions`, rows locked in (chat, user) order, so
 * two batches never deadlock) and `receiptMoves`. With `opens`, view-once messages a move
 * delivers lose their payloads. One answer per move, in order: null when not a member,
 * undefined when nothing moved. A member listed twice must not be (callers keep the highest).
 */
async function moveReceipts(
  db: Db,
  moves: readonly Move[],
  now: number,
  opens: boolean,
): Promise<Array<ReceiptChange | undefined | null>> {
  if (moves.length === 0) return [];
  const positions = new Map<string, ReceiptPosition>();
  for (const r of await db.rows<ReceiptPosition & { chat_id: string; user_id: string }>('receiptPositions', [
    moves.map((m) => m.chatId),
    moves.map((m) => m.userId),
  ])) {
    positions.set(pairKey(r.chat_id, r.user_id), r);
  }
  const moved = moves.map((m) => {
    const p = positions.get(pairKey(m.chatId, m.userId));
    return p && { m, p, to: advancedReceipt(p, m.delivered, m.read) };
  });
  const going = moved.filter((x) => x?.to !== undefined) as Array<{
    m: Move;
    p: ReceiptPosition;
    to: { deliveredSeq: number; readSeq: number };
  }>;
  const senders = new Map<string, Array<{ sender_user: string }>>();
  if (going.length > 0) {
    const rows = await db.rows<{ chat_id: string; user_id: string; sender_user: string }>('receiptMoves', [
      going.map((x) => x.m.chatId),
      going.map((x) => x.m.userId),
      going.map((x) => x.to.deliveredSeq),
      going.map((x) => x.to.readSeq),
      going.map((x) => x.to.deliveredSeq > x.p.delivered_seq),
      going.map((x) => x.to.readSeq > x.p.read_seq),
      going.map((x) => coveredFrom({ deliveredSeq: x.p.delivered_seq, readSeq: x.p.read_seq }, x.to)),
      going.map((x) => x.p.delivered_seq),
      now,
      opens,
    ]);
    for (const r of rows) {
      const k = pairKey(r.chat_id, r.user_id);
      const list = senders.get(k);
      if (list) list.push(r);
      else senders.set(k, [r]);
    }
  }
  return moved.map((x) => {
    if (!x) return null;
    if (!x.to) return undefined;
    const { m, p, to } = x;
    return receiptChange(
      p,
      to,
      { chatId: m.chatId, userId: m.userId, now },
      senders.get(pairKey(m.chatId, m.userId)) ?? [],
    );
  });
}
