/**
 * messageCommit: one transaction per batch. Seqs stay gap-free with several nodes writing
 * because the batch first locks its chats' rows (in id order, so batches never deadlock on
 * each other), then reads membership and earlier results under that lock, numbers its
 * messages from the locked last_seq and writes each chat's last_seq once. Idempotency across
 * nodes rests on the unique (sender_device, client_id) index.
 */
import type { CommitResult, SendCommit } from '../../../ports/store.js';
import type { ChatId, MessageMeta } from '../../../ports/types.js';
import {
  needsOtherReactions,
  pairKey,
  type Refusal,
  type TargetRow,
  targetRefusal,
} from '../message-rules.js';
import type { Db } from './db.js';
import { RetryTransaction } from './errors.js';
import { recordPushJobs } from './push.js';
import { buf, TYPES } from './rows.js';

interface LockedChat {
  lastSeq: number;
  timer: number;
  direct: boolean;
}

/** Rows of new payload messages, column by column, for one multi-row insert. */
class PendingRows {
  readonly m = {
    chat: [] as string[],
    seq: [] as number[],
    user: [] as string[],
    device: [] as string[],
    clientId: [] as string[],
    time: [] as number[],
    body: [] as Array<Buffer | null>,
    type: [] as number[],
    ref: [] as number[],
    reaction: [] as string[],
    mentions: [] as string[],
    forwards: [] as number[],
    viewOnce: [] as boolean[],
    expiresAt: [] as number[],
    withheld: [] as boolean[],
  };
  readonly p = { chat: [] as string[], seq: [] as number[], device: [] as string[], body: [] as Buffer[] };
  /** Media references (sendRequest.mediaIds): empty for almost every message, then no statement. */
  readonly r = { media: [] as string[], chat: [] as string[], seq: [] as number[] };

  /** Body bytes held; arrays travel hex-encoded in one string, so a flush keeps this bounded. */
  bytes = 0;

  get size(): number {
    return this.m.seq.length;
  }

  add(b: SendCommit, seq: number, expiresAt: number): void {
    const m = this.m;
    const meta = b.meta;
    m.chat.push(b.chatId);
    m.seq.push(seq);
    m.user.push(b.senderUserId);
    m.device.push(b.senderDeviceId);
    m.clientId.push(b.clientMessageId);
    m.time.push(b.serverTime);
    m.body.push(b.payload ? buf(b.payload) : null);
    this.bytes += b.payload?.byteLength ?? 0;
    m.type.push(meta ? TYPES.indexOf(meta.type) : 0);
    m.ref.push(meta?.refSeq ?? 0);
    m.reaction.push(meta?.reaction ?? '');
    m.mentions.push(meta?.mentions.join(',') ?? '');
    m.forwards.push(meta?.forwardCount ?? 0);
    m.viewOnce.push(meta?.viewOnce === true);
    m.expiresAt.push(expiresAt);
    m.withheld.push(b.withheld === true);
    for (const id of b.mediaIds ?? []) {
      this.r.media.push(id);
      this.r.chat.push(b.chatId);
      this.r.seq.push(seq);
    }
    for (const [deviceId, body] of b.devicePayloads ?? []) {
      this.p.chat.push(b.chatId);
      this.p.seq.push(seq);
      this.p.device.push(deviceId);
      this.p.body.push(buf(body));
      this.bytes += body.byteLength;
    }
  }

  /**
   * Inserts and empties the rows. With `lastSeqs` (the batch's last flush), the chats'
   * last seqs are written by the same statement.
   */
  async flush(db: Db, lastSeqs?: { ids: string[]; seqs: number[] }): Promise<void> {
    if (this.size === 0) {
      if (lastSeqs && lastSeqs.ids.length > 0)
        await db.count('chatsSetLastSeq', [lastSeqs.ids, lastSeqs.seqs]);
      return;
    }
    const m = this.m;
    const columns = [
      m.chat,
      m.seq,
      m.user,
      m.device,
      m.clientId,
      m.time,
      m.body,
      m.type,
      m.ref,
      m.reaction,
      m.mentions,
      m.forwards,
      m.viewOnce,
      m.expiresAt,
      m.withheld,
    ];
    const inserted = lastSeqs
      ? (
          await db.rows<{ n: number }>('messagesInsertAndLastSeq', [...columns, lastSeqs.ids, lastSeqs.seqs])
        )[0]!.n
      : await db.count('messagesInsert', columns);
    // Another node stored one of these (sender_device, client_id) pairs in a different chat
    // after this batch looked (a client reusing an id across chats). Its seq must not be
    // used: start over, and the earlier-results lookup will see that send.
    if (inserted !== this.size) throw new RetryTransaction('a client id was stored concurrently');
    if (this.p.seq.length > 0) {
      await db.count('payloadsInsert', [this.p.chat, this.p.seq, this.p.device, this.p.body]);
    }
    if (this.r.seq.length > 0) await db.count('mediaRefsInsert', [this.r.media, this.r.chat, this.r.seq]);
    for (const column of [...Object.values(m), ...Object.values(this.p), ...Object.values(this.r)])
      column.length = 0;
    this.bytes = 0;
  }
}

/** Body bytes per insert statement (a batch of 4096 sends of 64 KiB is split up). */
const FLUSH_BYTES = 8 * 1024 * 1024;

/** A meta item whose checks or effects read rows written earlier in the batch. */
const needsTarget = (meta: MessageMeta | undefined) =>
  meta !== undefined && !(meta.type === 'message' && meta.refSeq === 0);

export async function commitBatch(db: Db, batch: readonly SendCommit[]): Promise<CommitResult[]> {
  const chatIds = [...new Set(batch.map((b) => b.chatId))].sort();
  const chats = new Map<string, LockedChat>();
  for (const r of await db.rows<{ id: string; last_seq: number; disappearing_seconds: number; kind: string }>(
    'chatsLockForCommit',
    [chatIds],
  )) {
    chats.set(r.id, { lastSeq: r.last_seq, timer: r.disappearing_seconds, direct: r.kind === 'direct' });
  }

  // Read under the chat locks: a membership change or a send to these chats by another
  // node has either committed (and is seen here) or waits for this batch to commit.
  const { roles, earlier } = await lockedFacts(db, batch);
  const startSeq = new Map([...chats].map(([id, c]) => [id, c.lastSeq]));

  const pending = new PendingRows();
  const results: CommitResult[] = [];
  for (const b of batch) {
    const key = pairKey(b.senderDeviceId, b.clientMessageId);
    const first = earlier.get(key);
    if (first) {
      // A repeat of an accepted send gets its first answer, even after leaving the chat.
      results.push({ ok: true, seq: first.seq, serverTime: first.serverTime, duplicate: true });
      continue;
    }
    const chat = chats.get(b.chatId);
    const role = roles.get(pairKey(b.chatId, b.senderUserId));
    if (!chat || !role) {
      results.push({ ok: false, code: chat ? 'NOT_A_MEMBER' : 'CHAT_NOT_FOUND' });
      continue;
    }
    if (b.meta?.mentions.some((u) => !roles.has(pairKey(b.chatId, u)))) {
      results.push({ ok: false, code: 'INVALID_ARGUMENT', message: 'mentions must name members' });
      continue;
    }
    const targeted = needsTarget(b.meta);
    if (targeted) {
      // The target may be a message of this very batch: write what is pending first.
      await pending.flush(db);
      const refused = await checkTarget(db, b, b.meta!, { role, direct: chat.direct });
      if (refused) {
        results.push(refused);
        continue;
      }
    }
    const seq = chat.lastSeq + 1;
    const expiresAt = chat.timer > 0 ? b.serverTime + chat.timer * 1000 : 0;
    pending.add(b, seq, expiresAt);
    if (pending.bytes >= FLUSH_BYTES) await pending.flush(db);
    chat.lastSeq = seq;
    if (targeted) {
      await pending.flush(db);
      await applyTarget(db, b, b.meta!);
    }
    earlier.set(key, { seq, serverTime: b.serverTime });
    results.push({
      ok: true,
      seq,
      serverTime: b.serverTime,
      duplicate: false,
      ...(expiresAt > 0 && { expiresAt }),
    });
  }
  // One last_seq write per chat per batch, not per message, with the batch's last insert.
  const moved = [...chats].filter(([id, c]) => c.lastSeq !== startSeq.get(id));
  await pending.flush(db, { ids: moved.map(([id]) => id), seqs: moved.map(([, c]) => c.lastSeq) });
  if (batch.some((b) => b.push)) await recordPushJobs(db, batch, results);
  return results;
}

/**
 * In one round trip: the roles of the batch's senders and mentioned users, keyed by chat and
 * user, and the earlier results of its (sender_device, client_id) pairs.
 */
async function lockedFacts(db: Db, batch: readonly SendCommit[]) {
  const chats: string[] = [];
  const users: string[] = [];
  for (const b of batch) {
    chats.push(b.chatId);
    users.push(b.senderUserId);
    for (const u of b.meta?.mentions ?? []) {
      chats.push(b.chatId);
      users.push(u);
    }
  }
  const rows = await db.rows<{ a: string; b: string; role: string | null; seq: number; server_time: number }>(
    'commitFacts',
    [chats, users, batch.map((b) => b.senderDeviceId), batch.map((b) => b.clientMessageId)],
  );
  const roles = new Map<string, string>();
  const earlier = new Map<string, { seq: number; serverTime: number }>();
  for (const r of rows) {
    if (r.role !== null) roles.set(pairKey(r.a, r.b), r.role);
    else earlier.set(pairKey(r.a, r.b), { seq: r.seq, serverTime: r.server_time });
  }
  return { roles, earlier };
}

/** Validates an edit / delete / reaction / reply against its target, in the transaction. */
async function checkTarget(
  db: Db,
  b: SendCommit,
  m: MessageMeta,
  sender: { role: string; direct: boolean },
): Promise<Refusal | undefined> {
  const [t] = await db.rows<TargetRow>('messageTarget', [b.chatId, m.refSeq]);
  const otherReactions = needsOtherReactions(m)
    ? (await db.rows<{ emoji: string }>('reactionsOther', [b.chatId, m.refSeq, b.senderUserId])).map(
        (r) => r.emoji,
      )
    : undefined;
  return targetRefusal(b, m, t, { ...sender, ...(otherReactions && { otherReactions }) });
}

/** What a delete or reaction does to its target once stored. */
async function applyTarget(db: Db, b: SendCommit, m: MessageMeta): Promise<void> {
  const chatId: ChatId = b.chatId;
  if (m.type === 'delete') {
    await db.count('mediaRefsWipe', [chatId, m.refSeq]);
    await db.count('messageWipe', [chatId, m.refSeq]);
    await db.count('payloadsDelete', [chatId, [m.refSeq]]);
    await db.count('editsWipe', [chatId, m.refSeq]);
    await db.count('editPayloadsDelete', [chatId, m.refSeq]);
  } else if (m.type === 'reaction') {
    if (m.reaction === '') await db.count('reactionDelete', [chatId, m.refSeq, b.senderUserId]);
    else await db.count('reactionSet', [chatId, m.refSeq, b.senderUserId, m.reaction]);
  }
}
