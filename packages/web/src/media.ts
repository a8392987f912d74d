/**
 * Attachments in the page: pointers as history keeps them (base64), and the decrypted bytes
 * as `blob:` URLs (the only kind the Content-Security-Policy lets an image come from besides
 * the node), made once per message and kept while the page lives. A file sent from here shows
 * from its local bytes; others are downloaded, checked and decrypted by the SDK first.
 */
import type { AttachmentPointer, SecureMessaging } from '@parley/sdk/browser';
import type { FileRef } from './history.js';

// Bytes as base64 text: history is JSON.
const b64 = (b: Uint8Array) => btoa(Array.from(b, (x) => String.fromCharCode(x)).join(''));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export function fromPointer(a: AttachmentPointer): FileRef {
  return {
    mediaId: a.mediaId,
    key: b64(a.key),
    digest: b64(a.digest),
    size: a.size,
    ...(a.mime !== undefined && { mime: a.mime }),
    ...(a.name !== undefined && { name: a.name }),
    ...(a.width !== undefined && { width: a.width }),
    ...(a.height !== undefined && { height: a.height }),
    ...(a.durationMs !== undefined && { durationMs: a.durationMs }),
    ...(a.thumbnail && {
      thumb: {
        b64: b64(a.thumbnail.bytes),
        mime: a.thumbnail.mime,
        width: a.thumbnail.width,
        height: a.thumbnail.height,
      },
    }),
  };
}

export function toPointer(f: FileRef): AttachmentPointer {
  return {
    mediaId: f.mediaId,
    key: unb64(f.key),
    digest: unb64(f.digest),
    size: f.size,
    ...(f.mime !== undefined && { mime: f.mime }),
    ...(f.name !== undefined && { name: f.name }),
    ...(f.width !== undefined && { width: f.width }),
    ...(f.height !== undefined && { height: f.height }),
    ...(f.durationMs !== undefined && { durationMs: f.durationMs }),
    ...(f.thumb && {
      thumbnail: {
        bytes: unb64(f.thumb.b64),
        mime: f.thumb.mime,
        width: f.thumb.width,
        height: f.thumb.height,
      },
    }),
  };
}

/**
 * A `blob:` URL of the thumbnail the pointer carried: an image's place until it is decrypted,
 * a video's poster frame beside its download button.
 */
export function thumbnailUrl(f: FileRef): string | undefined {
  if (!f.thumb) return undefined;
  return URL.createObjectURL(new Blob([unb64(f.thumb.b64)], { type: f.thumb.mime }));
}

/** Images the page shows inline (what the SDK checks before handing the bytes over). */
export const isImage = (f: FileRef) => /^image\/(png|jpeg|gif|webp)$/.test(f.mime ?? '');
export const isVideo = (f: FileRef) => /^video\//.test(f.mime ?? '');

export class MediaCache {
  private readonly urls = new Map<string, Promise<string>>();

  constructor(private readonly secure: SecureMessaging) {}

  /** A file sent from this page: shown from its own bytes under the line's key. */
  local(key: string, file: Blob): void {
    this.urls.set(key, Promise.resolve(URL.createObjectURL(file)));
  }

  /** The `blob:` URL of a line's attachment, downloaded and decrypted once. */
  url(key: string, f: FileRef): Promise<string> {
    let url = this.urls.get(key);
    if (!url) {
      url = this.secure
        .download(toPointer(f))
        .then((bytes) => URL.createObjectURL(new Blob([bytes as BlobPart], { type: f.mime ?? '' })));
      // A failed download may be tried again.
      url.catch(() => this.urls.delete(key));
      this.urls.set(key, url);
    }
    return url;
  }
}
