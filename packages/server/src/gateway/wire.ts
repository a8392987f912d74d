/** Conversions between domain objects and wire messages. */
import {
  type Chat,
  ChatSchema,
  create,
  decodeChatUpdate,
  type Message,
  MessageSchema,
} from '@parley/protocol';
import { wireChatKind, wireRole } from '../chat/updates.js';
import type { ChatInfo, ChatSummary, StoredMessage } from '../ports/types.js';

export function toWireMessage(m: StoredMessage): Message {
  return create(MessageSchema, {
    chatId: m.chatId,
    seq: BigInt(m.seq),
    senderUserId: m.senderUserId,
    senderDeviceId: m.senderDeviceId,
    clientMessageId: m.clientMessageId,
    serverTime: BigInt(m.serverTime),
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
    members: c.members.map((m) => ({
      userId: m.userId,
      role: wireRole[m.role],
      joinedAt: BigInt(m.joinedAt),
    })),
  });
}
