/**
 * The rules both SQL stores apply inside their transactions, as pure functions over what
 * each has just read: whether a reply, edit, delete or reaction may refer to its target, how
 * a member's receipt positions move, how many members a group may have, and where bulk-created
 * chats start their cursors.
 */
import { ParleyError } from '@parley/protocol';
import type { CommitResult, SendCommit } from '../../ports/store.js';
import type { ChatId, DeviceId, MessageMeta, ReceiptChange, UserId } from '../../ports/types.js';
import { KIND_PAYLOAD } from './message-rows.js';

export type Refusal = Extract<CommitResult, { ok: false }>;

/** The message a reply, edit, delete or reaction refers to (booleans may come as 0/1). */
export interface TargetRow {
  sender_user: string;
  server_time: number;
  kind: number;
  msg_type: number;
  deleted: boolean | number;
}

const refuse = (code: Refusal['code'], message: string): Refusal => ({ ok: false, code, message });

/**
 * Why `m` may not refer to `t`, if it may not. A delete needs the sender's `role` and whether
 * the chat is `direct` (nobody administers the other's messages there, whatever the role); a
 * non-empty reaction needs the emoji other users left on the target (`otherReactions`).
 */
export function targetRefusal(
  b: SendCommit,
  m: MessageMeta,
  t: TargetRow | undefined,
  context: { role?: string | undefined; direct?: boolean; otherReactions?: readonly string[] },
): Refusal | undefined {
  if (!t || t.kind !== KIND_PAYLOAD || t.msg_type !== 0 || t.deleted) {
    return refuse('NOT_FOUND', `no message ${m.refSeq} to refer to in this chat`);
  }
  const windows = b.windows ?? { editMs: 15 * 60_000, deleteMs: 48 * 3_600_000 };
  const own = t.sender_user === b.senderUserId;
  if (m.type === 'edit') {
    if (!own) return refuse('PERMISSION_DENIED', 'only the sender can edit a message');
    if (b.serverTime - t.server_time > windows.editMs)
      return refuse('EDIT_WINDOW_PASSED', 'too late to edit');
  } else if (m.type === 'delete') {
    // The creator of a direct chat is no admin of the other person's messages.
    const admin = !context.direct && (context.role === 'admin' || context.role === 'creator');
    if (!own && !admin)
      return refuse('PERMISSION_DENIED', 'only the sender or a group admin can delete a message');
    if (own && !admin && b.serverTime - t.server_time > windows.deleteMs) {
      return refuse('DELETE_WINDOW_PASSED', 'too late to delete for everyone');
    }
  } else if (m.type === 'reaction' && m.reaction !== '') {
    const others = context.otherReactions ?? [];
    if (!others.includes(m.reaction) && others.length >= 20) {
      return refuse('TOO_MANY_REACTIONS', 'a message has at most 20 different reactions');
    }
  }
  return undefined;
}

/** Throws GROUP_FULL (rolling the member add back) when the chat now has more than `max` members. */
export function checkGroupSize(members: number, max: number): void {
  if (members > max) throw new ParleyError('GROUP_FULL', `a group has at most ${max} members`);
}

/**
 * Where chatCreateMany starts new cursors: 0, or 1 (acked through the CREATED update). A new
 * chat's last seq is 1, so a cursor past it would skip messages not yet sent.
 */
export function createdAckedSeq(options: { ackedSeq?: number } | undefined): number {
  const acked = options?.ackedSeq ?? 0;
  if (acked !== 0 && acked !== 1) {
    throw new ParleyError('INVALID_ARGUMENT', 'new chats start their cursors acked at seq 0 or 1');
  }
  return acked;
}

/** Whether checking `m` needs the emoji others left on its target. */
export const needsOtherReactions = (m: MessageMeta) => m.type === 'reaction' && m.reaction !== '';

export interface ReceiptPosition {
  delivered_seq: number;
  read_seq: number;
  last_seq: number;
}

/**
 * A member's new delivered and read positions: moved forward only, capped at the chat's last
 * seq, and delivered at least as far as read. Undefined when neither moves.
 */
export function advancedReceipt(
  p: ReceiptPosition,
  delivered: number,
  read: number,
): { deliveredSeq: number; readSeq: number } | undefined {
  const readSeq = Math.max(p.read_seq, Math.min(read, p.last_seq));
  const deliveredSeq = Math.max(p.delivered_seq, Math.min(Math.max(delivered, readSeq), p.last_seq));
  if (deliveredSeq === p.delivered_seq && readSeq === p.read_seq) return undefined;
  return { deliveredSeq, readSeq };
}

/** The change a moved position reports, to the senders of the messages it covers (not the reader). */
export function receiptChange(
  p: ReceiptPosition,
  moved: { deliveredSeq: number; readSeq: number },
  at: { chatId: ChatId; userId: UserId; now: number },
  senders: ReadonlyArray<{ sender_user: string }>,
): ReceiptChange {
  return {
    senders: senders.map((r) => r.sender_user as UserId).filter((u) => u !== at.userId),
    chatId: at.chatId,
    userId: at.userId,
    deliveredSeq: moved.deliveredSeq,
    readSeq: moved.readSeq,
    at: at.now,
    previousDeliveredSeq: p.delivered_seq,
    previousReadSeq: p.read_seq,
  };
}

/** A map key for a pair of ids (ids never hold NUL). */
export const pairKey = (a: string, b: string) => `${a}\u0000${b}`;

/** One entry per cursor, at its highest seq: a cursor listed twice moves, and counts, once. */
export function highestAcks<A extends { deviceId: DeviceId; chatId: ChatId; seq: number }>(
  acks: readonly A[],
): A[] {
  return highestBy(acks, (a) => pairKey(a.deviceId, a.chatId));
}

/** One entry per chat member, at the highest seq any of their devices acked. */
export function highestPerMember<A extends { userId: UserId; chatId: ChatId; seq: number }>(
  acks: readonly A[],
): A[] {
  return highestBy(acks, (a) => pairKey(a.userId, a.chatId));
}

function highestBy<A extends { seq: number }>(items: readonly A[], key: (a: A) => string): A[] {
  const highest = new Map<string, A>();
  for (const a of items) {
    const k = key(a);
    const seen = highest.get(k);
    if (!seen || a.seq > seen.seq) highest.set(k, a);
  }
  return [...highest.values()];
}
