/**
 * What the SQLite and PostgreSQL stores share about message and chat rows: the kind and type
 * codes, the client id of chat updates, the key of a direct chat, and the mapping of a row to
 * a StoredMessage or a ChatInfo. Each driver hands over its own row shape; the columns not every query reads
 * are optional, and mentions come already split into user ids.
 */
import type { ChatCreate } from '../../ports/store.js';
import type {
  ChatId,
  ChatInfo,
  DeviceId,
  MemberInfo,
  MessageMeta,
  MessageType,
  StoredMessage,
  UserId,
} from '../../ports/types.js';

export const KIND_PAYLOAD = 0;
export const KIND_UPDATE = 1;
/** msg_type codes, by index. */
export const TYPES: readonly MessageType[] = ['message', 'edit', 'delete', 'reaction'];

/**
 * The client_id column of a chat update (it shares the (sender_device, client_id) unique
 * index with sends). It starts with a control character, which no client id may contain
 * (gateway: printable ASCII only), so a send can never collide with an update.
 */
export function updateClientId(chatId: ChatId, seq: number): string {
  return `\u0001update:${chatId}:${seq}`;
}

/** The unique key of the direct chat of a pair of users. */
export function directKeyOf(users: readonly UserId[]): string {
  return [...users].sort().join('|');
}

/** A message row as both drivers read it (booleans may come as 0/1). */
export interface MessageRowFields {
  chat_id: string;
  seq: number;
  sender_user: string;
  sender_device: string;
  client_id: string;
  server_time: number;
  kind: number;
  body: Uint8Array | null;
  msg_type?: number;
  ref_seq?: number;
  reaction?: string;
  forward_count?: number;
  deleted?: boolean | number;
  view_once?: boolean | number;
  expires_at?: number;
  withheld?: boolean | number;
}

const EMPTY_BODY = new Uint8Array(0);

function metaOf(r: MessageRowFields, mentions: readonly string[]): MessageMeta | undefined {
  if (!r.msg_type && !r.ref_seq && mentions.length === 0 && !r.forward_count && !r.view_once)
    return undefined;
  return {
    type: TYPES[r.msg_type ?? 0] ?? 'message',
    refSeq: r.ref_seq ?? 0,
    reaction: r.reaction ?? '',
    mentions: mentions as UserId[],
    forwardCount: r.forward_count ?? 0,
    ...(r.view_once ? { viewOnce: true } : {}),
  };
}

export function toStoredMessage(r: MessageRowFields, mentions: readonly string[]): StoredMessage {
  const meta = metaOf(r, mentions);
  return {
    chatId: r.chat_id as ChatId,
    seq: r.seq,
    senderUserId: r.sender_user as UserId,
    senderDeviceId: r.sender_device as DeviceId,
    // Updates have no client id on the wire (protocol.md: empty on chatUpdate messages).
    clientMessageId: r.kind === KIND_UPDATE ? '' : r.client_id,
    serverTime: r.server_time,
    kind: r.kind === KIND_UPDATE ? 'update' : 'payload',
    // Deletes and reactions carry no payload but are still delivered.
    body: r.body ?? (r.msg_type === 2 || r.msg_type === 3 ? EMPTY_BODY : undefined),
    ...(meta && { meta }),
    ...(r.deleted ? { deleted: true } : {}),
    ...(r.expires_at ? { expiresAt: r.expires_at } : {}),
    ...(r.withheld ? { withheld: true } : {}),
  };
}

/** A chats row as both drivers read it (booleans may come as 0/1). */
export interface ChatRowFields {
  id: string;
  kind: 'direct' | 'group';
  name: string;
  description: string;
  created_at: number;
  last_seq: number;
  only_admins_send: boolean | number;
  only_admins_edit_info: boolean | number;
  disappearing_seconds: number;
  icon_media_id: string;
}

/**
 * The chat a store has just stored from `input`, as reading it back gives it: each member
 * once (the first mention wins, as the insert ignores repeats), ordered by user id (all
 * joined at seq 1 at the same time), every setting at its default. Built from the input, so
 * a creation reads nothing back.
 */
export function newChatInfo(input: ChatCreate): ChatInfo {
  const members: MemberInfo[] = [];
  const seen = new Set<UserId>();
  for (const m of input.members) {
    if (seen.has(m.userId)) continue;
    seen.add(m.userId);
    members.push({ userId: m.userId, role: m.role, joinedAt: input.now });
  }
  members.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  return {
    id: input.chatId,
    kind: input.kind,
    name: input.name,
    description: input.description,
    createdAt: input.now,
    lastSeq: 1,
    members,
    onlyAdminsSend: false,
    onlyAdminsEditInfo: false,
    disappearingSeconds: 0,
    iconMediaId: '',
  };
}

export function toChatInfo(c: ChatRowFields, members: MemberInfo[]): ChatInfo {
  return {
    id: c.id as ChatId,
    kind: c.kind,
    name: c.name,
    description: c.description,
    createdAt: c.created_at,
    lastSeq: c.last_seq,
    members,
    onlyAdminsSend: Boolean(c.only_admins_send),
    onlyAdminsEditInfo: Boolean(c.only_admins_edit_info),
    disappearingSeconds: c.disappearing_seconds,
    iconMediaId: c.icon_media_id,
  };
}
