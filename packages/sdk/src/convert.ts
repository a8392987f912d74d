/**
 * Wire types → the SDK's plain types (types.ts), and numbers → wire integers. The one
 * place that knows 64-bit wire fields are bigints in the generated code.
 */
import type { Chat, ChatUpdate, Member, Message, SendResult as WireSendResult } from '@parley/protocol';
import type {
  ChatInfo,
  ChatUpdateInfo,
  MemberInfo,
  ReceivedChatUpdate,
  ReceivedMessage,
  SendResult,
} from './types.js';

/** A 64-bit wire integer as a JS number (exact below 2^53, which seqs and times are). */
export function num(value: bigint | number): number {
  return Number(value);
}

/** A JS number as a 64-bit wire integer. */
export function u64(value: number): bigint {
  return BigInt(Math.trunc(value));
}

export function toMember(m: Member): MemberInfo {
  return { userId: m.userId, role: m.role, joinedAt: num(m.joinedAt) };
}

export function toChat(c: Chat): ChatInfo {
  return {
    id: c.id,
    kind: c.kind,
    name: c.name,
    description: c.description,
    createdAt: num(c.createdAt),
    lastSeq: num(c.lastSeq),
    members: c.members.map(toMember),
  };
}

export function toChatUpdate(u: ChatUpdate): ChatUpdateInfo {
  return {
    kind: u.kind,
    userIds: [...u.userIds],
    name: u.name,
    description: u.description,
    chatKind: u.chatKind,
    members: u.members.map(toMember),
    role: u.role,
  };
}

/** A stored or delivered message; undefined for a body this SDK does not know. */
export function toReceived(m: Message): ReceivedMessage | ReceivedChatUpdate | undefined {
  const base = {
    chatId: m.chatId,
    seq: num(m.seq),
    senderUserId: m.senderUserId,
    senderDeviceId: m.senderDeviceId,
    clientMessageId: m.clientMessageId,
    serverTime: num(m.serverTime),
  };
  switch (m.body.case) {
    case 'payload':
      return { ...base, payload: m.body.value };
    case 'chatUpdate':
      return { ...base, update: toChatUpdate(m.body.value) };
    default:
      return undefined;
  }
}

export function toSendResult(r: WireSendResult): SendResult {
  return {
    clientMessageId: r.clientMessageId,
    chatId: r.chatId,
    seq: num(r.seq),
    serverTime: num(r.serverTime),
  };
}
