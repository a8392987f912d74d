/**
 * Wire types → the SDK's plain types (types.ts), and numbers → wire integers. The one
 * place that knows 64-bit wire fields are bigints in the generated code.
 */

import {
  type Chat,
  type ChatUpdate,
  ChatUpdateKind,
  type LastMessage,
  LastSeenVisibility,
  type Member,
  type Message,
  type MessageMeta,
  MessageType,
  ParleyError,
  type Pin,
  type Presence,
  type Profile,
  type ReceiptEvent,
  type ReceiptsResult,
  type RegistrationAttempt,
  RegistrationAttemptStage,
  type TypingEvent,
  TypingState,
  PinDuration as WirePinDuration,
  type SendResult as WireSendResult,
} from '@parley/protocol';
import { reasonName } from './calls/wire.js';
import type {
  ChatInfo,
  ChatUpdateInfo,
  LastMessageInfo,
  LastSeenPrivacy,
  MemberInfo,
  MessageKind,
  MessageMetaInfo,
  MessageReceipts,
  PinDuration,
  PinInfo,
  PresenceInfo,
  ReceiptInfo,
  ReceivedChatUpdate,
  ReceivedMessage,
  RegistrationAttemptInfo,
  SealedProfile,
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
    unreadCount: c.unreadCount,
    readSeq: num(c.readSeq),
    ...(c.lastMessage ? { lastMessage: toLastMessage(c.lastMessage) } : {}),
    onlyAdminsSend: c.onlyAdminsSend,
    onlyAdminsEditInfo: c.onlyAdminsEditInfo,
    disappearingSeconds: c.disappearingSeconds,
    pins: c.pins.map(toPin),
    unreadMentions: c.unreadMentions,
    mutedUntil: num(c.mutedUntil),
    iconMediaId: c.iconMediaId,
  };
}

export function toPin(p: Pin): PinInfo {
  return { seq: num(p.seq), pinnedBy: p.pinnedBy, expiresAt: num(p.expiresAt) };
}

const PIN_DURATIONS: Record<PinDuration, WirePinDuration> = {
  '24h': WirePinDuration.PIN_DURATION_24_HOURS,
  '7d': WirePinDuration.PIN_DURATION_7_DAYS,
  '30d': WirePinDuration.PIN_DURATION_30_DAYS,
};

/** The wire duration, or undefined for anything but '24h', '7d' and '30d'. */
export function pinDurationToWire(d: PinDuration): WirePinDuration | undefined {
  return Object.hasOwn(PIN_DURATIONS, d) ? PIN_DURATIONS[d] : undefined;
}

export function toLastMessage(l: LastMessage): LastMessageInfo {
  return {
    seq: num(l.seq),
    senderUserId: l.senderUserId,
    serverTime: num(l.serverTime),
    isUpdate: l.isUpdate,
  };
}

const MESSAGE_KINDS: Record<MessageKind, MessageType> = {
  message: MessageType.UNSPECIFIED,
  edit: MessageType.EDIT,
  delete: MessageType.DELETE,
  reaction: MessageType.REACTION,
};

/** The wire message type. */
export function messageKindToWire(kind: MessageKind): MessageType {
  return MESSAGE_KINDS[kind];
}

/** A message's meta; no meta (or an unknown type) is a plain message. */
export function toMeta(m: MessageMeta | undefined): MessageMetaInfo {
  let type: MessageKind = 'message';
  for (const [name, wire] of Object.entries(MESSAGE_KINDS)) if (wire === m?.type) type = name as MessageKind;
  return {
    type,
    refSeq: num(m?.refSeq ?? 0n),
    reaction: m?.reaction ?? '',
    mentions: [...(m?.mentions ?? [])],
    forwardCount: m?.forwardCount ?? 0,
    ...(m?.viewOnce ? { viewOnce: true } : {}),
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
    onlyAdminsSend: u.onlyAdminsSend,
    onlyAdminsEditInfo: u.onlyAdminsEditInfo,
    ...(u.kind === ChatUpdateKind.DISAPPEARING_CHANGED ? { disappearingSeconds: u.disappearingSeconds } : {}),
    ...(u.kind === ChatUpdateKind.PINNED || u.kind === ChatUpdateKind.UNPINNED
      ? { pinSeq: num(u.pinSeq) }
      : {}),
    ...(u.kind === ChatUpdateKind.PINNED ? { pinExpiresAt: num(u.pinExpiresAt) } : {}),
    ...(u.kind === ChatUpdateKind.INFO_CHANGED ? { iconMediaId: u.iconMediaId } : {}),
    ...(u.kind === ChatUpdateKind.CALL
      ? {
          call: {
            callId: u.callId,
            reason: reasonName(u.callReason),
            durationMs: num(u.callDurationMs),
            video: u.callVideo,
          },
        }
      : {}),
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
  const extra = {
    meta: toMeta(m.meta),
    forwardedMany: m.forwardedMany,
    deleted: m.deleted,
    ...(m.expiresAt > 0n ? { expiresAt: num(m.expiresAt) } : {}),
  };
  switch (m.body.case) {
    case 'payload':
      return { ...base, payload: m.body.value, ...extra };
    case 'chatUpdate':
      return { ...base, update: toChatUpdate(m.body.value) };
    default:
      // Deletes, reactions and messages deleted for everyone carry no payload.
      if (m.deleted || extra.meta.type === 'delete' || extra.meta.type === 'reaction') {
        return { ...base, payload: new Uint8Array(0), ...extra };
      }
      return undefined;
  }
}

export function toReceipt(r: ReceiptEvent): ReceiptInfo {
  return {
    chatId: r.chatId,
    userId: r.userId,
    deliveredSeq: num(r.deliveredSeq),
    readSeq: num(r.readSeq),
    at: num(r.at),
  };
}

export function toReceipts(r: ReceiptsResult): MessageReceipts {
  return {
    members: r.members.map((m) => ({
      userId: m.userId,
      deliveredAt: num(m.deliveredAt),
      readAt: num(m.readAt),
    })),
    deliveredToAll: r.deliveredToAll,
    readByAll: r.readByAll,
  };
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

const ATTEMPT_STAGES: Record<number, RegistrationAttemptInfo['stage']> = {
  [RegistrationAttemptStage.PIN_REQUESTED]: 'pinRequested',
  [RegistrationAttemptStage.WRONG_PIN]: 'wrongPin',
  [RegistrationAttemptStage.LOCKED_OUT]: 'lockedOut',
};

export function toRegistrationAttempt(a: RegistrationAttempt): RegistrationAttemptInfo {
  return {
    stage: ATTEMPT_STAGES[a.stage] ?? 'unknown',
    pinTriesLeft: a.pinTriesLeft,
    lockedUntil: Number(a.lockedUntil),
    serverTime: Number(a.serverTime),
  };
}

export function toSealedProfile(p: Profile): SealedProfile {
  return { userId: p.userId, version: num(p.version), ciphertext: p.ciphertext, updatedAt: num(p.updatedAt) };
}
