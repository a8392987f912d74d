/** Conversions between domain objects and wire messages. */
import {
  type Chat,
  ChatSchema,
  create,
  decodeChatUpdate,
  type Message,
  MessageSchema,
  MessageType as WireMessageType,
} from '@parley/protocol';
import { wireChatKind, wireRole } from '../chat/updates.js';
import type { ChatInfo, ChatSummary, MessageType, StoredMessage } from '../ports/types.js';

/** Messages forwarded more than this many times are marked "forwarded many times". */
export const FORWARDED_MANY = 5;

export const META_TYPES: Record<MessageType, WireMessageType> = {
  message: WireMessageType.UNSPECIFIED,
  edit: WireMessageType.EDIT,
  delete: WireMessageType.DELETE,
  reaction: WireMessageType.REACTION,
};

export function toWireMessage(m: StoredMessage): Message {
  return create(MessageSchema, {
    chatId: m.chatId,
    seq: BigInt(m.seq),
    senderUserId: m.senderUserId,
    senderDeviceId: m.senderDeviceId,
    clientMessageId: m.clientMessageId,
    serverTime: BigInt(m.serverTime),
    ...(m.meta && {
      meta: {
        type: META_TYPES[m.meta.type],
        refSeq: BigInt(m.meta.refSeq),
        reaction: m.meta.reaction,
        mentions: m.meta.mentions,
        forwardCount: m.meta.forwardCount,
        viewOnce: m.meta.viewOnce === true,
      },
    }),
    expiresAt: BigInt(m.expiresAt ?? 0),
    forwardedMany: (m.meta?.forwardCount ?? 0) > FORWARDED_MANY,
    deleted: m.deleted === true,
    body:
      m.kind === 'update'
        ? { case: 'chatUpdate', value: decodeChatUpdate(m.body ?? new Uint8Array()) }
        : { case: 'payload', value: m.body ?? new Uint8Array() },
  });
}

export function toWireChat(c: ChatInfo | ChatSummary): Chat {
  const own =
    'readSeq' in c
      ? {
          readSeq: BigInt(c.readSeq),
          unreadCount: c.unreadCount,
          unreadMentions: c.unreadMentions ?? 0,
          mutedUntil: BigInt(c.mutedUntil ?? 0),
          ...(c.lastMessage && {
            lastMessage: {
              seq: BigInt(c.lastMessage.seq),
              senderUserId: c.lastMessage.senderUserId,
              serverTime: BigInt(c.lastMessage.serverTime),
              isUpdate: c.lastMessage.isUpdate,
            },
          }),
        }
      : {};
  return create(ChatSchema, {
    ...own,
    id: c.id,
    kind: wireChatKind[c.kind],
    name: c.name,
    description: c.description,
    createdAt: BigInt(c.createdAt),
    lastSeq: BigInt(c.lastSeq),
    onlyAdminsSend: c.onlyAdminsSend,
    onlyAdminsEditInfo: c.onlyAdminsEditInfo,
    disappearingSeconds: c.disappearingSeconds,
    iconMediaId: c.iconMediaId,
    ...('pins' in c &&
      c.pins && {
        pins: c.pins.map((p) => ({
          seq: BigInt(p.seq),
          pinnedBy: p.pinnedBy,
          expiresAt: BigInt(p.expiresAt),
        })),
      }),
    members: c.members.map((m) => ({
      userId: m.userId,
      role: wireRole[m.role],
      joinedAt: BigInt(m.joinedAt),
    })),
  });
}
