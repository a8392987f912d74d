/** Rows as the driver returns them (int8 already parsed to numbers), and their domain types. */
import type {
  ChatId,
  ChatInfo,
  Device,
  DeviceId,
  Role,
  StoredMessage,
  UserId,
} from '../../../ports/types.js';
import {
  type ChatRowFields,
  KIND_UPDATE,
  type MessageRowFields,
  toChatInfo,
  toStoredMessage,
  updateClientId,
} from '../message-rows.js';

export { directKeyOf, KIND_PAYLOAD, KIND_UPDATE, TYPES, updateClientId } from '../message-rows.js';

export interface MessageRow extends MessageRowFields {
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

export function toMessage(r: MessageRow): StoredMessage {
  return toStoredMessage(r, r.mentions);
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
  suspended_at?: number | null;
}

export function toDevice(r: DeviceRow): Device {
  return {
    id: r.id as DeviceId,
    userId: r.user_id as UserId,
    primary: r.is_primary,
    name: r.name,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    ...(r.suspended_at != null && { suspendedAt: Number(r.suspended_at) }),
  };
}

export interface ChatRow extends ChatRowFields {
  only_admins_send: boolean;
  only_admins_edit_info: boolean;
  /** json_agg of {u: user_id, r: role, j: joined_at}, in join order. */
  members: Array<{ u: string; r: Role; j: number }>;
}

export function toChat(c: ChatRow): ChatInfo {
  return toChatInfo(
    c,
    c.members.map((m) => ({ userId: m.u as UserId, role: m.r, joinedAt: m.j })),
  );
}

/** A Uint8Array as a Buffer over the same memory (the driver sends Buffers as bytea). */
export function buf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
