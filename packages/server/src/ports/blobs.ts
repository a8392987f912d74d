/**
 * Media bodies, addressed by the SHA-256 of their bytes (hex). Clients upload ciphertext;
 * the store neither knows nor cares. Invariants every backend keeps:
 * - `put` stores the body only if it hashes to `id` and fits in `maxBytes`, atomically: a
 *   reader never sees a partial body; a repeat of a stored id stores nothing new;
 * - a body is readable until `delete` removes it (the retention job decides which).
 */
export interface BlobPutResult {
  size: number;
  /** False when the id was already stored (the upload was a repeat). */
  created: boolean;
}

/** Bytes `start` through `end` of a body, both included (0 <= start <= end < size). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobRead {
  /** The whole body's size, also when only a range is read. */
  size: number;
  /** The body, or only the range asked for, streamed (never whole in memory). */
  body: AsyncIterable<Uint8Array>;
}

/** A body `list` found. */
export interface StoredBlob {
  id: string;
  /** When it was stored (file time on disk, LastModified in a bucket), ms since epoch. */
  storedAt: number;
}

export interface BlobStore {
  /** DIGEST_MISMATCH when the bytes do not hash to `id`; PAYLOAD_TOO_LARGE above `maxBytes`. */
  put(id: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<BlobPutResult>;
  /**
   * The body (or `range` of it, which must lie within the body) as a stream, or undefined
   * when unknown or expired.
   */
  get(id: string, range?: ByteRange): Promise<BlobRead | undefined>;
  /** The body's size, or undefined when unknown or expired. */
  size(id: string): Promise<number | undefined>;
  has(id: string): Promise<boolean>;
  /** Removes these bodies at once (ids not stored are skipped); returns how many were removed. */
  delete(ids: readonly string[]): Promise<number>;
  /**
   * Up to `limit` stored bodies whose ids sort after `after` ('' for the first page), in id
   * order, each with when it was stored (ms since epoch). Only bodies: never a temporary
   * file, an incomplete upload or anything else that lives beside them.
   */
  list(after: string, limit: number): Promise<StoredBlob[]>;
  close(): Promise<void>;
}

export const BLOB_ID = /^[0-9a-f]{64}$/;

/** Throws RangeError unless `range` lies within a body of `size` bytes (a caller's bug). */
export function checkRange(range: ByteRange, size: number): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= size)
    throw new RangeError(`bytes ${start}-${end} are not within a body of ${size} bytes`);
}
