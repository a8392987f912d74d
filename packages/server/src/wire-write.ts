/**
 * Protobuf wire-format primitives for the hand-written encoders (gateway/fast-codec.ts,
 * gateway/fast-chat-codec.ts, chat/updates.ts): each encoder measures its message, allocates
 * once and writes. Numbers are non-negative integers below 2^53; proto3 leaves out fields
 * that hold their default, and so do these helpers. The `Member` message is here because
 * chats and CREATED updates both hold it.
 */

export function varintLen(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

export function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** Bytes of a string field with a one-byte tag (0 when empty: proto3 omits it). */
export function strField(s: string): number {
  if (s.length === 0) return 0;
  const n = Buffer.byteLength(s, 'utf8');
  return 1 + varintLen(n) + n;
}

/** Writes a string field whose tag is one byte (nothing when empty). */
export function writeStr(buf: Buffer, pos: number, tag: number, s: string): number {
  if (s.length === 0) return pos;
  buf[pos++] = tag;
  const n = Buffer.byteLength(s, 'utf8');
  pos = writeVarint(buf, pos, n);
  return pos + buf.write(s, pos, 'utf8');
}

/** Bytes of a varint field with a one-byte tag (0 when zero). */
export function numField(n: number): number {
  return n === 0 ? 0 : 1 + varintLen(n);
}

/** Writes a varint field whose tag is one byte (nothing when zero). */
export function writeNum(buf: Buffer, pos: number, tag: number, n: number): number {
  if (n === 0) return pos;
  buf[pos++] = tag;
  return writeVarint(buf, pos, n);
}

/** A `Member` (parley.proto), shared by chats and CREATED updates. */
export interface WireMember {
  userId: string;
  /** The wire `Role` number. */
  role: number;
  joinedAt: number;
}

export function memberLen(m: WireMember): number {
  return strField(m.userId) + numField(m.role) + numField(m.joinedAt);
}

/** Writes `m`'s fields (the caller writes its tag and length). */
export function writeMember(buf: Buffer, pos: number, m: WireMember): number {
  pos = writeStr(buf, pos, 0x0a, m.userId); // Member.user_id = 1
  pos = writeNum(buf, pos, 0x10, m.role); // Member.role = 2
  return writeNum(buf, pos, 0x18, m.joinedAt); // Member.joined_at = 3
}
