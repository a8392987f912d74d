/**
 * Incomplete resumable uploads in the media bucket (@tus/s3-store): each is an S3 multipart
 * upload with its info object, so every node that shares the bucket can resume it. The
 * store names its objects by the upload id (32 hex digits, with `.info` and `.part`) at the
 * bucket's root, whatever the media prefix; the blob store's expiry only ever touches
 * 64-hex names, and this store's sweep only upload ids, so the two never meet and neither
 * touches anything else in the bucket.
 *
 * Round trips: @tus/s3-store lists an upload's parts and looks for its leftover partial part
 * both when tus asks for the upload (the offset check) and again when it writes. Within one
 * request, under the upload's lock, nothing else writes the upload, so `S3UploadStore` keeps
 * what the first look found for that request's write (never across requests: another node
 * may have written in between). A PATCH then makes two small requests and its parts.
 *
 * Parts straight from the request: when a PATCH declares its length (Content-Length), each
 * whole part of it is sent to the bucket as its bytes arrive, one `UploadPart` with the
 * part's length, holding no copy (the store's own path writes each part to a temporary file
 * and reads it back). A part is begun only when the declared body holds all of it, so the
 * parts are the ones the store's own path would make, and what is left after the last whole
 * part (shorter than S3's smallest part, and not the upload's end) takes the store's own path
 * to the leftover partial part. A body cut off inside a streamed part loses that part: the
 * offset is what the finished parts hold, and the client sends the rest from there.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { once } from 'node:events';
import type { ReadStream } from 'node:fs';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import type { Part } from '@aws-sdk/client-s3';
import { type MetadataValue, S3Store } from '@tus/s3-store';
import { ERRORS, type Upload } from '@tus/utils';
import { parseS3Url } from '../adapters/blobs/s3/s3-blobs.js';
import { coalesced, coalescer } from './coalesce.js';
import { UPLOAD_EXPIRY_MS, UPLOAD_ID, type UploadStore } from './uploads.js';

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

/** Per request: upload id → what was seen of it, and the length the request's body declares. */
const requestScope = new AsyncLocalStorage<{ seen: Map<string, Seen>; bodyBytes: number | undefined }>();
/** Within one write whose request declared its length: where its body starts and ends. */
const thisWrite = new AsyncLocalStorage<{ from: number; end: number }>();

const S3_GONE = new Set(['NoSuchUpload', 'NoSuchKey', 'NotFound']);
const gone = (err: unknown) =>
  typeof err === 'object' && err !== null && 'name' in err && S3_GONE.has(String(err.name));

export class S3UploadStore extends S3Store implements UploadStore {
  /** A PATCH of several parts has them in flight together, while its body still arrives. */
  readonly chunkBytes = S3_CHUNK_BYTES;
  /**
   * A part sent straight takes the body's chunks as they come, with no copy; the store's own
   * path, which appends to a file per chunk, is given them joined (coalesce.ts).
   */
  readonly joinsChunks = true;
  /** Parts being sent to the bucket now, over all uploads (at most the store's limit). */
  partsInFlight = 0;
  /** The most parts that were in flight at once since the store was made. */
  peakPartsInFlight = 0;
  /** Parts sent straight from a request's body, without a temporary file, since the store was made. */
  partsSentStraight = 0;

  /** Parts this store sends at once, over all its uploads (`s3PartsInFlight`). */
  readonly partsInFlightLimit: number;

  constructor(options: ConstructorParameters<typeof S3Store>[0] & { maxConcurrentPartUploads: number }) {
    super(options);
    this.partsInFlightLimit = options.maxConcurrentPartUploads;
  }

  /**
   * Runs one tus request: the parts it sees are reused by its own write only. `bodyBytes`,
   * a PATCH's declared length, lets its whole parts go to the bucket as they arrive.
   */
  inRequest<T>(fn: () => Promise<T>, bodyBytes?: number): Promise<T> {
    return requestScope.run({ seen: new Map(), bodyBytes }, fn);
  }

  /** The upload's metadata (owner, size) from its info object, without listing its parts. */
  async getUploadMetadata(id: string): Promise<Upload> {
    return (await this.getMetadata(id)).file;
  }

  private seen(id: string): Seen | undefined {
    const scope = requestScope.getStore()?.seen;
    if (!scope) return undefined;
    const known = scope.get(id);
    if (known) return known;
    const fresh: Seen = {};
    scope.set(id, fresh);
    return fresh;
  }

  /** Forgets what this request saw of the upload: it is about to change. */
  private changing(id: string): void {
    requestScope.getStore()?.seen.delete(id);
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

  override async write(src: Readable, id: string, offset: number): Promise<number> {
    const bodyBytes = requestScope.getStore()?.bodyBytes;
    if (bodyBytes === undefined) return super.write(coalesced(src), id, offset);
    return thisWrite.run({ from: offset, end: offset + bodyBytes }, () => super.write(src, id, offset));
  }

  protected override async uploadParts(
    metadata: MetadataValue,
    readStream: Readable,
    currentPartNumber: number,
    offset: number,
  ): Promise<number> {
    this.changing(metadata.file.id);
    const write = thisWrite.getStore();
    if (!write) return super.uploadParts(metadata, readStream, currentPartNumber, offset);
    return this.streamParts(metadata, readStream, currentPartNumber, offset, write);
  }

  /**
   * Sends `body` (the upload's bytes from `offset`) as the parts the store's own path would
   * make, each whole part straight from the body; see the module's comment. The first part
   * when it begins with the leftover partial part (`offset` before `write.from`), and what
   * follows the last whole part, take the store's own path, which keeps what arrives of them
   * however the body ends. Returns the bytes stored.
   */
  private async streamParts(
    metadata: MetadataValue,
    body: Readable,
    partNumber: number,
    offset: number,
    write: { from: number; end: number },
  ): Promise<number> {
    const size = metadata.file.size;
    const end = size === undefined ? write.end : Math.min(write.end, size);
    const partBytes = this.calcOptimalPartSize(size);
    let stored = 0;
    const sends: Promise<void>[] = [];
    // Rejects with the first failed send, so that a wait for room in a part gives up.
    let failed: (err: unknown) => void = () => {};
    const failure = new Promise<never>((_, reject) => {
      failed = reject;
    });
    failure.catch(() => {});
    const sent = (send: Promise<number>): Promise<void> => {
      const settled = send.then(
        (n) => {
          stored += n;
        },
        (err) => {
          failed(err);
          throw err;
        },
      );
      settled.catch(() => {});
      sends.push(settled);
      return settled;
    };

    /**
     * Where the body's bytes go now: a part (`left` bytes still to come), sent straight when
     * it has `stop`, else through the store's own path.
     */
    let part: { to: Transform; left: number; stop?: AbortController; send: Promise<void> } | undefined;

    const begin = async (): Promise<void> => {
      const left = end - offset;
      const length =
        left >= partBytes ? partBytes : left >= this.minPartSize || offset + left === size ? left : 0;
      if (length === 0 || offset < write.from) {
        // The store's own path: a file, then a part or the leftover partial part.
        const to = coalescer();
        const send = sent(super.uploadParts(metadata, to, partNumber, offset));
        part = { to, left: length === 0 ? Number.POSITIVE_INFINITY : length, send };
        partNumber++;
        offset += length;
        return;
      }
      const permit = await this.partUploadSemaphore.acquire();
      const to = new PassThrough();
      const stop = new AbortController();
      const upload = {
        Bucket: this.bucket,
        Key: metadata.file.id,
        UploadId: metadata['upload-id'],
        PartNumber: partNumber++,
        Body: to,
        ContentLength: length,
      };
      offset += length;
      this.partsSentStraight++;
      const send = sent(
        this.counted(() => this.client.uploadPart(upload, { abortSignal: stop.signal }))
          .then(() => length)
          .finally(() => void permit.release().catch(() => {})),
      );
      part = { to, left: length, stop, send };
    };

    let error: unknown;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        let bytes = chunk;
        while (bytes.length > 0) {
          if (!part) await begin();
          const current = part as unknown as NonNullable<typeof part>;
          const piece = bytes.length <= current.left ? bytes : bytes.subarray(0, current.left);
          bytes = bytes.subarray(piece.length);
          current.left -= piece.length;
          if (current.left === 0) {
            current.to.end(piece);
            part = undefined;
          } else if (!current.to.write(piece)) {
            await Promise.race([once(current.to, 'drain'), failure]);
          }
        }
      }
    } catch (err) {
      error = err;
    }
    // The body ended (or failed) inside a part. One sent straight is not whole, so it is
    // called off and not stored; the store's own path keeps what arrived, unless it failed.
    const cut = part;
    if (cut?.stop) {
      cut.stop.abort();
      cut.to.destroy();
    } else if (error !== undefined) {
      cut?.to.destroy(error instanceof Error ? error : new Error(String(error)));
    } else {
      cut?.to.end();
    }
    const results = await Promise.allSettled(sends);
    if (error !== undefined) throw error;
    const refused = results.find((r, i) => r.status === 'rejected' && !(cut?.stop && sends[i] === cut.send));
    if (refused?.status === 'rejected') throw refused.reason;
    return stored;
  }

  /**
   * Removes the incomplete uploads past their expiry, with their info and partial-part
   * objects; returns how many. Only this store's own: multipart uploads named by an upload id
   * at the bucket's root. The store's own sweep aborts every expired multipart upload in the
   * bucket and deletes `<key>.info` and `<key>.part` for each, whoever made it, which in a
   * bucket shared with anything else would remove what is not the node's.
   */
  override async deleteExpired(): Promise<number> {
    if (this.getExpiration() === 0) return 0;
    let removed = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.client.listMultipartUploads({
        Bucket: this.bucket,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      });
      const expired = (page.Uploads ?? []).filter(
        (u): u is typeof u & { Key: string } =>
          u.Key !== undefined &&
          UPLOAD_ID.test(u.Key) &&
          u.Initiated !== undefined &&
          Date.now() > this.getExpirationDate(u.Initiated.toISOString()).getTime(),
      );
      // At most 1,000 objects a delete: two for each upload.
      for (let i = 0; i < expired.length; i += 500) {
        const ids = expired.slice(i, i + 500).map((u) => u.Key);
        await this.client.deleteObjects({
          Bucket: this.bucket,
          Delete: {
            Objects: ids.flatMap((id) => [{ Key: this.infoKey(id) }, { Key: this.partKey(id, true) }]),
          },
        });
      }
      await Promise.all(
        expired.map(async (u) => {
          this.changing(u.Key);
          try {
            await this.client.abortMultipartUpload({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId });
          } catch (err) {
            if (!gone(err)) throw err;
          }
          await this.clearCache(u.Key);
        }),
      );
      removed += expired.length;
      if (!page.IsTruncated) return removed;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
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

const SILENT_SDK_LOG = { debug() {}, info() {}, warn() {}, error() {} };

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
      // What fails reaches the store as an error, which the node answers and logs. Without a
      // logger the SDK writes a warning to the console for every straight part called off
      // when its PATCH is cut off, which is expected here.
      logger: SILENT_SDK_LOG,
    },
  });
}
