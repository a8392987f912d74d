/**
 * Wire types → the SDK's plain types (types.ts), and numbers → wire integers. The one
 * place that knows 64-bit wire fields are bigints in the generated code.
 */
import {
  type Chat,
  type ChatUpdate,
  LastSeenVisibility,
  type Member,
  type Message,
  ParleyError,
  type Presence,
  type TypingEvent,
  TypingState,
  type SendResult as WireSendResult,
} from '@parley/protocol';
import type {
  ChatInfo,
  ChatUpdateInfo,
  LastSeenPrivacy,
  MemberInfo,
  PresenceInfo,
  ReceivedChatUpdate,
  ReceivedMessage,
  SendResult,
  TypingInfo,
  TypingStatus,
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

export function toPresence(p: Presence): PresenceInfo {
  return { userId: p.userId, online: p.online, lastSeen: num(p.lastSeen) };
}

const TYPING_STATES: Record<TypingStatus, TypingState> = {
  composing: TypingState.COMPOSING,
  paused: TypingState.PAUSED,
};

/** The wire state, or undefined for anything but 'composing' and 'paused'. */
export function typingStateToWire(state: TypingStatus): TypingState | undefined {
  return Object.hasOwn(TYPING_STATES, state) ? TYPING_STATES[state] : undefined;
}

/** How long a COMPOSING event lasts when the server does not say (it always does: 10 s). */
export const DEFAULT_TYPING_EXPIRY_MS = 10_000;

/**
 * A pushed typing event, stamped with an absolute expiry on the local clock (`now` is its
 * arrival); undefined for a state this SDK does not know.
 */
export function toTyping(e: TypingEvent, now: number): TypingInfo | undefined {
  let state: TypingStatus;
  if (e.state === TypingState.COMPOSING) state = 'composing';
  else if (e.state === TypingState.PAUSED) state = 'paused';
  else return undefined;
  const lasts = e.expiresInMs > 0 ? e.expiresInMs : DEFAULT_TYPING_EXPIRY_MS;
  const expiresAt = state === 'composing' ? now + lasts : now;
  return { chatId: e.chatId, userId: e.userId, state, expiresAt };
}

const PRIVACY: Record<LastSeenPrivacy, LastSeenVisibility> = {
  everyone: LastSeenVisibility.EVERYONE,
  contacts: LastSeenVisibility.CONTACTS,
  nobody: LastSeenVisibility.NOBODY,
};

/** The wire setting, or undefined for anything but 'everyone', 'contacts' and 'nobody'. */
export function privacyToWire(p: LastSeenPrivacy): LastSeenVisibility | undefined {
  return Object.hasOwn(PRIVACY, p) ? PRIVACY[p] : undefined;
}

/** The server's setting; INTERNAL for a value this SDK does not know. */
export function privacyFromWire(v: LastSeenVisibility): LastSeenPrivacy {
  for (const [name, wire] of Object.entries(PRIVACY)) if (wire === v) return name as LastSeenPrivacy;
  throw new ParleyError('INTERNAL', `unknown last-seen setting ${v}`);
}
