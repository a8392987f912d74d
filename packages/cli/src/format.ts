/**
 * How received messages are shown: JSON lines for `listen`, one readable line for `chat`.
 * Pure functions of the message and the names known locally.
 */
import {
  type ChatInfo,
  ChatKind,
  type ChatUpdateInfo,
  ChatUpdateKind,
  type LastSeenPrivacy,
  type PresenceInfo,
  type ReceivedChatUpdate,
  Role,
  type SecureMessage,
} from '@parley/sdk';
import { muteMarker } from './chat-mutes.js';
import { forTerminal } from './text.js';

/**
 * A decrypted message for `listen`; `senderName` is the name in the sender's profile, when
 * known; a file adds `"file":{"name","mime","size"}`.
 */
export function messageJson(m: SecureMessage, senderName?: string): string {
  const a = m.content.attachment;
  return JSON.stringify({
    chatId: m.chatId,
    seq: m.seq,
    sender: m.senderUserId,
    ...(senderName !== undefined && { senderName }),
    text: m.content.text ?? '',
    ...(a && {
      file: {
        ...(a.name !== undefined && { name: a.name }),
        ...(a.mime !== undefined && { mime: a.mime }),
        size: a.size,
      },
    }),
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
export function messageLine(chatName: string, senderName: string, m: SecureMessage): string {
  return `[${forTerminal(chatName)}] ${forTerminal(senderName)}: ${forTerminal(m.content.text ?? '')}`;
}

/** `/safety`: the 60 digits in three rows of four groups, and how to use them. */
export function safetyLines(name: string, digits: string): string[] {
  const groups = digits.split(' ');
  const rows: string[] = [];
  for (let i = 0; i < groups.length; i += 4) rows.push(`  ${groups.slice(i, i + 4).join(' ')}`);
  const who = forTerminal(name);
  return [
    `Safety number for you and ${who}:`,
    ...rows,
    `Compare it with the one ${who} sees (/safety on their side), in person or on a call:`,
    'if all 60 digits match, nobody can read or change your messages between you.',
  ];
}

/**
 * A contact's keys changed (a new device, or a reinstall): their safety number is new.
 * `handle` is what /safety takes for them (phone number or user id).
 */
export function securityChangedLine(name: string, handle = name): string {
  return `! security code with ${forTerminal(name)} changed — compare /safety ${forTerminal(handle)}`;
}

/**
 * A message that could not be decrypted (`in chat` for a group); with `retrying`, the sender's
 * device was asked to send it again, and it shows with its number when it comes.
 */
export function decryptFailedLine(
  seq: number,
  senderName: string,
  groupName?: string,
  retrying = false,
): string {
  const where = groupName === undefined ? '' : ` in ${forTerminal(groupName)}`;
  const next = retrying ? ' (asked the sender to send it again)' : '';
  return `! could not decrypt message #${seq} from ${forTerminal(senderName)}${where}${next}`;
}

/** A call event: `video call from Ann, 3:12`, `missed voice call from Ann`, `… declined`. */
function callLine(caller: string, call: ChatUpdateInfo['call']): string {
  const kind = call?.video ? 'video' : 'voice';
  const ms = call?.durationMs ?? 0;
  if (ms > 0) {
    const s = Math.round(ms / 1000);
    return `${kind} call from ${caller}, ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }
  if (call?.reason === 'declined' || call?.reason === 'busy')
    return `${kind} call from ${caller}, ${call.reason}`;
  return `missed ${kind} call from ${caller}`;
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
      what =
        u.update.role === Role.ADMIN
          ? `${actor} made ${who} an admin`
          : u.update.role === Role.MEMBER
            ? `${actor} made ${who} a member`
            : `${actor} changed the role of ${who}`;
      break;
    case ChatUpdateKind.SETTINGS_CHANGED:
      what = `${actor} set: ${u.update.onlyAdminsSend ? 'only admins' : 'everyone'} can send, ${
        u.update.onlyAdminsEditInfo ? 'only admins' : 'everyone'
      } can edit the group info`;
      break;
    case ChatUpdateKind.JOINED_BY_INVITE:
      what = `${who || actor} joined with an invite code`;
      break;
    case ChatUpdateKind.PINNED:
      what = `${actor} pinned #${u.update.pinSeq ?? '?'}`;
      break;
    case ChatUpdateKind.UNPINNED:
      what = `${actor} unpinned #${u.update.pinSeq ?? '?'}`;
      break;
    case ChatUpdateKind.DISAPPEARING_CHANGED:
      what = u.update.disappearingSeconds
        ? `${actor} turned on disappearing messages (${u.update.disappearingSeconds / 86_400} days)`
        : `${actor} turned off disappearing messages`;
      break;
    case ChatUpdateKind.CALL:
      what = callLine(actor, u.update.call);
      break;
    default:
      what = `${actor} changed the chat`;
  }
  return `[${forTerminal(chatName)}] * ${forTerminal(what)}`;
}

/** ` 1. Family (group, 3 members) 2 unread c_…` for /chats; `*` marks the open chat. */
export function chatListLine(
  n: number,
  name: string,
  c: Pick<ChatInfo, 'id' | 'kind' | 'members' | 'unreadCount'> & { mutedUntil?: number },
  open: boolean,
  now: number,
): string {
  const kind = c.kind === ChatKind.GROUP ? `group, ${c.members.length} members` : 'direct';
  const unread = c.unreadCount > 0 ? ` ${c.unreadCount} unread` : '';
  const muted = muteMarker(c.mutedUntil ?? 0, now);
  return `${open ? '*' : ' '}${String(n).padStart(3)}. ${forTerminal(name)} (${kind})${unread}${muted ? ` ${muted}` : ''} ${c.id}`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const sameDay = (a: Date, b: Date) =>
  a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** "last seen today at 14:03", "... yesterday at 09:12", "... 2026-11-20 14:03" (local time). */
export function lastSeenText(lastSeen: number, now: number): string {
  const d = new Date(lastSeen);
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  const today = new Date(now);
  if (sameDay(d, today)) return `last seen today at ${time}`;
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (sameDay(d, yesterday)) return `last seen yesterday at ${time}`;
  return `last seen ${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${time}`;
}

/** "online", "last seen ...", or "" when offline with the time hidden (or unknown). */
export function presenceLabel(p: PresenceInfo | undefined, now: number): string {
  if (!p) return '';
  if (p.online) return 'online';
  return p.lastSeen > 0 ? lastSeenText(p.lastSeen, now) : '';
}

/** `[chat] name is typing...`, safe for a terminal. */
export function typingLine(chatName: string, userName: string): string {
  return `[${forTerminal(chatName)}] ${forTerminal(userName)} is typing...`;
}

const PRIVACY_TEXT: Record<LastSeenPrivacy, string> = {
  everyone: 'Your last seen is visible to everyone you share a chat with.',
  contacts: 'Your last seen is visible to your contacts only (people you have a direct chat with).',
  nobody: "Your last seen is hidden from everyone, and you don't see anyone else's.",
};

/** What a last-seen setting means, for `/privacy`. */
export function privacyLine(p: LastSeenPrivacy): string {
  return `${PRIVACY_TEXT[p]} Whether you are online stays visible in shared chats.`;
}
