/**
 * Incomplete resumable uploads in the media bucket (@tus/s3-store): each is an S3 multipart
 * upload with its info object, so every node that shares the bucket can resume it. The
 * store names its objects by the upload id (32 hex digits, with `.info` and `.part`) at the
 * bucket's root, whatever the media prefix; the blob store's expiry only ever touches
 * 64-hex names, so the two never meet.
 *
 * Round trips: @tus/s3-store lists an upload's parts and looks for its leftover partial part
 * both when tus asks for the upload (the offset check) and again when it writes. Within one
 * request, under the upload's lock, nothing else writes the upload, so `S3UploadStore` keeps
 * what the first look found for that request's write (never across requests: another node
 * may have written in between). A PATCH then makes two small requests and its parts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Part } from '@aws-sdk/client-s3';
import { type MetadataValue, S3Store } from '@tus/s3-store';
import { ERRORS, type Upload } from '@tus/utils';
import { parseS3Url } from '../adapters/blobs/s3/s3-blobs.js';
import { UPLOAD_EXPIRY_MS, type UploadStore } from './uploads.js';

/** Each part of an S3 upload but the last (S3's minimum is 5 MiB). */
export const S3_PART_BYTES = 8 * 1024 * 1024;
/** The PATCH size the server suggests to clients (Upload-Chunk-Bytes): 8 parts. */
export const S3_CHUNK_BYTES = 8 * S3_PART_BYTES;

/** What this request has seen of one upload in the bucket, good until it writes. */
interface Seen {
  parts?: Part[];
  /** Looked for the leftover partial part: its size, or undefined when there is none. */
  partial?: { size: number | undefined };
}

/** Per request: upload id → what was seen of it. */
const requestScope = new AsyncLocalStorage<Map<string, Seen>>();

const S3_GONE = new Set(['NoSuchUpload', 'NoSuchKey', 'NotFound']);
const gone = (err: unknown) =>
  typeof err === 'object' && err !== null && 'name' in err && S3_GONE.has(String(err.name));

export class S3UploadStore extends S3Store implements UploadStore {
  /** A PATCH of several parts has them in flight together, while its body still arrives. */
  readonly chunkBytes = S3_CHUNK_BYTES;
  /** Parts being sent to the bucket now, over all uploads (at most the store's limit). */
  partsInFlight = 0;
  /** The most parts that were in flight at once since the store was made. */
  peakPartsInFlight = 0;

  /** Parts this store sends at once, over all its uploads (`s3PartsInFlight`). */
  readonly partsInFlightLimit: number;

  constructor(options: ConstructorParameters<typeof S3Store>[0] & { maxConcurrentPartUploads: number }) {
    super(options);
    this.partsInFlightLimit = options.maxConcurrentPartUploads;
  }

  /** Runs one tus request: the parts it sees are reused by its own write only. */
  inRequest<T>(fn: () => Promise<T>): Promise<T> {
    return requestScope.run(new Map(), fn);
  }

  /** The upload's metadata (owner, size) from its info object, without listing its parts. */
  async getUploadMetadata(id: string): Promise<Upload> {
    return (await this.getMetadata(id)).file;
  }

  private seen(id: string): Seen | undefined {
    const scope = requestScope.getStore();
    if (!scope) return undefined;
    const known = scope.get(id);
    if (known) return known;
    const fresh: Seen = {};
    scope.set(id, fresh);
    return fresh;
  }

  /** Forgets what this request saw of the upload: it is about to change. */
  private changing(id: string): void {
    requestScope.getStore()?.delete(id);
  }

  protected override async retrieveParts(id: string, partNumberMarker?: string): Promise<Part[]> {
    // Pages after the first are the store's own recursion: always asked.
    if (partNumberMarker) return super.retrieveParts(id, partNumberMarker);
    const seen = this.seen(id);
    if (seen?.parts) return [...seen.parts];
    const parts = await super.retrieveParts(id);
    if (seen) seen.parts = [...parts];
    return parts;
  }

  protected override async getIncompletePartSize(id: string): Promise<number | undefined> {
    const seen = this.seen(id);
    if (seen?.partial) return seen.partial.size;
    const size = await super.getIncompletePartSize(id);
    if (seen) seen.partial = { size };
    return size;
  }

  protected override async getIncompletePart(id: string): Promise<Readable | undefined> {
    // Known to be absent: no GET that would answer 404.
    const partial = this.seen(id)?.partial;
    if (partial && partial.size === undefined) return undefined;
    return super.getIncompletePart(id);
  }

  // Each part (and each leftover partial part) is sent under one of the store's permits.
  protected override async uploadPart(
    metadata: MetadataValue,
    body: ReadStream | Readable | Buffer,
    partNumber: number,
  ): Promise<string> {
    // An empty Buffer is the one part of an empty upload, sent outside the permits.
    if (Buffer.isBuffer(body)) return super.uploadPart(metadata, body, partNumber);
    return this.counted(() => super.uploadPart(metadata, body, partNumber));
  }

  protected override async uploadIncompletePart(id: string, body: ReadStream | Readable): Promise<string> {
    return this.counted(() => super.uploadIncompletePart(id, body));
  }

  private async counted<T>(send: () => Promise<T>): Promise<T> {
    this.partsInFlight++;
    this.peakPartsInFlight = Math.max(this.peakPartsInFlight, this.partsInFlight);
    try {
      return await send();
    } finally {
      this.partsInFlight--;
    }
  }

  protected override async deleteIncompletePart(id: string): Promise<void> {
    this.changing(id);
    return super.deleteIncompletePart(id);
  }

  protected override async uploadParts(
    metadata: MetadataValue,
    readStream: Readable,
    currentPartNumber: number,
    offset: number,
  ): Promise<number> {
    this.changing(metadata.file.id);
    return super.uploadParts(metadata, readStream, currentPartNumber, offset);
  }

  /**
   * Removes an upload, finished or not (FILE_NOT_FOUND when it has no info object). The
   * store's own `remove` gives up when the multipart upload is already complete, which would
   * leave a finished upload's object and info in the bucket; here they go in either case.
   */
  override async remove(id: string): Promise<void> {
    this.changing(id);
    let uploadId: string | undefined;
    try {
      uploadId = (await this.getMetadata(id))['upload-id'];
    } catch (err) {
      if (gone(err)) throw ERRORS.FILE_NOT_FOUND;
      throw err;
    }
    if (uploadId) {
      try {
        await this.client.abortMultipartUpload({ Bucket: this.bucket, Key: id, UploadId: uploadId });
      } catch (err) {
        if (!gone(err)) throw err; // else complete: its object is deleted below
      }
    }
    await this.client.deleteObjects({
      Bucket: this.bucket,
      Delete: { Objects: [{ Key: id }, { Key: this.infoKey(id) }, { Key: this.partKey(id, true) }] },
    });
    await this.clearCache(id);
  }
}

export function s3UploadStore(o: {
  url: string;
  region: string;
  forcePathStyle: boolean;
  endpoint?: string | undefined;
  /**
   * Parts sent to the bucket at once, over all uploads of the node (`s3PartsInFlight`,
   * default 4: the best on the one-OSD test gateway; docs/performance.md).
   */
  partsInFlight?: number;
}): S3UploadStore {
  const { bucket } = parseS3Url(o.url);
  return new S3UploadStore({
    partSize: S3_PART_BYTES,
    maxConcurrentPartUploads: o.partsInFlight ?? 4,
    expirationPeriodInMilliseconds: UPLOAD_EXPIRY_MS,
    // Object tags are not on every S3-compatible service; expiry goes by the info objects.
    useTags: false,
    s3ClientConfig: {
      bucket,
      region: o.region,
      forcePathStyle: o.forcePathStyle,
      ...(o.endpoint && { endpoint: o.endpoint }),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    },
  });
}
