/**
 * Hand-written binary decoder for the requests on every message's path (`send` and `ack`)
 * and for `createChat`, which a client sends once for each of its contacts when it starts.
 * It returns the same shape protobuf-es would, or undefined for anything else (other
 * bodies, unusual encodings), in which case the caller uses the full decoder.
 */
import type { Frame } from '@parley/protocol';

const EMPTY = new Uint8Array(0);

class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    public end: number,
  ) {}

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw RANGE;
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw RANGE; // longer than 2^56: not a value this decoder handles
  }

  bytes(): Buffer {
    const n = this.varint();
    if (this.pos + n > this.end) throw RANGE;
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw RANGE;
    if (this.pos > this.end) throw RANGE;
  }
}

const RANGE = new Error('fast decode: fall back');

function decodeSend(r: Reader) {
  let clientMessageId = '';
  let chatId = '';
  let payload: Uint8Array = EMPTY;
  const devicePayloads: DevicePayload[] = [];
  const pushPreviews: DevicePayload[] = [];
  const mediaIds: string[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    if (field === 1 && wt === 2) clientMessageId = r.bytes().toString('utf8');
    else if (field === 2 && wt === 2) chatId = r.bytes().toString('utf8');
    else if (field === 3 && wt === 2) payload = r.bytes();
    else if (field === 4 && wt === 2) devicePayloads.push(decodeDevicePayload(r.bytes()));
    else if (field === 6 && wt === 2) pushPreviews.push(decodeDevicePayload(r.bytes()));
    else if (field === 7 && wt === 2) mediaIds.push(r.bytes().toString('utf8'));
    else if (field === 5) {
      // SendRequest.meta: rare and structured; the full decoder handles it.
      throw RANGE;
    } else r.skip(wt);
  }
  return { clientMessageId, chatId, payload, devicePayloads, pushPreviews, mediaIds };
}

interface DevicePayload {
  deviceId: string;
  payload: Uint8Array;
}

function decodeDevicePayload(inner: Buffer): DevicePayload {
  const ir = new Reader(inner, inner.length);
  let deviceId = '';
  let payload: Uint8Array = EMPTY;
  while (ir.pos < ir.end) {
    const t = ir.varint();
    if (t === 0x0a) deviceId = ir.bytes().toString('utf8');
    else if (t === 0x12) payload = ir.bytes();
    else ir.skip(t & 7);
  }
  return { deviceId, payload };
}

function decodeAck(r: Reader) {
  const cursors: Array<{ chatId: string; seq: bigint }> = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 0x0a) {
      const inner = r.bytes();
      const ir = new Reader(inner, inner.length);
      let chatId = '';
      let seq = 0;
      while (ir.pos < ir.end) {
        const t = ir.varint();
        if (t === 0x0a) chatId = ir.bytes().toString('utf8');
        else if (t === 0x10) seq = ir.varint();
        else ir.skip(t & 7);
      }
      cursors.push({ chatId, seq: BigInt(seq) });
    } else r.skip(tag & 7);
  }
  return { cursors };
}

function decodeCreateChat(r: Reader) {
  let kind = 0;
  const memberUserIds: string[] = [];
  let name = '';
  let description = '';
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 0x08) {
      kind = r.varint();
      // An enum is an int32: a larger varint is left to the full decoder's rules.
      if (kind > 0x7fffffff) throw RANGE;
    } else if (tag === 0x12) memberUserIds.push(r.bytes().toString('utf8'));
    else if (tag === 0x1a) name = r.bytes().toString('utf8');
    else if (tag === 0x22) description = r.bytes().toString('utf8');
    else r.skip(tag & 7);
  }
  return { kind, memberUserIds, name, description };
}

/** The body a length-delimited Frame field holds, for the bodies this decoder reads. */
function hotCase(tag: number): 'send' | 'ack' | 'createChat' | undefined {
  if (tag === 0x52) return 'send'; // Frame.send = 10
  if (tag === 0x5a) return 'ack'; // Frame.ack = 11
  if (tag === 0x62) return 'createChat'; // Frame.create_chat = 12
  return undefined;
}

/** A `send`, `ack` or `createChat` frame, or undefined when the full decoder must be used. */
export function decodeHotFrame(data: Buffer): Frame | undefined {
  try {
    const r = new Reader(data, data.length);
    let id = 0;
    let body: { case: 'send' | 'ack' | 'createChat'; value: unknown } | undefined;
    while (r.pos < r.end) {
      const tag = r.varint();
      if (tag === 0x08) {
        id = r.varint();
        if (id > 0xffffffff) return undefined;
        continue;
      }
      const kind = hotCase(tag);
      // Another body, or a second one: let the full decoder decide.
      if (!kind || body) return undefined;
      const len = r.varint();
      if (r.pos + len > r.end) return undefined;
      const inner = new Reader(data, r.pos + len);
      inner.pos = r.pos;
      r.pos += len;
      body = {
        case: kind,
        value:
          kind === 'send' ? decodeSend(inner) : kind === 'ack' ? decodeAck(inner) : decodeCreateChat(inner),
      };
    }
    return body ? ({ id, body } as unknown as Frame) : undefined;
  } catch {
    return undefined;
  }
}
