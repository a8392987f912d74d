/**
 * BlobStore on S3 or an S3-compatible object store (`--media s3://bucket/prefix`). Every node
 * reads and writes the same bucket, so no node holds the only copy of a body.
 *
 * An upload is spooled to a local temporary file while it is hashed and counted; only a body
 * whose SHA-256 matches its id is sent, with one PutObject. S3 makes an object visible only
 * once it is complete, so a reader never sees a partial body and a refused upload leaves
 * nothing in the bucket. Credentials come from the SDK's default chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, a shared profile, or an instance role); they are never logged.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ParleyError } from '@parley/protocol';
import {
  BLOB_ID,
  type BlobPutResult,
  type BlobRead,
  type BlobStore,
  type ByteRange,
  checkRange,
  type StoredBlob,
} from '../../../ports/blobs.js';
import { hashChecked, type KnownDigest, knownChecked, spoolChecked } from '../spool.js';

export interface S3BlobOptions {
  /** `s3://bucket` or `s3://bucket/prefix`. */
  url: string;
  /** Endpoint of an S3-compatible service (http(s)://host:port); AWS when absent. */
  endpoint?: string;
  region: string;
  /** Address buckets as https://host/bucket instead of https://bucket.host. */
  forcePathStyle: boolean;
  /** Where uploads are spooled while they are checked (default: the system temp dir). */
  spoolDir?: string;
}

/** Parses `s3://bucket[/prefix]`; the prefix, when given, ends with a slash. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/[A-Za-z0-9!_.*'()/-]*)?$/.exec(url);
  if (!m) throw new ParleyError('INVALID_ARGUMENT', 'the media store is s3://bucket or s3://bucket/prefix');
  const path = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket: m[1]!, prefix: path ? `${path}/` : '' };
}

const notFound = (err: unknown) =>
  err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey');

/** Maps an S3 or network failure to UNAVAILABLE without echoing anything the service sent. */
function unavailable(err: unknown): ParleyError {
  const what =
    err instanceof S3ServiceException ? `${err.name} (${err.$metadata.httpStatusCode})` : 'network error';
  return new ParleyError('UNAVAILABLE', `the media store failed: ${what}`);
}

/** ECONNREFUSED, ENOTFOUND, TimeoutError…: what went wrong, without anything the service sent. */
function networkReason(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^[A-Z_]{3,32}$/.test(code)) return code;
  return err instanceof Error && err.name !== 'Error' ? err.name : 'network error';
}

export class S3BlobStore implements BlobStore {
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly spool: string;

  private constructor(
    private readonly s3: S3Client,
    options: S3BlobOptions,
  ) {
    ({ bucket: this.bucket, prefix: this.prefix } = parseS3Url(options.url));
    this.spool = mkdtempSync(join(options.spoolDir ?? tmpdir(), 'parley-media-'));
  }

  /** Connects and checks that the bucket exists and the credentials may use it. */
  static async open(options: S3BlobOptions): Promise<S3BlobStore> {
    const s3 = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.endpoint && { endpoint: options.endpoint }),
      maxAttempts: 3,
      // Checksums only where S3 requires them: many S3-compatible services refuse the
      // newer flexible checksum headers. The body's SHA-256 is checked here before upload.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const store = new S3BlobStore(s3, options);
    try {
      await s3.send(new HeadBucketCommand({ Bucket: store.bucket }));
    } catch (err) {
      await store.close();
      const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
      const why =
        status === 404
          ? 'does not exist'
          : status === 403
            ? 'is not accessible with these credentials'
            : `cannot be reached (${networkReason(err)})`;
      throw new Error(`media bucket ${store.bucket} ${why}`);
    }
    return store;
  }

  private keyOf(id: string): string {
    if (!BLOB_ID.test(id)) throw new ParleyError('INVALID_ARGUMENT', 'a media id is 64 lowercase hex digits');
    return `${this.prefix}${id}`;
  }

  async has(id: string): Promise<boolean> {
    return (await this.size(id)) !== undefined;
  }

  async size(id: string): Promise<number | undefined> {
    const Key = this.keyOf(id);
    try {
      return (await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key }))).ContentLength ?? 0;
    } catch (err) {
      if (notFound(err)) return undefined;
      throw unavailable(err);
    }
  }

  async put(id: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<BlobPutResult> {
    const Key = this.keyOf(id);
    const tmp = join(this.spool, `${id}.${randomBytes(6).toString('hex')}`);
    try {
      const size = await spoolChecked(tmp, id, body, maxBytes, false);
      if (await this.has(id)) return { size, created: false };
      try {
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: createReadStream(tmp),
            ContentLength: size,
            ContentType: 'application/octet-stream',
          }),
        );
      } catch (err) {
        throw unavailable(err);
      }
      return { size, created: true };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * Stores the object `key` of this bucket (e.g. a finished resumable upload) under `id`:
   * it is read once to check its hash and size, then copied within the bucket, so its bytes
   * go up only once. The caller removes `key` afterwards. DIGEST_MISMATCH / PAYLOAD_TOO_LARGE
   * as `put`.
   */
  async adoptObject(id: string, key: string, maxBytes: number, known?: KnownDigest): Promise<BlobPutResult> {
    const Key = this.keyOf(id);
    try {
      let size: number;
      if (known) {
        // The node hashed the bytes on their way into the bucket; the object's length confirms it.
        const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
        if (h.ContentLength !== known.size)
          throw new ParleyError('DIGEST_MISMATCH', 'the body is not the one that was hashed');
        size = knownChecked(id, known, maxBytes);
      } else {
        const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        const body = r.Body as Readable;
        size = await hashChecked(id, body, maxBytes).finally(() => body.destroy());
      }
      if (await this.has(id)) return { size, created: false };
      await this.s3.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key,
          CopySource: `${this.bucket}/${encodeURIComponent(key)}`,
          ContentType: 'application/octet-stream',
          MetadataDirective: 'REPLACE',
        }),
      );
      return { size, created: true };
    } catch (err) {
      throw err instanceof ParleyError ? err : unavailable(err);
    }
  }

  async get(id: string, range?: ByteRange): Promise<BlobRead | undefined> {
    const Key = this.keyOf(id);
    const Range = range && `bytes=${range.start}-${range.end}`;
    let r: GetObjectCommandOutput;
    try {
      r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key, ...(Range && { Range }) }));
    } catch (err) {
      if (notFound(err)) return undefined;
      throw unavailable(err);
    }
    if (!range) return { size: r.ContentLength ?? 0, body: r.Body as Readable };
    // The whole size is after the slash of `Content-Range: bytes start-end/size`.
    const size = Number(/\/(\d+)$/.exec(r.ContentRange ?? '')?.[1] ?? Number.NaN);
    const got = r.ContentLength ?? -1;
    if (!Number.isSafeInteger(size) || got !== range.end - range.start + 1) {
      (r.Body as Readable).destroy();
      checkRange(range, Number.isSafeInteger(size) ? size : 0);
      throw unavailable(new Error(`the bucket answered ${got} bytes for bytes=${range.start}-${range.end}`));
    }
    return { size, body: r.Body as Readable };
  }

  async delete(ids: readonly string[]): Promise<number> {
    let removed = 0;
    try {
      for (const id of ids) {
        if (!BLOB_ID.test(id))
          throw new ParleyError('INVALID_ARGUMENT', 'a media id is 64 lowercase hex digits');
        if (!(await this.has(id))) continue;
        await this.removeKeys([`${this.prefix}${id}`]);
        removed++;
      }
    } catch (err) {
      throw err instanceof ParleyError ? err : unavailable(err);
    }
    return removed;
  }

  private async removeKeys(keys: readonly string[]): Promise<void> {
    const r = await this.s3.send(
      new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    if (r.Errors?.length) {
      throw new ParleyError('UNAVAILABLE', `the media store refused ${r.Errors.length} deletes`);
    }
  }

  /**
   * Lists the prefix from `after` on. Other objects may share it (with no prefix, the
   * resumable uploads' `.info` and part objects do): only 64-hex names are bodies.
   */
  async list(after: string, limit: number): Promise<StoredBlob[]> {
    const out: StoredBlob[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix,
            MaxKeys: Math.min(1000, Math.max(limit - out.length, 1)),
            ...(token ? { ContinuationToken: token } : after && { StartAfter: `${this.prefix}${after}` }),
          }),
        );
        for (const o of page.Contents ?? []) {
          const name = o.Key?.slice(this.prefix.length) ?? '';
          if (out.length < limit && BLOB_ID.test(name) && o.LastModified)
            out.push({ id: name, storedAt: o.LastModified.getTime() });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token && out.length < limit);
    } catch (err) {
      throw err instanceof ParleyError ? err : unavailable(err);
    }
    return out;
  }

  async close(): Promise<void> {
    this.s3.destroy();
    rmSync(this.spool, { recursive: true, force: true });
  }
}
