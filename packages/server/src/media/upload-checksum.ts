/**
 * The tus checksum extension, which @tus/server does not offer: a PATCH may carry
 * `Upload-Checksum: <algorithm> <base64 digest>` of its own bytes. The chunk is spooled to a
 * temporary file while it is hashed, and only a chunk that matches is handed to the tus store,
 * so a corrupted chunk never reaches the upload (460 Checksum Mismatch; the offset stays).
 * An unknown algorithm or a malformed header is 400 before any byte is read. Works over any
 * tus store (file and S3): `ChecksumStore` wraps one.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ParleyError } from '@parley/protocol';
import { DataStore, type Upload } from '@tus/utils';

/** What `Tus-Checksum-Algorithm` advertises, in the order a client should prefer them. */
export const CHECKSUM_ALGORITHMS = ['sha256', 'sha1', 'sha512', 'md5'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
/** tus's status for a chunk whose bytes do not match its Upload-Checksum. */
export const CHECKSUM_MISMATCH_STATUS = 460;

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { sha256: 32, sha1: 20, sha512: 64, md5: 16 };

export interface ExpectedChecksum {
  algorithm: ChecksumAlgorithm;
  digest: Buffer;
}

/**
 * Parses an Upload-Checksum header (undefined when absent). Throws INVALID_ARGUMENT for an
 * unsupported algorithm or a digest that is not base64 of the algorithm's length.
 */
export function parseUploadChecksum(header: string | undefined): ExpectedChecksum | undefined {
  if (header === undefined) return undefined;
  const m = /^([A-Za-z0-9-]{1,16}) ([A-Za-z0-9+/]+={0,2})$/.exec(header.trim());
  if (!m) throw new ParleyError('INVALID_ARGUMENT', 'Upload-Checksum is "<algorithm> <base64 digest>"');
  const algorithm = m[1]!.toLowerCase() as ChecksumAlgorithm;
  if (!CHECKSUM_ALGORITHMS.includes(algorithm))
    throw new ParleyError(
      'INVALID_ARGUMENT',
      `Upload-Checksum algorithm is one of ${CHECKSUM_ALGORITHMS.join(', ')}`,
    );
  const digest = Buffer.from(m[2]!, 'base64');
  if (digest.length !== DIGEST_BYTES[algorithm])
    throw new ParleyError('INVALID_ARGUMENT', `Upload-Checksum is not a ${algorithm} digest`);
  return { algorithm, digest };
}

/** The checksum the current request declared, if any (set around each tus request). */
export const requestChecksum = new AsyncLocalStorage<ExpectedChecksum | undefined>();

/**
 * A tus store that checks each write against the request's Upload-Checksum before the inner
 * store sees it. Everything else is the inner store's.
 */
export class ChecksumStore<S extends DataStore> extends DataStore {
  private readonly spool: string;
  private spooled = 0;

  constructor(
    readonly inner: S,
    spoolDir: string = tmpdir(),
  ) {
    super();
    this.extensions = [...inner.extensions, 'checksum'];
    this.spool = mkdtempSync(join(spoolDir, 'parley-tus-'));
  }

  override async write(stream: Readable, id: string, offset: number): Promise<number> {
    const expected = requestChecksum.getStore();
    if (!expected) return this.inner.write(stream, id, offset);
    const path = join(this.spool, `${id}.${++this.spooled}`);
    try {
      const file = await open(path, 'wx', 0o600);
      const hash = createHash(expected.algorithm);
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          hash.update(chunk);
          await file.write(chunk);
        }
      } finally {
        await file.close();
      }
      if (!hash.digest().equals(expected.digest))
        throw {
          status_code: CHECKSUM_MISMATCH_STATUS,
          body: 'Checksum Mismatch: the chunk does not match its Upload-Checksum; nothing was written\n',
        };
      return await this.inner.write(createReadStream(path), id, offset);
    } finally {
      await rm(path, { force: true });
    }
  }

  /** Removes the spool directory (call when the node stops). */
  close(): void {
    rmSync(this.spool, { recursive: true, force: true });
  }

  override create(upload: Upload) {
    return this.inner.create(upload);
  }
  override remove(id: string) {
    return this.inner.remove(id);
  }
  override getUpload(id: string) {
    return this.inner.getUpload(id);
  }
  override declareUploadLength(id: string, length: number) {
    return this.inner.declareUploadLength(id, length);
  }
  override deleteExpired() {
    return this.inner.deleteExpired();
  }
  override getExpiration() {
    return this.inner.getExpiration();
  }
}
