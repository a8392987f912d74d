/**
 * Media upload and download over HTTP. A body is addressed by the SHA-256 of its bytes, so an
 * upload is idempotent and a client can check what it downloads. With end-to-end encryption
 * the body is ciphertext and its key travels inside the encrypted message: the server stores
 * what it is given and never sees the plaintext.
 */
import { ParleyError } from '@parley/protocol';
import type { Config } from '../config/schema.js';
import type { Limiters } from '../limits/limiters.js';
import { BLOB_ID, type BlobStore, type ByteRange } from '../ports/blobs.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { Device } from '../ports/types.js';
import { type MediaAccessRule, notFound } from './access.js';
import { answerRange, etagOf, ifRangeHolds, noneMatch } from './ranges.js';
import { MediaUrlSigner, type SignedMediaUrl, type SignedQuery } from './signed-urls.js';

export interface MediaDeps {
  blobs: BlobStore;
  /** Records who uploaded what: the uploader may fetch it, and deleting an account removes what only it uploaded. */
  store: Pick<Store, 'mediaUploadRecord'>;
  clock: Clock;
  limiters: Limiters;
  config: Config;
  /** Who may fetch a body (media/access.ts). */
  access: MediaAccessRule;
  /** Issues and checks signed download URLs (media/signed-urls.ts). */
  signer: MediaUrlSigner;
}

/** What an upload is for (`x-media-use`): an attachment (the default) or the user's profile avatar. */
export function mediaUse(raw: string | undefined): 'attachment' | 'avatar' {
  if (raw === undefined) return 'attachment';
  const use = raw.trim().toLowerCase();
  if (use !== 'attachment' && use !== 'avatar')
    throw new ParleyError('INVALID_ARGUMENT', 'x-media-use is attachment or avatar');
  return use;
}

function mediaId(raw: string): string {
  if (!BLOB_ID.test(raw)) {
    throw new ParleyError(
      'INVALID_ARGUMENT',
      'the media id is the SHA-256 of the body, 64 lowercase hex digits',
    );
  }
  return raw;
}

/**
 * What the client says a body is. The server sees ciphertext and cannot check it; the class
 * picks the size cap, and the receiving SDK checks the decrypted bytes against the type.
 */
export const MEDIA_CLASSES = ['image', 'voice', 'video', 'document'] as const;
export type MediaClass = (typeof MEDIA_CLASSES)[number];

export function mediaClass(raw: string | undefined): MediaClass {
  if (raw === undefined) return 'document';
  const c = raw.trim().toLowerCase();
  if (!(MEDIA_CLASSES as readonly string[]).includes(c))
    throw new ParleyError('INVALID_ARGUMENT', `x-media-class is one of ${MEDIA_CLASSES.join(', ')}`);
  return c as MediaClass;
}

/** The largest body of a class (its own cap; the single PUT also keeps under mediaMaxBytes). */
export function classCap(config: Config, c: MediaClass): number {
  switch (c) {
    case 'image':
      return config.mediaMaxImageBytes;
    case 'voice':
      return config.mediaMaxVoiceBytes;
    case 'video':
      return config.mediaMaxVideoBytes;
    case 'document':
      return config.mediaMaxDocumentBytes;
  }
}

export class MediaService {
  constructor(private readonly d: MediaDeps) {}

  /** Stores the body; `created` is false when the same bytes were already stored. */
  async upload(
    device: Device,
    rawId: string,
    contentLength: string | undefined,
    body: AsyncIterable<Uint8Array>,
    rawClass?: string,
    rawUse?: string,
  ): Promise<{ size: number; created: boolean }> {
    const id = mediaId(rawId);
    const kind = mediaClass(rawClass);
    const avatar = mediaUse(rawUse) === 'avatar';
    const cap = classCap(this.d.config, kind);
    const max = Math.min(this.d.config.mediaMaxBytes, cap);
    if (contentLength === undefined || !/^\d{1,12}$/.test(contentLength)) {
      throw new ParleyError('INVALID_ARGUMENT', 'a media upload needs a content-length header');
    }
    const length = Number(contentLength);
    if (length === 0) throw new ParleyError('INVALID_ARGUMENT', 'a media body is not empty');
    if (length > cap) throw new ParleyError('PAYLOAD_TOO_LARGE', `${kind} media is larger than ${cap} bytes`);
    if (length > max) throw new ParleyError('PAYLOAD_TOO_LARGE', `media is larger than ${max} bytes`);
    const hourly = this.d.config.mediaBytesPerHour;
    if (length > hourly) {
      // Waiting would not help: no hour's budget holds it.
      throw new ParleyError('PAYLOAD_TOO_LARGE', `media is larger than the hourly budget of ${hourly} bytes`);
    }
    await this.d.limiters.take('mediaUploads', device.userId);
    try {
      await this.d.limiters.take('mediaBytes', device.userId, length);
    } catch (err) {
      await this.d.limiters.give('mediaUploads', device.userId);
      throw err;
    }
    const stored = await this.d.blobs.put(id, body, Math.min(max, length));
    await this.d.store.mediaUploadRecord(id, device.userId, this.d.clock.now(), avatar);
    return stored;
  }

  /**
   * A signed URL for the body, for this device (media/signed-urls.ts); NOT_FOUND when the
   * device's user may not fetch it or there is no such body, alike.
   */
  async issueUrl(device: Device, rawId: string): Promise<SignedMediaUrl> {
    const id = mediaId(rawId);
    await this.d.access.check(device.userId, id);
    if (!(await this.d.blobs.has(id))) throw notFound();
    return this.d.signer.issue(id, device.id);
  }

  /**
   * Who may download: with a signature, a URL issued to this very device, unchanged and
   * unexpired (MEDIA_URL_INVALID, MEDIA_URL_EXPIRED), checked with no lookup; without one,
   * the access rule itself (NOT_FOUND for anyone it does not admit).
   */
  async authorize(device: Device, rawId: string, q: SignedQuery): Promise<void> {
    const id = mediaId(rawId);
    if (MediaUrlSigner.isSigned(q)) this.d.signer.verify(id, device.id, q);
    else await this.d.access.check(device.userId, id);
  }

  /**
   * What a GET of a body answers, given its conditional and range headers: 304 when the
   * client has it, 206 with one range, 416 (RANGE_NOT_SATISFIABLE) when the range lies past
   * the end, else 200 with the whole body. NOT_FOUND when there is no such body.
   */
  async download(rawId: string, h: DownloadHeaders = {}): Promise<Download> {
    const id = mediaId(rawId);
    const etag = etagOf(id);
    const wantsRange = h.range !== undefined && ifRangeHolds(h.ifRange, etag);
    if (noneMatch(h.ifNoneMatch, etag) || wantsRange) {
      const size = await this.d.blobs.size(id);
      if (size === undefined) throw gone();
      if (noneMatch(h.ifNoneMatch, etag)) return { status: 304, etag, size };
      const answer = answerRange(h.range, size);
      if (answer.kind === 'unsatisfiable') {
        throw new ParleyError('RANGE_NOT_SATISFIABLE', `the range is not within the ${size} bytes`, {
          details: { size },
        });
      }
      if (answer.kind === 'partial') {
        const part = await this.d.blobs.get(id, answer.range);
        if (!part) throw gone();
        return { status: 206, etag, size: part.size, range: answer.range, body: part.body };
      }
    }
    const blob = await this.d.blobs.get(id);
    if (!blob) throw gone();
    return { status: 200, etag, size: blob.size, body: blob.body };
  }
}

const gone = notFound;

export interface DownloadHeaders {
  range?: string | undefined;
  ifRange?: string | undefined;
  ifNoneMatch?: string | undefined;
}

export type Download =
  | { status: 304; etag: string; size: number }
  | { status: 200; etag: string; size: number; body: AsyncIterable<Uint8Array> }
  | { status: 206; etag: string; size: number; range: ByteRange; body: AsyncIterable<Uint8Array> };
