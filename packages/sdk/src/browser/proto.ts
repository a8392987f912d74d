/**
 * The little of protobuf that libsignal's wire messages use: uint32 varints (wire type 0) and
 * length-delimited bytes (wire type 2), fields written in ascending number order as prost
 * does. Unknown fields are skipped; a truncated or malformed buffer is BAD_MESSAGE.
 */
import { concatBytes } from '../crypto/bytes.js';
import { E2eError } from '../crypto/errors.js';

export type ProtoField = number | Uint8Array | undefined;

/** Encodes `fields` (field number → value); undefined values are left out. */
export function encodeProto(fields: ReadonlyArray<readonly [number, ProtoField]>): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const [no, value] of [...fields].sort((a, b) => a[0] - b[0])) {
    if (value === undefined) continue;
    if (typeof value === 'number') {
      parts.push(varint(no << 3), varint(value));
    } else {
      parts.push(varint((no << 3) | 2), varint(value.length), value);
    }
  }
  return concatBytes(...parts);
}

/** Decodes into field number → last value (varints as numbers, bytes as copies). */
export function decodeProto(bytes: Uint8Array): Map<number, number | Uint8Array<ArrayBuffer>> {
  const out = new Map<number, number | Uint8Array<ArrayBuffer>>();
  let at = 0;
  const readVarint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (at >= bytes.length) throw bad('truncated varint');
      const byte = bytes[at++]!;
      if (shift < 32) value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw bad('varint too long');
  };
  while (at < bytes.length) {
    const key = readVarint();
    const no = Math.floor(key / 8);
    const type = key % 8;
    if (type === 0) out.set(no, readVarint() >>> 0);
    else if (type === 2) {
      const length = readVarint();
      if (at + length > bytes.length) throw bad('truncated field');
      out.set(no, bytes.slice(at, at + length));
      at += length;
    } else if (type === 5) at += 4;
    else if (type === 1) at += 8;
    else throw bad(`unsupported wire type ${type}`);
  }
  if (at > bytes.length) throw bad('truncated field');
  return out;
}

export function protoBytes(fields: Map<number, unknown>, no: number, what: string): Uint8Array<ArrayBuffer> {
  const value = fields.get(no);
  if (!(value instanceof Uint8Array)) throw bad(`${what} is missing`);
  return value as Uint8Array<ArrayBuffer>;
}

export function protoUint(fields: Map<number, unknown>, no: number, what: string): number {
  const value = fields.get(no);
  if (typeof value !== 'number') throw bad(`${what} is missing`);
  return value;
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Uint8Array.from(out);
}

function bad(what: string): E2eError {
  return new E2eError('BAD_MESSAGE', `ciphertext cannot be parsed: ${what}`);
}
