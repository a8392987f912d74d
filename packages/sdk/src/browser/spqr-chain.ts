/**
 * The message-key chain of Signal's sparse post-quantum ratchet (SPQR, protocol V1), which
 * libsignal-client 0.103 requires on every session (min_version V1), and the V1 framing of
 * its per-message field. This suite runs the chain of epoch 0 only (keyed by PQXDH's third
 * secret) and never starts the ratchet's ML-KEM exchange: its messages carry payload None,
 * which a V1 peer accepts as "no header received yet", and it ignores the peer's chunks.
 * So every message key mixes PQXDH's post-quantum secret, but the post-quantum part never
 * heals after a compromise, unlike between two libsignal devices (see docs/security.md).
 */
import { concatBytes } from '../crypto/bytes.js';
import { E2eError } from '../crypto/errors.js';
import { hkdfSha256, utf8 } from './primitives.js';

export const MAX_JUMP = 25_000;
export const MAX_OOO_KEYS = 2_000;
const V1 = 1;
const EPOCH = 1;

export interface ChainDirection {
  ctr: number;
  next: Uint8Array;
  /** Keys of skipped indexes kept for late messages. */
  prev: { index: number; key: Uint8Array }[];
}

export interface SpqrChain {
  send: ChainDirection;
  recv: ChainDirection;
}

/** Epoch 0 of the chain; `initiator` is direction A2B (the side that processed the bundle). */
export async function newChain(pqrKey: Uint8Array, initiator: boolean): Promise<SpqrChain> {
  const g = await hkdfSha256(pqrKey, undefined, utf8('Signal PQ Ratchet V1 Chain  Start'), 96);
  const a2b = { ctr: 0, next: g.slice(32, 64), prev: [] };
  const b2a = { ctr: 0, next: g.slice(64, 96), prev: [] };
  return initiator ? { send: a2b, recv: b2a } : { send: b2a, recv: a2b };
}

/** The next send key and this message's SPQR field (V1, epoch 1, index, payload None). */
export async function sendKey(chain: SpqrChain): Promise<{ key: Uint8Array; field: Uint8Array }> {
  const key = await step(chain.send);
  return {
    key,
    field: concatBytes(Uint8Array.of(V1), varint(EPOCH), varint(chain.send.ctr), Uint8Array.of(0)),
  };
}

/** The key of a received SPQR field (undefined for index 0 of epoch 1, as libsignal). */
export async function recvKey(chain: SpqrChain, field: Uint8Array): Promise<Uint8Array | undefined> {
  if (field.length === 0 || field[0] !== V1) throw bad('a V1 post-quantum ratchet field is required');
  const at = { i: 1 };
  const epoch = readVarint(field, at);
  const index = readVarint(field, at);
  if (epoch === 0 || at.i >= field.length || field[at.i]! > 6)
    throw bad('malformed post-quantum ratchet field');
  if (epoch !== EPOCH) {
    throw new E2eError(
      'DECRYPT_FAILED',
      `post-quantum ratchet epoch ${epoch} is beyond what this suite runs`,
    );
  }
  if (index === 0) return undefined;
  const dir = chain.recv;
  if (index < dir.ctr) {
    const kept = dir.prev.findIndex((p) => p.index === index);
    if (kept < 0) throw new E2eError('DUPLICATE_MESSAGE', 'post-quantum ratchet key already used or trimmed');
    return dir.prev.splice(kept, 1)[0]!.key;
  }
  if (index === dir.ctr) throw new E2eError('DUPLICATE_MESSAGE', 'post-quantum ratchet key already used');
  if (index - dir.ctr > MAX_JUMP) throw new E2eError('DECRYPT_FAILED', 'post-quantum ratchet jump too large');
  while (index > dir.ctr + 1) {
    const key = await step(dir);
    if (dir.ctr + MAX_OOO_KEYS >= index) dir.prev.push({ index: dir.ctr, key });
  }
  if (dir.prev.length > MAX_OOO_KEYS) dir.prev.splice(0, dir.prev.length - MAX_OOO_KEYS);
  return step(dir);
}

async function step(dir: ChainDirection): Promise<Uint8Array> {
  dir.ctr += 1;
  const ctr = new Uint8Array(4);
  new DataView(ctr.buffer).setUint32(0, dir.ctr);
  const g = await hkdfSha256(
    dir.next,
    undefined,
    concatBytes(ctr, utf8('Signal PQ Ratchet V1 Chain Next')),
    64,
  );
  dir.next = g.slice(0, 32);
  return g.slice(32, 64);
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

function readVarint(bytes: Uint8Array, at: { i: number }): number {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at.i >= bytes.length) throw bad('truncated varint');
    const byte = bytes[at.i++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return value;
  }
  throw bad('varint too long');
}

function bad(what: string): E2eError {
  return new E2eError('BAD_MESSAGE', what);
}
