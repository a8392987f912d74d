/**
 * How received messages are shown: JSON lines for `listen`, one readable line for `chat`.
 * Pure functions of the message and the names known locally.
 */
import { ChatUpdateKind, type ReceivedChatUpdate, type ReceivedMessage } from '@parley/sdk';
import { decodeText, forTerminal } from './text.js';

export function messageJson(m: ReceivedMessage): string {
  return JSON.stringify({
    chatId: m.chatId,
    seq: m.seq,
    sender: m.senderUserId,
    text: decodeText(m.payload),
    serverTime: m.serverTime,
  });
}

export function chatUpdateJson(u: ReceivedChatUpdate): string {
  const { update } = u;
  return JSON.stringify({
    type: 'chatUpdate',
    chatId: u.chatId,
    seq: u.seq,
    sender: u.senderUserId,
    kind: ChatUpdateKind[update.kind] ?? String(update.kind),
    userIds: update.userIds,
    ...(update.members.length > 0 ? { members: update.members.map((m) => m.userId) } : {}),
    ...(update.name ? { name: update.name } : {}),
    ...(update.description ? { description: update.description } : {}),
    serverTime: u.serverTime,
  });
}

/** `[chat] sender: text`, safe for a terminal. */
export function messageLine(chatName: string, senderName: string, m: ReceivedMessage): string {
  return `[${forTerminal(chatName)}] ${forTerminal(senderName)}: ${forTerminal(decodeText(m.payload))}`;
}

/** `[chat] * actor added +1555…`, safe for a terminal. */
export function chatUpdateLine(
  chatName: string,
  name: (userId: string) => string,
  u: ReceivedChatUpdate,
): string {
  const who = u.update.userIds.map(name).join(', ');
  const actor = name(u.senderUserId);
  let what: string;
  switch (u.update.kind) {
    case ChatUpdateKind.CREATED:
      what = `${actor} created the chat${u.update.name ? ` "${u.update.name}"` : ''}`;
      break;
    case ChatUpdateKind.MEMBERS_ADDED:
      what = `${actor} added ${who}`;
      break;
    case ChatUpdateKind.MEMBER_REMOVED:
      what = `${actor} removed ${who}`;
      break;
    case ChatUpdateKind.MEMBER_LEFT:
      what = `${who || actor} left`;
      break;
    case ChatUpdateKind.INFO_CHANGED:
      what = `${actor} renamed the chat to "${u.update.name}"`;
      break;
    case ChatUpdateKind.ROLE_CHANGED:
      what = `${actor} changed the role of ${who}`;
      break;
    default:
      what = `${actor} changed the chat`;
  }
  return `[${forTerminal(chatName)}] * ${forTerminal(what)}`;
}
