/**
 * Hand-written binary encoders for the answers that carry chats (`chatResult`, `chatList`).
 * A client asks for a chat with each of its contacts when it starts, so a busy node answers
 * thousands a second; protobuf-es encodes them by walking the schema. These write the bytes
 * protobuf-es writes for the same frame (fast-chat-codec.test.ts), or return undefined for a
 * value they do not handle (a 64-bit number past 2^53, a negative enum), and the caller
 * uses protobuf-es.
 */
import type { Chat, LastMessage, Pin } from '@parley/protocol';
import {
  memberLen,
  numField,
  strField,
  varintLen,
  type WireMember,
  writeMember,
  writeNum,
  writeStr,
  writeVarint,
} from '../wire-write.js';

const FRAME_ID = 0x08; // Frame.id = 1, varint
const FRAME_CHAT_RESULT = [0xd2, 0x02]; // Frame.chat_result = 42, length-delimited
const FRAME_CHAT_LIST = [0xda, 0x02]; // Frame.chat_list = 43, length-delimited

const UNHANDLED = new Error('fast chat encode: fall back');

/** A uint64 as a number, or a fall-back past 2^53 (no chat field gets there). */
function u64(v: bigint): number {
  if (v > 9007199254740991n) throw UNHANDLED;
  return Number(v);
}

/** An enum or uint32 as written: proto3 writes a negative enum as ten bytes, not handled here. */
function small(v: number): number {
  if (v < 0) throw UNHANDLED;
  return v;
}

/** A chat with its 64-bit fields as numbers, so lengths and writes read the same values. */
interface Flat {
  chat: Chat;
  createdAt: number;
  lastSeq: number;
  readSeq: number;
  mutedUntil: number;
  members: WireMember[];
  memberLens: number[];
  last: { seq: number; serverTime: number; len: number } | undefined;
  pins: Array<{ seq: number; expiresAt: number; pinnedBy: string; len: number }>;
  len: number;
}

function flatten(c: Chat): Flat {
  const members = c.members.map((m) => ({
    userId: m.userId,
    role: small(m.role),
    joinedAt: u64(m.joinedAt),
  }));
  const memberLens = members.map(memberLen);
  const last = c.lastMessage && lastMessage(c.lastMessage);
  const pins = c.pins.map(pin);
  const f: Flat = {
    chat: c,
    createdAt: u64(c.createdAt),
    lastSeq: u64(c.lastSeq),
    readSeq: u64(c.readSeq),
    mutedUntil: u64(c.mutedUntil),
    members,
    memberLens,
    last,
    pins,
    len: 0,
  };
  let n =
    strField(c.id) +
    numField(small(c.kind)) +
    strField(c.name) +
    strField(c.description) +
    numField(f.createdAt) +
    numField(f.lastSeq) +
    numField(small(c.unreadCount)) +
    numField(f.readSeq) +
    (c.onlyAdminsSend ? 2 : 0) +
    (c.onlyAdminsEditInfo ? 2 : 0) +
    numField(small(c.disappearingSeconds)) +
    numField(small(c.unreadMentions));
  for (const len of memberLens) n += 1 + varintLen(len) + len;
  if (last) n += 1 + varintLen(last.len) + last.len;
  for (const p of pins) n += 1 + varintLen(p.len) + p.len;
  // Chat.icon_media_id = 16 and muted_until = 17 have two-byte tags.
  if (c.iconMediaId.length > 0) n += 1 + strField(c.iconMediaId);
  if (f.mutedUntil !== 0) n += 1 + numField(f.mutedUntil);
  f.len = n;
  return f;
}

function lastMessage(m: LastMessage) {
  const seq = u64(m.seq);
  const serverTime = u64(m.serverTime);
  return {
    seq,
    serverTime,
    len: numField(seq) + strField(m.senderUserId) + numField(serverTime) + (m.isUpdate ? 2 : 0),
  };
}

function pin(p: Pin) {
  const seq = u64(p.seq);
  const expiresAt = u64(p.expiresAt);
  return {
    seq,
    expiresAt,
    pinnedBy: p.pinnedBy,
    len: numField(seq) + strField(p.pinnedBy) + numField(expiresAt),
  };
}

function bool(buf: Buffer, pos: number, tag: number, v: boolean): number {
  if (!v) return pos;
  buf[pos++] = tag;
  buf[pos++] = 1;
  return pos;
}

function writeChat(buf: Buffer, pos: number, f: Flat): number {
  const c = f.chat;
  pos = writeStr(buf, pos, 0x0a, c.id); // Chat.id = 1
  pos = writeNum(buf, pos, 0x10, c.kind); // kind = 2
  pos = writeStr(buf, pos, 0x1a, c.name); // name = 3
  pos = writeStr(buf, pos, 0x22, c.description); // description = 4
  pos = writeNum(buf, pos, 0x28, f.createdAt); // created_at = 5
  pos = writeNum(buf, pos, 0x30, f.lastSeq); // last_seq = 6
  for (let i = 0; i < f.members.length; i++) {
    buf[pos++] = 0x3a; // members = 7
    pos = writeVarint(buf, pos, f.memberLens[i]!);
    pos = writeMember(buf, pos, f.members[i]!);
  }
  pos = writeNum(buf, pos, 0x40, c.unreadCount); // unread_count = 8
  pos = writeNum(buf, pos, 0x48, f.readSeq); // read_seq = 9
  if (f.last && c.lastMessage) {
    buf[pos++] = 0x52; // last_message = 10
    pos = writeVarint(buf, pos, f.last.len);
    pos = writeNum(buf, pos, 0x08, f.last.seq); // LastMessage.seq = 1
    pos = writeStr(buf, pos, 0x12, c.lastMessage.senderUserId); // sender_user_id = 2
    pos = writeNum(buf, pos, 0x18, f.last.serverTime); // server_time = 3
    pos = bool(buf, pos, 0x20, c.lastMessage.isUpdate); // is_update = 4
  }
  pos = bool(buf, pos, 0x58, c.onlyAdminsSend); // only_admins_send = 11
  pos = bool(buf, pos, 0x60, c.onlyAdminsEditInfo); // only_admins_edit_info = 12
  pos = writeNum(buf, pos, 0x68, c.disappearingSeconds); // disappearing_seconds = 13
  for (const p of f.pins) {
    buf[pos++] = 0x72; // pins = 14
    pos = writeVarint(buf, pos, p.len);
    pos = writeNum(buf, pos, 0x08, p.seq); // Pin.seq = 1
    pos = writeStr(buf, pos, 0x12, p.pinnedBy); // pinned_by = 2
    pos = writeNum(buf, pos, 0x18, p.expiresAt); // expires_at = 3
  }
  pos = writeNum(buf, pos, 0x78, c.unreadMentions); // unread_mentions = 15
  if (c.iconMediaId.length > 0) {
    buf[pos++] = 0x82; // icon_media_id = 16: tag 0x82 0x01
    pos = writeStr(buf, pos, 0x01, c.iconMediaId);
  }
  if (f.mutedUntil !== 0) {
    buf[pos++] = 0x88; // muted_until = 17: tag 0x88 0x01
    pos = writeNum(buf, pos, 0x01, f.mutedUntil);
  }
  return pos;
}

/** Writes `Frame{id, <body>: {<field 1>: chats}}` for a body whose tag is two bytes. */
function frameOfChats(id: number, bodyTag: number[], chats: readonly Chat[]): Buffer | undefined {
  let flat: Flat[];
  try {
    flat = chats.map(flatten);
  } catch (err) {
    if (err === UNHANDLED) return undefined;
    throw err;
  }
  let inner = 0;
  for (const f of flat) inner += 1 + varintLen(f.len) + f.len;
  const buf = Buffer.allocUnsafe(numField(id) + 2 + varintLen(inner) + inner);
  let pos = writeNum(buf, 0, FRAME_ID, id);
  buf[pos++] = bodyTag[0]!;
  buf[pos++] = bodyTag[1]!;
  pos = writeVarint(buf, pos, inner);
  for (const f of flat) {
    buf[pos++] = 0x0a; // ChatResult.chat = 1, ChatListResult.chats = 1
    pos = writeVarint(buf, pos, f.len);
    pos = writeChat(buf, pos, f);
  }
  return buf;
}

/** Binary `Frame{id, chatResult: {chat}}`, or undefined to use protobuf-es. */
export function encodeChatResultBinary(id: number, chat: Chat | undefined): Buffer | undefined {
  return frameOfChats(id, FRAME_CHAT_RESULT, chat ? [chat] : []);
}

/** Binary `Frame{id, chatList: {chats}}`, or undefined to use protobuf-es. */
export function encodeChatListBinary(id: number, chats: readonly Chat[]): Buffer | undefined {
  return frameOfChats(id, FRAME_CHAT_LIST, chats);
}

/** A created `Chat` message (every field set), as `toWireChat` makes; a partial init is not. */
function isChat(v: unknown): v is Chat {
  return (v as Chat | undefined)?.$typeName === 'parley.v1.Chat';
}

/**
 * The binary frame of a `chatResult` or `chatList` answer, or undefined when protobuf-es has
 * to write it (chats given as partial inits, values this encoder leaves to it).
 */
export function encodeChats(
  id: number,
  body: { case: 'chatResult' | 'chatList'; value: unknown },
): Buffer | undefined {
  if (body.case === 'chatResult') {
    const chat = (body.value as { chat?: unknown }).chat;
    if (chat !== undefined && !isChat(chat)) return undefined;
    return encodeChatResultBinary(id, chat);
  }
  const chats = (body.value as { chats?: unknown[] }).chats ?? [];
  if (!chats.every(isChat)) return undefined;
  return encodeChatListBinary(id, chats);
}
