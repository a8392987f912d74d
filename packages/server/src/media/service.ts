/**
 * Media upload and download over HTTP. A body is addressed by the SHA-256 of its bytes, so an
 * upload is idempotent and a client can check what it downloads. With end-to-end encryption
 * the body is ciphertext and its key travels inside the encrypted message: the server stores
 * what it is given and never sees the plaintext.
 */
import { ParleyError } from '@parley/protocol';
import type { Config } from '../config/schema.js';
import type { Limiters } from '../limits/limiters.js';
import { BLOB_ID, type BlobStore } from '../ports/blobs.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { Device } from '../ports/types.js';

export interface MediaDeps {
  blobs: BlobStore;
  /** Records who uploaded what, so deleting an account removes what only it uploaded. */
  store: Pick<Store, 'mediaUploadRecord'>;
  clock: Clock;
  limiters: Limiters;
  config: Config;
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

export class MediaService {
  constructor(private readonly d: MediaDeps) {}

  /** Stores the body; `created` is false when the same bytes were already stored. */
  async upload(
    device: Device,
    rawId: string,
    contentLength: string | undefined,
    body: AsyncIterable<Uint8Array>,
  ): Promise<{ size: number; created: boolean }> {
    const id = mediaId(rawId);
    const max = this.d.config.mediaMaxBytes;
    if (contentLength === undefined || !/^\d{1,12}$/.test(contentLength)) {
      throw new ParleyError('INVALID_ARGUMENT', 'a media upload needs a content-length header');
    }
    const length = Number(contentLength);
    if (length === 0) throw new ParleyError('INVALID_ARGUMENT', 'a media body is not empty');
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
    await this.d.store.mediaUploadRecord(id, device.userId, this.d.clock.now());
    return stored;
  }

  async download(rawId: string): Promise<{ size: number; body: AsyncIterable<Uint8Array> }> {
    const blob = await this.d.blobs.get(mediaId(rawId));
    if (!blob) throw new ParleyError('NOT_FOUND', 'no such media (it may have expired)');
    return blob;
  }
}
