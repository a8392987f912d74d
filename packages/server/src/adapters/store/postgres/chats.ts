/**
 * Chat creation, mutation and the chat list. A mutation takes the chat's next seq with
 * `UPDATE chats ... RETURNING`, which holds the chat's row lock until commit, so it
 * serialises with sends and other mutations of that chat on every node.
 */
import { ParleyError } from '@parley/protocol';
import type { ChatCreate, ChatMutation } from '../../../ports/store.js';
import type { ChatId, ChatInfo, ChatSummary, StoredMessage, UserId } from '../../../ports/types.js';
import { checkGroupSize } from '../message-rules.js';
import type { Db } from './db.js';
import { RetryTransaction } from './errors.js';
import {
  buf,
  type ChatRow,
  directKeyOf,
  KIND_PAYLOAD,
  KIND_UPDATE,
  toChat,
  updateClientId,
  updateMessage,
} from './rows.js';

export async function chatRead(db: Db, chatId: ChatId): Promise<ChatInfo | undefined> {
  const [row] = await db.rows<ChatRow>('chatGet', [chatId]);
  return row && toChat(row);
}

/** Throws USER_NOT_FOUND unless every member of every input is a user. */
export async function requireMembersExist(db: Db, inputs: readonly ChatCreate[]): Promise<void> {
  const users = [...new Set(inputs.flatMap((c) => c.members.map((m) => m.userId)))];
  const found = new Set((await db.rows<{ id: string }>('usersExisting', [users])).map((r) => r.id));
  const missing = users.find((u) => !found.has(u));
  if (missing !== undefined) throw new ParleyError('USER_NOT_FOUND', `unknown user ${missing}`);
}

/**
 * Creates the chat; for a direct chat whose pair already has one (also one created by
 * another node at the same instant), stores nothing and returns the existing chat. The
 * caller has checked its members exist (`requireMembersExist`).
 */
export async function createChat(db: Db, input: ChatCreate): Promise<ChatInfo> {
  const directKey = input.kind === 'direct' ? directKeyOf(input.members.map((m) => m.userId)) : null;
  const inserted = await db.count('chatInsert', [
    input.chatId,
    input.kind,
    input.name,
    input.description,
    input.now,
    directKey,
  ]);
  if (inserted === 0) {
    // The insert waited for any concurrent creator of the pair to commit, and this statement
    // reads a fresh snapshot (READ COMMITTED), so the winner's chat is visible here.
    const [existing] = await db.rows<{ id: string }>('chatByDirectKey', [directKey]);
    if (!existing) throw new RetryTransaction('the direct chat it conflicted with is gone');
    return (await chatRead(db, existing.id as ChatId))!;
  }
  const users = input.members.map((m) => m.userId);
  await db.count('membersInsert', [input.chatId, users, input.members.map((m) => m.role), input.now, 1]);
  await db.count('cursorsStartForMembers', [input.chatId, 0, users, input.createdByDevice, 1]);
  await db.count('updateInsert', [
    input.chatId,
    1,
    input.createdBy,
    input.createdByDevice,
    updateClientId(input.chatId, 1),
    input.now,
    buf(input.update),
  ]);
  return (await chatRead(db, input.chatId))!;
}

/**
 * Creates the chats of chatCreateMany, one statement per table whatever their number: the
 * chats first, then members, cursors and CREATED updates of only those inserted (a direct
 * pair that already has a chat, or repeats one, inserts nothing). Returns how many.
 */
export async function createChats(db: Db, inputs: readonly ChatCreate[], acked: number): Promise<number> {
  if (inputs.length === 0) return 0;
  const inserted = await db.rows<{ id: string }>('chatsInsertMany', [
    inputs.map((c) => c.chatId),
    inputs.map((c) => c.kind),
    inputs.map((c) => c.name),
    inputs.map((c) => c.description),
    inputs.map((c) => c.now),
    inputs.map((c) => (c.kind === 'direct' ? directKeyOf(c.members.map((m) => m.userId)) : null)),
  ]);
  // Each inserted id stands for the first input that carries it.
  const created = new Set(inserted.map((r) => r.id));
  const fresh = inputs.filter((c) => created.delete(c.chatId));
  if (fresh.length === 0) return 0;
  const members = {
    chatIds: [] as string[],
    users: [] as string[],
    roles: [] as string[],
    at: [] as number[],
    creators: [] as string[],
  };
  for (const c of fresh) {
    const seen = new Set<string>();
    for (const m of c.members) {
      // A user listed twice joins once, with the first role, as in createChat.
      if (seen.has(m.userId)) continue;
      seen.add(m.userId);
      members.chatIds.push(c.chatId);
      members.users.push(m.userId);
      members.roles.push(m.role);
      members.at.push(c.now);
      members.creators.push(c.createdByDevice);
    }
  }
  await db.count('membersInsertMany', [members.chatIds, members.users, members.roles, members.at]);
  await db.count('cursorsStartForNewChats', [members.chatIds, members.users, acked, members.creators]);
  await db.count('updatesInsertCreated', [
    fresh.map((c) => c.chatId),
    fresh.map((c) => c.createdBy),
    fresh.map((c) => c.createdByDevice),
    fresh.map((c) => updateClientId(c.chatId, 1)),
    fresh.map((c) => c.now),
    fresh.map((c) => buf(c.update)),
  ]);
  return fresh.length;
}

export async function mutateChat(db: Db, m: ChatMutation): Promise<StoredMessage> {
  const [next] = await db.rows<{ last_seq: number }>('chatNextSeq', [m.chatId]);
  if (!next) throw new ParleyError('CHAT_NOT_FOUND', 'no such chat');
  const seq = next.last_seq;
  if (m.pin) await checkPin(db, m.chatId, m.pin);
  if (m.unpinSeq !== undefined && (await db.count('pinDelete', [m.chatId, m.unpinSeq])) === 0) {
    throw new ParleyError('NOT_FOUND', 'that message is not pinned');
  }
  await db.count('updateInsert', [
    m.chatId,
    seq,
    m.actorUserId,
    m.actorDeviceId,
    updateClientId(m.chatId, seq),
    m.now,
    buf(m.update),
  ]);
  if (m.addMembers?.length) {
    const users = m.addMembers.map((a) => a.userId);
    await db.count('membersInsert', [m.chatId, users, m.addMembers.map((a) => a.role), m.now, seq]);
    await db.count('cursorsStartForMembers', [m.chatId, seq - 1, users, m.actorDeviceId, seq]);
    if (m.maxMembers !== undefined) {
      // The chat row is locked (chatNextSeq): every add committed before this one is counted.
      const [{ n } = { n: 0 }] = await db.rows<{ n: number }>('memberCount', [m.chatId]);
      checkGroupSize(n, m.maxMembers);
    }
  }
  if (m.removeUserIds?.length) {
    await db.count('membersDelete', [m.chatId, m.removeUserIds]);
    await db.count('cursorsEndForMembers', [m.chatId, seq, m.removeUserIds]);
  }
  if (m.setRole) await db.count('memberSetRole', [m.chatId, m.setRole.userId, m.setRole.role]);
  if (m.name !== undefined) await db.count('chatSetName', [m.chatId, m.name]);
  if (m.description !== undefined) await db.count('chatSetDescription', [m.chatId, m.description]);
  if (m.iconMediaId !== undefined) await db.count('chatSetIcon', [m.chatId, m.iconMediaId]);
  if (m.disappearingSeconds !== undefined) await db.count('chatTimerSet', [m.chatId, m.disappearingSeconds]);
  if (m.pin) await db.count('pinSet', [m.chatId, m.pin.seq, m.actorUserId, m.pin.expiresAt]);
  if (m.settings) {
    await db.count('chatSetSettings', [
      m.chatId,
      m.settings.onlyAdminsSend ?? null,
      m.settings.onlyAdminsEditInfo ?? null,
    ]);
  }
  return updateMessage(m.chatId, seq, { userId: m.actorUserId, deviceId: m.actorDeviceId }, m.now, m.update);
}

async function checkPin(
  db: Db,
  chatId: ChatId,
  pin: { seq: number; now: number; max: number },
): Promise<void> {
  const [t] = await db.rows<{ kind: number; msg_type: number; deleted: boolean }>('messageTarget', [
    chatId,
    pin.seq,
  ]);
  if (!t || t.kind !== KIND_PAYLOAD || t.msg_type !== 0 || t.deleted) {
    throw new ParleyError('NOT_FOUND', `no message ${pin.seq} to pin in this chat`);
  }
  const active = await db.rows<{ seq: number }>('pinsActive', [chatId, pin.now]);
  if (!active.some((p) => p.seq === pin.seq) && active.length >= pin.max) {
    throw new ParleyError('TOO_MANY_PINS', `a chat has at most ${pin.max} pinned messages`);
  }
}

interface SummaryRow extends ChatRow {
  read_seq: number;
  muted_until: number;
  unread: number;
  unread_mentions: number;
  lm_seq: number | null;
  lm_sender: string | null;
  lm_time: number | null;
  lm_kind: number | null;
}

/** The user's chats (or those of `chatIds` the user is in, in that order), for the chat list. */
export async function chatSummaries(
  db: Db,
  userId: UserId,
  chatIds?: readonly ChatId[],
): Promise<ChatSummary[]> {
  const rows = await db.rows<SummaryRow>('chatSummaries', [userId, chatIds ?? null]);
  const summaries = rows.map(
    (r): ChatSummary => ({
      ...toChat(r),
      readSeq: r.read_seq,
      mutedUntil: r.muted_until,
      unreadCount: r.unread,
      unreadMentions: r.unread_mentions,
      lastMessage:
        r.lm_seq === null
          ? undefined
          : {
              seq: r.lm_seq,
              senderUserId: r.lm_sender as UserId,
              serverTime: r.lm_time!,
              isUpdate: r.lm_kind === KIND_UPDATE,
            },
    }),
  );
  if (!chatIds) return summaries;
  const byId = new Map(summaries.map((s) => [s.id, s]));
  return chatIds.flatMap((id) => byId.get(id) ?? []);
}
