/**
 * What a sender's device learns about a file before it is encrypted: the bytes to send (an
 * image without its EXIF/GPS metadata), its dimensions and duration, a small thumbnail and a
 * blurhash. All of it travels inside the encrypted attachment pointer, so the server sees none
 * of it. The work is a `Thumbnailer`'s: `nodeThumbnailer` (sharp, ffmpeg) in `@parley/sdk/node`;
 * none by default, so the browser entry loads no image library.
 */

/** A thumbnail inside the pointer: a small JPEG or WebP. */
export interface Thumbnail {
  bytes: Uint8Array;
  mime: 'image/jpeg' | 'image/webp';
  width: number;
  height: number;
}

/** Largest thumbnail a pointer carries; a bigger one is dropped on both sides. */
export const THUMBNAIL_MAX_BYTES = 32 * 1024;
/** Longest edge of a thumbnail, in pixels; a received one claiming more is dropped undecoded. */
export const THUMBNAIL_MAX_EDGE = 640;
/** Longest blurhash kept (9×9 components are 164 characters, the format's most). */
export const BLURHASH_MAX_CHARS = 164;

export interface MediaPreview {
  /** The bytes to send instead of the original (an image with its metadata removed). */
  bytes?: Uint8Array;
  /** The mime type of `bytes` when it differs from the original's. */
  mime?: string;
  width?: number;
  height?: number;
  /** Of a video or voice note, when known. */
  durationMs?: number;
  thumbnail?: Thumbnail;
  blurhash?: string;
  /**
   * Something the user should know, as one line: no poster frame because ffmpeg is not
   * installed, an image that could not be read (sent as it is, metadata and all)…
   */
  note?: string;
}

export interface PreviewOptions {
  /** Keep an image's EXIF/GPS metadata (default false: it is removed before encryption). */
  keepMetadata?: boolean;
}

/** Makes the preview of a file before it is encrypted. Never throws for a bad file: says so in `note`. */
export interface Thumbnailer {
  prepare(bytes: Uint8Array, mime: string | undefined, options?: PreviewOptions): Promise<MediaPreview>;
}
