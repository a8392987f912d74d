/** Rows as the driver returns them (int8 already parsed to numbers), and their domain types. */
import type {
  ChatId,
  ChatInfo,
  Device,
  DeviceId,
  MessageMeta,
  MessageType,
  Role,
  StoredMessage,
  UserId,
} from '../../../ports/types.js';

export const KIND_PAYLOAD = 0;
export const KIND_UPDATE = 1;
export const TYPES: readonly MessageType[] = ['message', 'edit', 'delete', 'reaction'];

/**
 * The client_id column of a chat update (it shares the (sender_device, client_id) unique
 * index with sends). It starts with a control character, which no client id may contain
 * (gateway: printable ASCII only), so a send can never collide with an update.
 */
export function updateClientId(chatId: ChatId, seq: number): string {
  return `\u0001update:${chatId}:${seq}`;
}

export function directKeyOf(users: readonly UserId[]): string {
  return [...users].sort().join('|');
}

export interface MessageRow {
  chat_id: string;
  seq: number;
  sender_user: string;
  sender_device: string;
  client_id: string;
  server_time: number;
  kind: number;
  body: Buffer | null;
  msg_type: number;
  ref_seq: number;
  reaction: string;
  mentions: string[];
  forward_count: number;
  deleted: boolean;
  view_once: boolean;
  expires_at: number;
}

const EMPTY_BODY = new Uint8Array(0);

function metaOf(r: MessageRow): MessageMeta | undefined {
  if (!r.msg_type && !r.ref_seq && r.mentions.length === 0 && !r.forward_count && !r.view_once) {
    return undefined;
  }
  return {
    type: TYPES[r.msg_type] ?? 'message',
    refSeq: r.ref_seq,
    reaction: r.reaction,
    mentions: r.mentions as UserId[],
    forwardCount: r.forward_count,
    ...(r.view_once ? { viewOnce: true } : {}),
  };
}

export function toMessage(r: MessageRow): StoredMessage {
  const meta = metaOf(r);
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
  };
}

/** A chat update as chatMutate returns it, without reading it back. */
export function updateMessage(
  chatId: ChatId,
  seq: number,
  sender: { userId: UserId; deviceId: DeviceId },
  now: number,
  body: Uint8Array,
): StoredMessage {
  return toMessage({
    chat_id: chatId,
    seq,
    sender_user: sender.userId,
    sender_device: sender.deviceId,
    client_id: updateClientId(chatId, seq),
    server_time: now,
    kind: KIND_UPDATE,
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    msg_type: 0,
    ref_seq: 0,
    reaction: '',
    mentions: [],
    forward_count: 0,
    deleted: false,
    view_once: false,
    expires_at: 0,
  });
}

export interface DeviceRow {
  id: string;
  user_id: string;
  is_primary: boolean;
  name: string;
  created_at: number;
  last_seen_at: number;
}

export function toDevice(r: DeviceRow): Device {
  return {
    id: r.id as DeviceId,
    userId: r.user_id as UserId,
    primary: r.is_primary,
    name: r.name,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
  };
}

export interface ChatRow {
  id: string;
  kind: 'direct' | 'group';
  name: string;
  description: string;
  created_at: number;
  last_seq: number;
  only_admins_send: boolean;
  only_admins_edit_info: boolean;
  disappearing_seconds: number;
  /** json_agg of {u: user_id, r: role, j: joined_at}, in join order. */
  members: Array<{ u: string; r: Role; j: number }>;
}

export function toChat(c: ChatRow): ChatInfo {
  return {
    id: c.id as ChatId,
    kind: c.kind,
    name: c.name,
    description: c.description,
    createdAt: c.created_at,
    lastSeq: c.last_seq,
    members: c.members.map((m) => ({ userId: m.u as UserId, role: m.r, joinedAt: m.j })),
    onlyAdminsSend: c.only_admins_send,
    onlyAdminsEditInfo: c.only_admins_edit_info,
    disappearingSeconds: c.disappearing_seconds,
  };
}

/** A Uint8Array as a Buffer over the same memory (the driver sends Buffers as bytea). */
export function buf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
