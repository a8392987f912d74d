/**
 * Hand-written binary encoders for the frames on every message's path (`deliver`,
 * `sendResult`, and the `receipt` / `receipts` pushes that tell a sender its message
 * arrived), and for the `welcome` every connection opens with. They write exactly the
 * bytes protobuf-es writes for the same frame (checked by fast-codec.test.ts), in one
 * allocation, without building message objects.
 * Field numbers come from proto/parley/v1/parley.proto.
 */
import type { MessageMeta, StoredMessage } from '../ports/types.js';
import { numField, strField, varintLen, writeNum, writeStr, writeVarint } from '../wire-write.js';
import { FORWARDED_MANY } from './wire.js';

const FRAME_ID = 0x08; // Frame.id = 1, varint
const FRAME_SEND_RESULT = [0xc2, 0x02]; // Frame.send_result = 40, length-delimited
const FRAME_DELIVER = [0xea, 0x03]; // Frame.deliver = 61, length-delimited
const FRAME_RECEIPT = [0x82, 0x04]; // Frame.receipt = 64, length-delimited
const FRAME_RECEIPTS = [0xa2, 0x04]; // Frame.receipts = 68, length-delimited
const FRAME_WELCOME = [0xe2, 0x03]; // Frame.welcome = 60, length-delimited

const META_TYPE_NUMBERS: Record<string, number> = { message: 0, edit: 1, delete: 2, reaction: 3 };

function metaLen(meta: MessageMeta): number {
  let n = numField(META_TYPE_NUMBERS[meta.type]!) + numField(meta.refSeq) + strField(meta.reaction);
  for (const u of meta.mentions) {
    const len = Buffer.byteLength(u, 'utf8');
    n += 1 + varintLen(len) + len;
  }
  return n + numField(meta.forwardCount) + (meta.viewOnce ? 2 : 0);
}

function writeMeta(buf: Buffer, pos: number, meta: MessageMeta, len: number): number {
  buf[pos++] = 0x4a; // Message.meta = 9
  pos = writeVarint(buf, pos, len);
  pos = writeNum(buf, pos, 0x08, META_TYPE_NUMBERS[meta.type]!);
  pos = writeNum(buf, pos, 0x10, meta.refSeq);
  pos = writeStr(buf, pos, 0x1a, meta.reaction);
  for (const u of meta.mentions) {
    buf[pos++] = 0x22;
    const n = Buffer.byteLength(u, 'utf8');
    pos = writeVarint(buf, pos, n);
    pos += buf.write(u, pos, 'utf8');
  }
  pos = writeNum(buf, pos, 0x28, meta.forwardCount);
  if (meta.viewOnce) {
    buf[pos++] = 0x30; // MessageMeta.view_once = 6
    buf[pos++] = 1;
  }
  return pos;
}

function flagsLen(m: StoredMessage): number {
  return (
    ((m.meta?.forwardCount ?? 0) > FORWARDED_MANY ? 2 : 0) + (m.deleted ? 2 : 0) + numField(m.expiresAt ?? 0)
  );
}

function messageLen(m: StoredMessage): number {
  const body = m.body?.length ?? 0;
  const meta = m.meta ? metaLen(m.meta) : -1;
  return (
    (meta >= 0 ? 1 + varintLen(meta) + meta : 0) +
    flagsLen(m) +
    strField(m.chatId) +
    numField(m.seq) +
    strField(m.senderUserId) +
    strField(m.senderDeviceId) +
    strField(m.clientMessageId) +
    numField(m.serverTime) +
    1 +
    varintLen(body) +
    body
  );
}

function writeMessage(buf: Buffer, pos: number, m: StoredMessage): number {
  pos = writeStr(buf, pos, 0x0a, m.chatId);
  pos = writeNum(buf, pos, 0x10, m.seq);
  pos = writeStr(buf, pos, 0x1a, m.senderUserId);
  pos = writeStr(buf, pos, 0x22, m.senderDeviceId);
  pos = writeStr(buf, pos, 0x2a, m.clientMessageId);
  pos = writeNum(buf, pos, 0x30, m.serverTime);
  // Message.payload = 7 or Message.chat_update = 8 (stored already encoded).
  buf[pos++] = m.kind === 'update' ? 0x42 : 0x3a;
  const body = m.body ?? EMPTY;
  pos = writeVarint(buf, pos, body.length);
  buf.set(body, pos);
  pos += body.length;
  if (m.meta) pos = writeMeta(buf, pos, m.meta, metaLen(m.meta));
  if ((m.meta?.forwardCount ?? 0) > FORWARDED_MANY) {
    buf[pos++] = 0x50; // Message.forwarded_many = 10
    buf[pos++] = 1;
  }
  if (m.deleted) {
    buf[pos++] = 0x58; // Message.deleted = 11
    buf[pos++] = 1;
  }
  return writeNum(buf, pos, 0x60, m.expiresAt ?? 0); // Message.expires_at = 12
}

const EMPTY = new Uint8Array(0);

/** Binary `Frame{id: 0, deliver: {messages, backlog}}`. */
export function encodeDeliverBinary(messages: readonly StoredMessage[], backlog: boolean): Buffer {
  const lens = new Array<number>(messages.length);
  let inner = backlog ? 2 : 0;
  for (let i = 0; i < messages.length; i++) {
    const n = messageLen(messages[i]!);
    lens[i] = n;
    inner += 1 + varintLen(n) + n;
  }
  const buf = Buffer.allocUnsafe(2 + varintLen(inner) + inner);
  let pos = 0;
  buf[pos++] = FRAME_DELIVER[0]!;
  buf[pos++] = FRAME_DELIVER[1]!;
  pos = writeVarint(buf, pos, inner);
  for (let i = 0; i < messages.length; i++) {
    buf[pos++] = 0x0a; // Deliver.messages = 1
    pos = writeVarint(buf, pos, lens[i]!);
    pos = writeMessage(buf, pos, messages[i]!);
  }
  if (backlog) {
    buf[pos++] = 0x10; // Deliver.backlog = 2
    buf[pos++] = 1;
  }
  return buf;
}

/** Binary `Frame{id, sendResult: {clientMessageId, chatId, seq, serverTime}}`. */
export function encodeSendResultBinary(
  id: number,
  clientMessageId: string,
  chatId: string,
  seq: number,
  serverTime: number,
): Buffer {
  const inner = strField(clientMessageId) + strField(chatId) + numField(seq) + numField(serverTime);
  const buf = Buffer.allocUnsafe(numField(id) + 2 + varintLen(inner) + inner);
  let pos = writeNum(buf, 0, FRAME_ID, id);
  buf[pos++] = FRAME_SEND_RESULT[0]!;
  buf[pos++] = FRAME_SEND_RESULT[1]!;
  pos = writeVarint(buf, pos, inner);
  pos = writeStr(buf, pos, 0x0a, clientMessageId);
  pos = writeStr(buf, pos, 0x12, chatId);
  pos = writeNum(buf, pos, 0x18, seq);
  writeNum(buf, pos, 0x20, serverTime);
  return buf;
}

/** A receipt event as the receipt service builds it (the protobuf message's init shape). */
export interface ReceiptEventInit {
  chatId: string;
  userId: string;
  deliveredSeq: bigint;
  readSeq: bigint;
  at: bigint;
}

/** A uint64 field's value as a number (seqs and times stay far below 2^53). */
const u64 = (v: bigint | number | undefined): number => (v ? Number(v) : 0);

function receiptLen(r: ReceiptEventInit): number {
  return (
    strField(r.chatId) +
    strField(r.userId) +
    numField(u64(r.deliveredSeq)) +
    numField(u64(r.readSeq)) +
    numField(u64(r.at))
  );
}

function writeReceipt(buf: Buffer, pos: number, r: ReceiptEventInit): number {
  pos = writeStr(buf, pos, 0x0a, r.chatId); // ReceiptEvent.chat_id = 1
  pos = writeStr(buf, pos, 0x12, r.userId); // ReceiptEvent.user_id = 2
  pos = writeNum(buf, pos, 0x18, u64(r.deliveredSeq)); // delivered_seq = 3
  pos = writeNum(buf, pos, 0x20, u64(r.readSeq)); // read_seq = 4
  return writeNum(buf, pos, 0x28, u64(r.at)); // at = 5
}

/** Binary `Frame{id: 0, receipt: event}`. */
export function encodeReceiptBinary(r: ReceiptEventInit): Buffer {
  const inner = receiptLen(r);
  const buf = Buffer.allocUnsafe(2 + varintLen(inner) + inner);
  buf[0] = FRAME_RECEIPT[0]!;
  buf[1] = FRAME_RECEIPT[1]!;
  writeReceipt(buf, writeVarint(buf, 2, inner), r);
  return buf;
}

/** Binary `Frame{id: 0, receipts: {receipts: events}}`. */
export function encodeReceiptBatchBinary(events: readonly ReceiptEventInit[]): Buffer {
  const lens = new Array<number>(events.length);
  let inner = 0;
  for (let i = 0; i < events.length; i++) {
    const n = receiptLen(events[i]!);
    lens[i] = n;
    inner += 1 + varintLen(n) + n;
  }
  const buf = Buffer.allocUnsafe(2 + varintLen(inner) + inner);
  buf[0] = FRAME_RECEIPTS[0]!;
  buf[1] = FRAME_RECEIPTS[1]!;
  let pos = writeVarint(buf, 2, inner);
  for (let i = 0; i < events.length; i++) {
    buf[pos++] = 0x0a; // ReceiptBatch.receipts = 1
    pos = writeVarint(buf, pos, lens[i]!);
    pos = writeReceipt(buf, pos, events[i]!);
  }
  return buf;
}

/** A welcome as the gateway builds it (the protobuf message's init shape). */
export interface WelcomeInit {
  protocolVersion: number;
  supportedVersions: readonly number[];
  serverVersion: string;
  userId: string;
  deviceId: string;
  maxPayloadBytes: number;
  deliveryWindow: number;
  heartbeatIntervalMs: number;
  serverTime: bigint | number;
}

/** Binary `Frame{id: 0, welcome: w}`. */
export function encodeWelcomeBinary(w: WelcomeInit): Buffer {
  let versions = 0; // Welcome.supported_versions = 2, packed
  for (const v of w.supportedVersions) versions += varintLen(v);
  const serverTime = u64(w.serverTime);
  const inner =
    numField(w.protocolVersion) +
    (versions > 0 ? 1 + varintLen(versions) + versions : 0) +
    strField(w.serverVersion) +
    strField(w.userId) +
    strField(w.deviceId) +
    numField(w.maxPayloadBytes) +
    numField(w.deliveryWindow) +
    numField(w.heartbeatIntervalMs) +
    numField(serverTime);
  const buf = Buffer.allocUnsafe(2 + varintLen(inner) + inner);
  buf[0] = FRAME_WELCOME[0]!;
  buf[1] = FRAME_WELCOME[1]!;
  let pos = writeVarint(buf, 2, inner);
  pos = writeNum(buf, pos, 0x08, w.protocolVersion);
  if (versions > 0) {
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, versions);
    for (const v of w.supportedVersions) pos = writeVarint(buf, pos, v);
  }
  pos = writeStr(buf, pos, 0x1a, w.serverVersion);
  pos = writeStr(buf, pos, 0x22, w.userId);
  pos = writeStr(buf, pos, 0x2a, w.deviceId);
  pos = writeNum(buf, pos, 0x30, w.maxPayloadBytes);
  pos = writeNum(buf, pos, 0x38, w.deliveryWindow);
  pos = writeNum(buf, pos, 0x40, w.heartbeatIntervalMs);
  writeNum(buf, pos, 0x48, serverTime);
  return buf;
}
