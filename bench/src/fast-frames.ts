/**
 * The generator's hot path on the binary subprotocol. It reads `deliver`, `sendResult`,
 * `ackResult`, `receipt` and `receipts` frames and writes `send` and `ack` frames straight
 * from and to protobuf bytes, without building message objects, so the generator spends less
 * per message than the server it measures (with the full codec a generator process costs
 * more per delivery than the node). Any other frame, a chat update inside a deliver, and
 * every JSON frame go through @parley/protocol's codec. fast-frames.test.ts checks both
 * directions against that codec.
 */

/** One message of a deliver frame, as the generator needs it. */
export interface FastMessage {
  chatId: string;
  seq: number;
  serverTime: number;
  /** The payload bytes (a view into the frame); undefined when the message has none. */
  payload: Uint8Array | undefined;
}

export type FastFrame =
  | { case: 'deliver'; id: number; messages: FastMessage[] }
  | { case: 'sendResult' | 'ackResult'; id: number }
  | { case: 'receipts'; id: number; count: number };

// Frame body field numbers (proto/parley/v1/parley.proto).
const F_ID = 1;
const F_SEND = 10;
const F_ACK = 11;
const F_SEND_RESULT = 40;
const F_ACK_RESULT = 41;
const F_DELIVER = 61;
const F_RECEIPT = 64;
const F_RECEIPTS = 68;

const WT_VARINT = 0;
const WT_I64 = 1;
const WT_LEN = 2;
const WT_I32 = 5;

/** Thrown inside the reader for anything it does not handle; the caller falls back. */
const FALLBACK = new Error('fall back to the full codec');

class Reader {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** A varint as a number (exact up to 2^53, enough for ids, seqs and times). */
  uint(): number {
    const b = this.b;
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw FALLBACK;
      const byte = b[this.pos++]!;
      x += (byte & 0x7f) * mul;
      if (byte < 0x80) return x;
      mul *= 128;
    }
    throw FALLBACK;
  }

  /** The end of a length-delimited field whose length comes next. */
  lenEnd(): number {
    const n = this.uint();
    const e = this.pos + n;
    if (e > this.end) throw FALLBACK;
    return e;
  }

  skip(wireType: number): void {
    if (wireType === WT_VARINT) this.uint();
    else if (wireType === WT_LEN) this.pos = this.lenEnd();
    else if (wireType === WT_I64) this.pos += 8;
    else if (wireType === WT_I32) this.pos += 4;
    else throw FALLBACK;
    if (this.pos > this.end) throw FALLBACK;
  }
}

const latin1 = (b: Uint8Array, start: number, end: number): string =>
  Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');

/** Reads a binary frame; undefined when the full codec must read it. */
export function readFastFrame(b: Uint8Array): FastFrame | undefined {
  try {
    const r = new Reader(b, 0, b.length);
    let id = 0;
    let out: FastFrame | undefined;
    while (r.pos < r.end) {
      const tag = r.uint();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === F_ID && wt === WT_VARINT) {
        id = r.uint();
      } else if (wt !== WT_LEN) {
        r.skip(wt);
      } else if (field === F_DELIVER) {
        out = { case: 'deliver', id: 0, messages: readDeliver(r, r.lenEnd()) };
      } else if (field === F_SEND_RESULT || field === F_ACK_RESULT) {
        r.pos = r.lenEnd();
        out = { case: field === F_SEND_RESULT ? 'sendResult' : 'ackResult', id: 0 };
      } else if (field === F_RECEIPT) {
        r.pos = r.lenEnd();
        out = { case: 'receipts', id: 0, count: 1 };
      } else if (field === F_RECEIPTS) {
        out = { case: 'receipts', id: 0, count: countEntries(r, r.lenEnd()) };
      } else {
        return undefined;
      }
    }
    if (out) out.id = id;
    return out;
  } catch (err) {
    if (err === FALLBACK) return undefined;
    throw err;
  }
}

function readDeliver(r: Reader, end: number): FastMessage[] {
  const messages: FastMessage[] = [];
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === ((1 << 3) | WT_LEN)) messages.push(readMessage(r, r.lenEnd()));
    else r.skip(tag & 7);
  }
  r.pos = end;
  return messages;
}

function readMessage(r: Reader, end: number): FastMessage {
  const m: FastMessage = { chatId: '', seq: 0, serverTime: 0, payload: undefined };
  while (r.pos < end) {
    const tag = r.uint();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === WT_LEN) {
      const e = r.lenEnd();
      m.chatId = latin1(r.b, r.pos, e);
      r.pos = e;
    } else if (field === 2 && wt === WT_VARINT) {
      m.seq = r.uint();
    } else if (field === 6 && wt === WT_VARINT) {
      m.serverTime = r.uint();
    } else if (field === 7 && wt === WT_LEN) {
      const e = r.lenEnd();
      m.payload = r.b.subarray(r.pos, e);
      r.pos = e;
    } else if (field === 8) {
      throw FALLBACK; // a chat update: the full codec reads it
    } else {
      r.skip(wt);
    }
  }
  r.pos = end;
  return m;
}

function countEntries(r: Reader, end: number): number {
  let n = 0;
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === ((1 << 3) | WT_LEN)) n++;
    r.skip(tag & 7);
  }
  r.pos = end;
  return n;
}

// -- writing ---------------------------------------------------------------------------------

function varintSize(x: number): number {
  let n = 1;
  while (x >= 128) {
    x = Math.floor(x / 128);
    n++;
  }
  return n;
}

class Writer {
  pos = 0;
  constructor(readonly b: Buffer) {}

  uint(x: number): void {
    while (x >= 128) {
      this.b[this.pos++] = (x % 128) | 0x80;
      x = Math.floor(x / 128);
    }
    this.b[this.pos++] = x;
  }

  ascii(s: string): void {
    this.pos += this.b.write(s, this.pos, 'latin1');
  }

  bytes(p: Uint8Array): void {
    this.b.set(p, this.pos);
    this.pos += p.length;
  }
}

/** Ids, chat ids and client message ids are ASCII; anything else takes the full codec. */
const isAscii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

/** A binary `send` frame (`id` > 0), or undefined when the full codec must write it. */
export function writeSendFrame(
  id: number,
  chatId: string,
  clientMessageId: string,
  payload: Uint8Array,
): Buffer | undefined {
  if (!isAscii(chatId) || !isAscii(clientMessageId)) return undefined;
  const body =
    1 +
    varintSize(clientMessageId.length) +
    clientMessageId.length +
    1 +
    varintSize(chatId.length) +
    chatId.length +
    1 +
    varintSize(payload.length) +
    payload.length;
  const sendTag = (F_SEND << 3) | WT_LEN;
  const size = 1 + varintSize(id) + varintSize(sendTag) + varintSize(body) + body;
  const w = new Writer(Buffer.allocUnsafe(size));
  w.uint((F_ID << 3) | WT_VARINT);
  w.uint(id);
  w.uint(sendTag);
  w.uint(body);
  w.uint((1 << 3) | WT_LEN);
  w.uint(clientMessageId.length);
  w.ascii(clientMessageId);
  w.uint((2 << 3) | WT_LEN);
  w.uint(chatId.length);
  w.ascii(chatId);
  w.uint((3 << 3) | WT_LEN);
  w.uint(payload.length);
  w.bytes(payload);
  return w.b;
}

/** A binary `ack` frame for these cursors, or undefined when the full codec must write it. */
export function writeAckFrame(
  id: number,
  cursors: ReadonlyArray<readonly [string, number]>,
): Buffer | undefined {
  let body = 0;
  const sizes: number[] = [];
  for (const [chatId, seq] of cursors) {
    if (!isAscii(chatId)) return undefined;
    const c = 1 + varintSize(chatId.length) + chatId.length + (seq > 0 ? 1 + varintSize(seq) : 0);
    sizes.push(c);
    body += 1 + varintSize(c) + c;
  }
  const ackTag = (F_ACK << 3) | WT_LEN;
  const size = (id > 0 ? 1 + varintSize(id) : 0) + varintSize(ackTag) + varintSize(body) + body;
  const w = new Writer(Buffer.allocUnsafe(size));
  if (id > 0) {
    w.uint((F_ID << 3) | WT_VARINT);
    w.uint(id);
  }
  w.uint(ackTag);
  w.uint(body);
  for (let i = 0; i < cursors.length; i++) {
    const [chatId, seq] = cursors[i]!;
    w.uint((1 << 3) | WT_LEN);
    w.uint(sizes[i]!);
    w.uint((1 << 3) | WT_LEN);
    w.uint(chatId.length);
    w.ascii(chatId);
    if (seq > 0) {
      w.uint((2 << 3) | WT_VARINT);
      w.uint(seq);
    }
  }
  return w.b;
}
