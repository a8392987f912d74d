/**
 * Resumable uploads with the tus 1.0 protocol (core, creation, expiration, termination,
 * checksum: upload-checksum.ts),
 * served by @tus/server at /v1/uploads with its file store (local media) or S3 store (media in
 * a bucket, so any node that shares the bucket resumes an upload). A client creates an upload with
 * its length and metadata (`sha256`: the body's digest, `class`: image, voice, video or
 * document), then PATCHes bytes from the server's offset, and after a dropped connection asks
 * HEAD for the offset and goes on from there. The PATCH that completes it hashes the whole
 * body into the blob store under its SHA-256: a body that does not match its declared digest
 * is deleted and never becomes fetchable. Only the device's own user can see or touch an
 * upload; incomplete uploads expire after 24 h. One PATCH at a time writes an upload
 * (upload-locks.ts: in memory, and in Redis across nodes).
 */
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ParleyError } from '@parley/protocol';
import { FileStore } from '@tus/file-store';
import { type DataStore, type Locker, MemoryLocker, Server, type Upload } from '@tus/server';
import type { KnownDigest } from '../adapters/blobs/spool.js';
import type { Config } from '../config/schema.js';
import { errorJson, retryAfterSeconds } from '../gateway/errors.js';
import type { Limiters } from '../limits/limiters.js';
import type { Logger } from '../log.js';
import { BLOB_ID, type BlobStore } from '../ports/blobs.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { Device } from '../ports/types.js';
import { classCap, MEDIA_CLASSES, mediaClass, mediaUse } from './service.js';
import {
  CHECKSUM_ALGORITHMS,
  ChecksumStore,
  type ExpectedChecksum,
  parseUploadChecksum,
  requestChecksum,
} from './upload-checksum.js';
import { DigestStore } from './upload-digest.js';

/** Where an upload lives: /v1/uploads/<32 hex digits>. */
export const UPLOAD_ID = /^[0-9a-f]{32}$/;
export const UPLOADS_PATH = '/v1/uploads';
/** Incomplete uploads are removed this long after they were created. */
export const UPLOAD_EXPIRY_MS = 24 * 60 * 60 * 1000;
/** The response header of the completing PATCH that names the stored body. */
export const MEDIA_ID_HEADER = 'Upload-Media-Id';
/** The response header that suggests how many bytes a PATCH should carry, for this store. */
export const CHUNK_BYTES_HEADER = 'Upload-Chunk-Bytes';

/** A tus store that can also read a finished upload back (the file and S3 stores can). */
export type UploadStore = DataStore & {
  read(id: string): Readable | Promise<Readable>;
  /**
   * Runs one request, for a store that keeps what the request learned (s3-uploads.ts);
   * `bodyBytes` is a PATCH's declared length (Content-Length).
   */
  inRequest?<T>(fn: () => Promise<T>, bodyBytes?: number): Promise<T>;
  /** The upload's metadata when it is cheaper than `getUpload` (which also finds the offset). */
  getUploadMetadata?(id: string): Promise<Upload>;
  /**
   * The store joins a body's socket-sized chunks itself where its writes need it; else they
   * reach it joined into pieces of a MiB (coalesce.ts).
   */
  readonly joinsChunks?: boolean;
  /** The bytes a PATCH should carry to be written fastest, suggested to clients (Upload-Chunk-Bytes). */
  readonly chunkBytes?: number;
};

/** A request as tus hands it to its hooks: the raw Node request is behind it. */
type TusRequest = { runtime?: { node?: { req: object } | undefined } | undefined };

/** A PATCH's declared body length (Content-Length), when it has a well-formed one. */
function patchBytes(req: IncomingMessage): number | undefined {
  const declared = req.headers['content-length'];
  if (req.method !== 'PATCH' || declared === undefined || !/^\d{1,15}$/.test(declared)) return undefined;
  return Number(declared);
}

/** The PATCH size suggested with the file store: each PATCH is appended to the file as it arrives. */
export const FILE_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * The file store, flushing behind: once a PATCH is written, the upload's file is synced in
 * the background while the next PATCH arrives, so the sync that makes a finished upload
 * durable (`adoptFile`) finds little left to write instead of the whole file. These syncs
 * are only early work: durability still rests on that last one, and a failed one is ignored.
 */
class FlushingFileStore extends FileStore {
  readonly chunkBytes = FILE_CHUNK_BYTES;
  /** Uploads with a sync running: at most one each. */
  private readonly flushing = new Set<string>();

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const next = await super.write(readable, id, offset);
    this.flushBehind(id);
    return next;
  }

  private flushBehind(id: string): void {
    if (this.flushing.has(id)) return;
    this.flushing.add(id);
    void (async () => {
      // The id has just been written through `super.write`, which keeps it inside the directory.
      const file = await open(join(this.directory, id), 'r+');
      try {
        await file.datasync();
      } finally {
        await file.close();
      }
    })()
      .catch(() => {})
      .finally(() => this.flushing.delete(id));
  }
}

/** Incomplete uploads on local disk: a directory of their own (with several nodes, one they share). */
export function fileUploadStore(dir: string, expiryMs = UPLOAD_EXPIRY_MS): UploadStore {
  return new FlushingFileStore({ directory: dir, expirationPeriodInMilliseconds: expiryMs });
}

export interface ResumableUploadDeps {
  /** Where incomplete uploads live (fileUploadStore, or s3UploadStore in media/s3-uploads.ts). */
  files: UploadStore;
  /**
   * Stores a finished upload under its digest without moving its bytes through the node
   * again (a hard link on disk, a copy within the bucket), when the blob store can; else the
   * upload is read back and put.
   */
  adopt?: (mediaId: string, uploadId: string, maxBytes: number, known?: KnownDigest) => Promise<unknown>;
  blobs: BlobStore;
  /** Who may write an upload now (upload-locks.ts); default: in this process only. */
  locker?: Locker;
  /** Where a chunk with an Upload-Checksum waits while it is checked (default: the system temp dir). */
  spoolDir?: string;

  store: Pick<Store, 'mediaUploadRecord'>;
  limiters: Limiters;
  config: Config;
  clock: Clock;
  log: Logger;
}

/** What tus answers for an error thrown by a hook: a status and our JSON error body. */
function tusError(err: ParleyError, status?: number): { status_code: number; body: string } {
  return { status_code: status ?? err.httpStatus, body: JSON.stringify(errorJson(err)) };
}

export class ResumableUploads {
  private readonly files: UploadStore;
  /** Hashes each upload as its bytes pass through in order (see upload-digest.ts). */
  private readonly digests: DigestStore<UploadStore>;
  private readonly checked: ChecksumStore<UploadStore>;
  private readonly tus: Server;
  /** The device (if any) and raw response of each request tus is handling (set by `serve`). */
  private readonly requests = new WeakMap<object, { device: Device | undefined; res: ServerResponse }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly d: ResumableUploadDeps) {
    this.files = d.files;
    this.digests = new DigestStore(d.files);
    this.checked = new ChecksumStore(this.digests, d.spoolDir);
    const largest = Math.max(...MEDIA_CLASSES.map((c) => classCap(d.config, c)));
    this.tus = new Server({
      path: UPLOADS_PATH,
      datastore: this.checked,
      locker: d.locker ?? new MemoryLocker(),
      relativeLocation: true,
      maxSize: largest,
      namingFunction: () => randomBytes(16).toString('hex'),
      disableTerminationForFinishedUploads: true,
      onUploadCreate: (req, upload) =>
        this.created(this.deviceOf(req), upload, (retryAfterMs) =>
          // tus writes the answer; a header set on the raw response goes out with it.
          this.requestOf(req)?.res.setHeader('retry-after', retryAfterSeconds(retryAfterMs)),
        ),
      onUploadFinish: (req, upload) => this.finished(this.deviceOf(req), upload),
    });
    this.sweeper = setInterval(() => void this.sweep(), 60 * 60 * 1000);
    this.sweeper.unref();
  }

  /**
   * Throws NOT_FOUND for an upload id that is malformed or names another user's upload, as
   * if it did not exist. Call before `serve`, while an error can still be answered.
   */
  async check(device: Device, uploadId: string): Promise<void> {
    if (!UPLOAD_ID.test(uploadId)) throw new ParleyError('NOT_FOUND', 'no such upload');
    const owner = await this.ownerOf(uploadId);
    if (owner !== undefined && owner !== device.userId) throw new ParleyError('NOT_FOUND', 'no such upload');
  }

  /**
   * The request's Upload-Checksum (undefined without one); INVALID_ARGUMENT (400) for an
   * unsupported algorithm or a malformed header. Call before `serve`.
   */
  checksum(header: string | string[] | undefined): ExpectedChecksum | undefined {
    if (Array.isArray(header)) throw new ParleyError('INVALID_ARGUMENT', 'one Upload-Checksum per request');
    return parseUploadChecksum(header);
  }

  /**
   * Serves one tus request of an authenticated device (or an OPTIONS request, without one);
   * tus writes the whole answer. A chunk with `checksum` is checked before it is written.
   */
  async serve(
    device: Device | undefined,
    req: IncomingMessage,
    res: ServerResponse,
    checksum?: ExpectedChecksum,
  ): Promise<void> {
    this.requests.set(req, { device, res });
    if (req.method === 'OPTIONS') res.setHeader('Tus-Checksum-Algorithm', CHECKSUM_ALGORITHMS.join(','));
    if (this.files.chunkBytes) res.setHeader(CHUNK_BYTES_HEADER, String(this.files.chunkBytes));
    const handle = () => this.tus.handle(req, res);
    await requestChecksum.run(checksum, () =>
      this.files.inRequest ? this.files.inRequest(handle, patchBytes(req)) : handle(),
    );
  }

  /** Removes incomplete uploads past their expiry; returns how many. */
  async sweep(): Promise<number> {
    try {
      return await this.tus.cleanUpExpiredUploads();
    } catch (err) {
      this.d.log.warn({ err }, 'expired uploads could not be removed');
      return 0;
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.checked.close();
  }

  /** What `serve` kept of the raw request behind a request tus is handling. */
  private requestOf(req: TusRequest) {
    const raw = req.runtime?.node?.req;
    return raw && this.requests.get(raw);
  }

  private deviceOf(req: TusRequest): Device {
    const device = this.requestOf(req)?.device;
    if (!device)
      throw tusError(new ParleyError('UNAUTHENTICATED', 'missing, invalid or revoked device token'));
    return device;
  }

  private async ownerOf(uploadId: string): Promise<string | undefined> {
    try {
      const upload = this.files.getUploadMetadata
        ? await this.files.getUploadMetadata(uploadId)
        : await this.files.getUpload(uploadId);
      return upload.metadata?.owner ?? undefined;
    } catch {
      return undefined; // unknown: tus answers 404 itself
    }
  }

  /** Checks a new upload (length, digest, class and its cap) and takes it from the quotas. */
  private async created(
    device: Device,
    upload: Upload,
    retryAfter: (ms: number) => void,
  ): Promise<{ metadata: Upload['metadata'] }> {
    const meta = upload.metadata ?? {};
    try {
      if (upload.size === undefined)
        throw new ParleyError('INVALID_ARGUMENT', 'an upload declares its length (Upload-Length)');
      if (upload.size === 0) throw new ParleyError('INVALID_ARGUMENT', 'a media body is not empty');
      const sha256 = meta.sha256 ?? '';
      if (!BLOB_ID.test(sha256))
        throw new ParleyError(
          'INVALID_ARGUMENT',
          'Upload-Metadata sha256 is the body’s SHA-256, 64 lowercase hex',
        );
      const kind = mediaClass(meta.class ?? undefined);
      const use = mediaUse(meta.use ?? undefined);
      const cap = classCap(this.d.config, kind);
      if (upload.size > cap)
        throw new ParleyError('PAYLOAD_TOO_LARGE', `${kind} media is larger than ${cap} bytes`);
      const hourly = this.d.config.mediaBytesPerHour;
      if (upload.size > hourly)
        throw new ParleyError(
          'PAYLOAD_TOO_LARGE',
          `media is larger than the hourly budget of ${hourly} bytes`,
        );
      await this.d.limiters.take('mediaUploads', device.userId);
      try {
        await this.d.limiters.take('mediaBytes', device.userId, upload.size);
      } catch (err) {
        await this.d.limiters.give('mediaUploads', device.userId);
        throw err;
      }
      // The owner is the server's to say, whatever the client sent.
      return { metadata: { sha256, class: kind, owner: device.userId, ...(use === 'avatar' && { use }) } };
    } catch (err) {
      if (!(err instanceof ParleyError)) throw err;
      if (err.retryAfterMs !== undefined) retryAfter(err.retryAfterMs);
      throw tusError(err);
    }
  }

  /**
   * The upload is complete: hash it into the blob store under its declared digest (refused
   * and deleted when it does not match), then drop the upload.
   */
  private async finished(device: Device, upload: Upload): Promise<{ headers: Record<string, string> }> {
    const sha256 = upload.metadata?.sha256 ?? '';
    const cap = classCap(this.d.config, mediaClass(upload.metadata?.class ?? undefined));
    try {
      // This node saw every byte in order: its digest stands for the stored body.
      const digest = upload.size === undefined ? undefined : this.digests.digestOf(upload.id, upload.size);
      const known = digest === undefined ? undefined : { sha256: digest, size: upload.size! };
      if (this.d.adopt) await this.d.adopt(sha256, upload.id, cap, known);
      else await this.d.blobs.put(sha256, await this.files.read(upload.id), cap);
    } catch (err) {
      await this.files.remove(upload.id).catch(() => {});
      if (err instanceof ParleyError) throw tusError(err);
      throw err;
    }
    const avatar = upload.metadata?.use === 'avatar';
    await this.d.store.mediaUploadRecord(sha256, device.userId, this.d.clock.now(), avatar);
    await this.files.remove(upload.id).catch((err) => this.d.log.warn({ err }, 'a finished upload stays'));
    return { headers: { [MEDIA_ID_HEADER]: sha256 } };
  }
}
