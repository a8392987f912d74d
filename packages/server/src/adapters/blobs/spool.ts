/**
 * Writes an upload to a new temporary file while hashing and counting it, and fails unless it
 * fits in `maxBytes` and hashes to `id`. The file is closed (and synced to disk with `sync`,
 * for a file that stays) before this resolves; on failure the caller removes it.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { ParleyError } from '@parley/protocol';

export async function spoolChecked(
  path: string,
  id: string,
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
  sync: boolean,
): Promise<number> {
  const file = await open(path, 'wx', 0o600);
  try {
    const size = await hashChecked(id, body, maxBytes, (chunk) => file.write(chunk));
    if (sync) await file.sync();
    return size;
  } finally {
    await file.close();
  }
}

/**
 * Reads `body` to its end, handing each chunk to `each`; returns its size, or fails with
 * PAYLOAD_TOO_LARGE past `maxBytes` and DIGEST_MISMATCH unless it hashes to `id`.
 */
export async function hashChecked(
  id: string,
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
  each?: (chunk: Uint8Array) => Promise<unknown>,
): Promise<number> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new ParleyError('PAYLOAD_TOO_LARGE', `media is larger than ${maxBytes} bytes`);
    hash.update(chunk);
    if (each) await each(chunk);
  }
  if (hash.digest('hex') !== id)
    throw new ParleyError('DIGEST_MISMATCH', 'the body does not hash to the media id');
  return size;
}

/** The SHA-256 (hex) and size of a body, taken while it was written (media/upload-digest.ts). */
export interface KnownDigest {
  sha256: string;
  size: number;
}

/**
 * The same refusals as `hashChecked`, for a body whose digest and size are already known:
 * PAYLOAD_TOO_LARGE past `maxBytes`, DIGEST_MISMATCH unless it is `id`. Returns the size.
 */
export function knownChecked(id: string, known: KnownDigest, maxBytes: number): number {
  if (known.size > maxBytes)
    throw new ParleyError('PAYLOAD_TOO_LARGE', `media is larger than ${maxBytes} bytes`);
  if (known.sha256 !== id) throw new ParleyError('DIGEST_MISMATCH', 'the body does not hash to the media id');
  return known.size;
}
