/**
 * The bench payload: opaque bytes to the server, to the generator a header with the send
 * time (ms since the epoch, µs fraction), the sender's index and a per-sender counter.
 * Layout: f64 time | u32 sender | u32 counter | "PBEN" | filler up to the payload size.
 */

export const HEADER_BYTES = 20;
const MAGIC = 0x4e454250; // "PBEN" little-endian

export function makePayload(size: number, sentAt: number, sender: number, counter: number): Buffer {
  const b = Buffer.alloc(Math.max(size, HEADER_BYTES), 0x5a);
  b.writeDoubleLE(sentAt, 0);
  b.writeUInt32LE(sender >>> 0, 8);
  b.writeUInt32LE(counter >>> 0, 12);
  b.writeUInt32LE(MAGIC, 16);
  return b;
}

export interface PayloadHeader {
  sentAt: number;
  sender: number;
  counter: number;
}

/** The header of a bench payload, or undefined for anything else (chat updates, foreign bytes). */
export function readPayload(p: Uint8Array): PayloadHeader | undefined {
  if (p.length < HEADER_BYTES) return undefined;
  const b = Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  if (b.readUInt32LE(16) !== MAGIC) return undefined;
  return { sentAt: b.readDoubleLE(0), sender: b.readUInt32LE(8), counter: b.readUInt32LE(12) };
}
