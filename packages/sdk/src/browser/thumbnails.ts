/**
 * The browser Thumbnailer for SecureMessaging's `sendFile`: a photo is decoded by the browser
 * (`createImageBitmap`, EXIF orientation applied), drawn on an `OffscreenCanvas` and encoded
 * again, which leaves its EXIF/GPS metadata behind, and a JPEG thumbnail of at most 32 KiB is
 * made the same way. Sizes are read from the file's header first, so an image past the pixel
 * budget is never decoded. A video in a page gets a poster frame (video-poster.ts) as a JPEG
 * thumbnail of the same budget, with its size and duration; in a worker (no `<video>`), or
 * when the browser cannot decode it in time, it goes without one and `note` says why. Voice
 * notes and other files get nothing. Needs `createImageBitmap` and `OffscreenCanvas` (every
 * current browser).
 */
import { baseMimeType, DEFAULT_MAX_IMAGE_PIXELS, imageSize, mediaClassOf } from '../crypto/media-type.js';
import {
  type MediaPreview,
  type PreviewOptions,
  THUMBNAIL_MAX_BYTES,
  type Thumbnail,
  type Thumbnailer,
} from '../media-preview.js';
import { canMakePosters, type LoadedVideo, loadPosterFrame, type VideoElement } from './video-poster.js';

/** The little of the canvas API used here, typed structurally (the SDK builds without the DOM library). */
interface ImageBitmap {
  readonly width: number;
  readonly height: number;
  close(): void;
}
interface OffscreenCanvas {
  getContext(kind: '2d'): {
    drawImage(image: ImageBitmap, x: number, y: number, width: number, height: number): void;
  } | null;
  convertToBlob(options: { type: string; quality?: number }): Promise<Blob>;
}
interface CanvasGlobals {
  OffscreenCanvas: new (width: number, height: number) => OffscreenCanvas;
  createImageBitmap(
    image: Blob | VideoElement,
    options?: { imageOrientation: 'from-image' },
  ): Promise<ImageBitmap>;
}
const canvasApi = () => globalThis as unknown as CanvasGlobals;

export interface BrowserThumbnailerOptions {
  /** Longest edge of a thumbnail (default 320 px). */
  thumbnailEdge?: number;
  /** Most pixels an image to preview may have (default 64 megapixels); larger ones go without one. */
  maxImagePixels?: number;
  /** How long a video may take to show its poster frame before it goes without one (default 10 s). */
  posterTimeoutMs?: number;
}

/** The photo types a browser decodes and the thumbnailer rewrites without their metadata. */
const REWRITTEN: Record<string, 'image/jpeg' | 'image/png' | 'image/webp'> = {
  'image/jpeg': 'image/jpeg',
  'image/png': 'image/png',
  'image/webp': 'image/webp',
};

/** The canvas encoded as `type`, or as what the browser chose when it cannot write that type. */
async function encode(
  canvas: OffscreenCanvas,
  type: string,
  quality?: number,
): Promise<{ bytes: Uint8Array; type: string }> {
  const blob = await canvas.convertToBlob(quality === undefined ? { type } : { type, quality });
  return { bytes: new Uint8Array(await blob.arrayBuffer()), type: blob.type };
}

function draw(bitmap: ImageBitmap, width: number, height: number): OffscreenCanvas {
  const canvas = new (canvasApi().OffscreenCanvas)(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d canvas');
  ctx.drawImage(bitmap, 0, 0, width, height);
  return canvas;
}

/** A JPEG of the bitmap at most `edge` px a side and THUMBNAIL_MAX_BYTES, or undefined. */
async function thumbnailOf(bitmap: ImageBitmap, edge: number): Promise<Thumbnail | undefined> {
  for (let e = edge; e >= 48; e = Math.floor(e * 0.75)) {
    const scale = Math.min(1, e / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = draw(bitmap, width, height);
    for (const quality of [0.7, 0.5, 0.35]) {
      const { bytes, type } = await encode(canvas, 'image/jpeg', quality);
      if (type === 'image/jpeg' && bytes.length <= THUMBNAIL_MAX_BYTES)
        return { bytes, mime: 'image/jpeg', width, height };
    }
  }
  return undefined;
}

/** A video's size, duration and poster thumbnail; a note instead when the browser cannot make one. */
async function videoPreview(
  bytes: Uint8Array,
  type: string,
  edge: number,
  timeoutMs: number,
): Promise<MediaPreview> {
  if (!canMakePosters()) return { note: 'no poster frame: video frames are read in a page, not in a worker' };
  let loaded: LoadedVideo;
  try {
    loaded = await loadPosterFrame(bytes, type || 'video/mp4', timeoutMs);
  } catch (err) {
    return { note: `no poster frame: ${(err as Error).message}; it is sent as it is` };
  }
  const { width, height, durationMs } = loaded;
  const preview: MediaPreview = { width, height, ...(durationMs !== undefined && { durationMs }) };
  try {
    const thumbnail = await posterOf(loaded, edge);
    if (thumbnail) preview.thumbnail = thumbnail;
  } catch {
    preview.note = 'no poster frame: the frame could not be drawn; it is sent as it is';
  } finally {
    loaded.release();
  }
  return preview;
}

/** Tries to draw a poster this many times, showing another frame between tries (`LoadedVideo.again`). */
const POSTER_DRAWS = 4;

/** The loaded video's poster frame as a thumbnail; throws when it cannot be drawn. */
async function posterOf(loaded: LoadedVideo, edge: number): Promise<Thumbnail | undefined> {
  for (let draw = 1; ; draw++) {
    let bitmap: ImageBitmap;
    try {
      bitmap = await canvasApi().createImageBitmap(loaded.video);
    } catch (err) {
      if (draw >= POSTER_DRAWS) throw err;
      await loaded.again();
      continue;
    }
    try {
      return await thumbnailOf(bitmap, edge);
    } finally {
      bitmap.close();
    }
  }
}

export function browserThumbnailer(options: BrowserThumbnailerOptions = {}): Thumbnailer {
  const edge = options.thumbnailEdge ?? 320;
  const maxPixels = options.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  const posterTimeoutMs = options.posterTimeoutMs ?? 10_000;
  return {
    async prepare(
      bytes: Uint8Array,
      mime: string | undefined,
      o: PreviewOptions = {},
    ): Promise<MediaPreview> {
      const type = baseMimeType(mime ?? '');
      const kind = mediaClassOf(type);
      if (kind === 'video') return videoPreview(bytes, type, edge, posterTimeoutMs);
      const out = REWRITTEN[type];
      if (kind !== 'image' || !out) return {};
      const size = imageSize(bytes);
      if (!size) return { note: 'the image could not be read; it is sent as it is' };
      if (size.width * size.height > maxPixels)
        return { note: 'the image is too large to preview; it is sent as it is' };
      let bitmap: ImageBitmap;
      try {
        bitmap = await canvasApi().createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }), {
          imageOrientation: 'from-image',
        });
      } catch {
        return { note: 'the image could not be read; it is sent as it is' };
      }
      try {
        const preview: MediaPreview = { width: bitmap.width, height: bitmap.height };
        const thumbnail = await thumbnailOf(bitmap, edge);
        if (thumbnail) preview.thumbnail = thumbnail;
        if (!o.keepMetadata) {
          // Drawn and encoded again: only the pixels go, none of the file's metadata.
          const clean = await encode(
            draw(bitmap, bitmap.width, bitmap.height),
            out,
            out === 'image/png' ? undefined : 0.92,
          );
          preview.bytes = clean.bytes;
          preview.mime = clean.type;
        }
        return preview;
      } finally {
        bitmap.close();
      }
    },
  };
}
