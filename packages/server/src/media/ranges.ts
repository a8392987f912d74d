/**
 * HTTP conditional and range requests for media bodies (RFC 9110 §13-14). A body is
 * immutable and named by its SHA-256, so its strong ETag is the digest. One range is
 * served; several ranges, or a header that does not parse, are ignored (the whole body),
 * as the RFC allows.
 */
import type { ByteRange } from '../ports/blobs.js';

export type RangeAnswer =
  | { kind: 'whole' }
  | { kind: 'partial'; range: ByteRange }
  /** 416: nothing of the body is within the range. */
  | { kind: 'unsatisfiable' };

const SPEC = /^bytes[ \t]*=[ \t]*(\d{0,15})[ \t]*-[ \t]*(\d{0,15})[ \t]*$/i;

/** What to send for a `Range` header on a body of `size` bytes. */
export function answerRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined || header.length > 100) return { kind: 'whole' };
  const m = SPEC.exec(header);
  if (!m) return { kind: 'whole' }; // several ranges, another unit, or not a range at all
  const [, first, last] = m as unknown as [string, string, string];
  if (first === '' && last === '') return { kind: 'whole' };
  if (first === '') {
    // The last `n` bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - n), end: size - 1 } };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'whole' }; // invalid: ignored
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'partial', range: { start, end } };
}

/** The strong ETag of a body. */
export const etagOf = (mediaId: string): string => `"${mediaId}"`;

/** Whether `If-None-Match` names this body (weak comparison, as the RFC says for it). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** Whether a `Range` may be served under `If-Range` (absent, or naming this body exactly). */
export function ifRangeHolds(header: string | undefined, etag: string): boolean {
  return header === undefined || header.trim() === etag;
}
