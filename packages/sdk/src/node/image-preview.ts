/**
 * Images with sharp (libvips): dimensions (as shown, EXIF orientation applied), the image
 * again without its EXIF/GPS/XMP metadata (JPEG, PNG, WebP, AVIF; orientation applied to the
 * pixels, colour profile kept), a thumbnail of at most THUMBNAIL_MAX_BYTES and a blurhash.
 * Decoding is bounded by a pixel budget. sharp is loaded on first use and is optional: without
 * it, files go as they are and `note` says so.
 */
import { encode as encodeBlurhash } from 'blurhash';
import type { Sharp, SharpOptions } from 'sharp';
import type { MediaPreview, Thumbnail } from '../media-preview.js';
import { THUMBNAIL_MAX_BYTES } from '../media-preview.js';

type SharpFactory = (input: Uint8Array, options?: SharpOptions) => Sharp;

let loading: Promise<SharpFactory | undefined> | undefined;

/** sharp, or undefined when it is not installed (it is an optional dependency). */
export function loadSharp(): Promise<SharpFactory | undefined> {
  loading ??= import('sharp').then(
    (m) => (m.default ?? m) as unknown as SharpFactory,
    () => undefined,
  );
  return loading;
}

export interface ImagePreviewOptions {
  keepMetadata?: boolean;
  maxPixels: number;
  format: 'jpeg' | 'webp';
  /** Longest edge of the thumbnail (default 320). */
  edge?: number;
}

/** Thumbnail sizes and qualities tried in turn until one fits in THUMBNAIL_MAX_BYTES. */
const TRIES = [
  { scale: 1, quality: 70 },
  { scale: 0.75, quality: 60 },
  { scale: 0.5, quality: 50 },
  { scale: 0.3, quality: 40 },
];

/** Formats whose metadata is removed by writing the pixels again in the same format. */
const REWRITTEN = new Set(['jpeg', 'png', 'webp', 'avif']);

export async function imagePreview(bytes: Uint8Array, o: ImagePreviewOptions): Promise<MediaPreview> {
  // What goes when nothing could be done: the file as it is, which the note says.
  const asIs = (why: string): MediaPreview => ({
    note: `no thumbnail: ${why}; sent as it is${o.keepMetadata ? '' : ', metadata and all'}`,
  });
  const sharp = await loadSharp();
  if (!sharp) return asIs('the sharp package is not installed');
  const open = () => sharp(bytes, { limitInputPixels: o.maxPixels, failOn: 'error' }).rotate();
  let meta: Awaited<ReturnType<Sharp['metadata']>>;
  try {
    // The header only: the budget is checked below, with a note that says so.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    return asIs('the image could not be read');
  }
  if (!meta.width || !meta.height) return asIs('the image has no size');
  if (meta.width * meta.height > o.maxPixels) return asIs(`the image is over ${o.maxPixels} pixels`);
  const turned = (meta.orientation ?? 1) >= 5;
  const out: MediaPreview = {
    width: turned ? meta.height : meta.width,
    height: turned ? meta.width : meta.height,
  };
  if (!o.keepMetadata) {
    const format = meta.format;
    if (!format || !REWRITTEN.has(format)) {
      if (format !== 'gif')
        out.note = `metadata not removed: ${format ?? 'these'} images are sent as they are`;
    } else {
      try {
        out.bytes = new Uint8Array(
          await open()
            .keepIccProfile()
            .toFormat(format as 'jpeg', format === 'png' ? {} : { quality: 90 })
            .toBuffer(),
        );
      } catch {
        return asIs('the image could not be read');
      }
    }
  }
  try {
    const thumbnail = await makeThumbnail(open, o.format, o.edge ?? 320);
    if (thumbnail) out.thumbnail = thumbnail;
    else out.note ??= 'no thumbnail: none fits in 32 KiB';
    const small = await open()
      .resize(32, 32, { fit: 'inside' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    out.blurhash = encodeBlurhash(
      new Uint8ClampedArray(small.data),
      small.info.width,
      small.info.height,
      4,
      3,
    );
  } catch {
    // The image without its metadata still goes; only the preview is missing.
    out.note ??= 'no thumbnail: the image could not be read';
  }
  return out;
}

async function makeThumbnail(
  open: () => Sharp,
  format: 'jpeg' | 'webp',
  edge: number,
): Promise<Thumbnail | undefined> {
  for (const t of TRIES) {
    const size = Math.max(16, Math.round(edge * t.scale));
    const { data, info } = await open()
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .toFormat(format, { quality: t.quality })
      .toBuffer({ resolveWithObject: true });
    if (data.length <= THUMBNAIL_MAX_BYTES)
      return {
        bytes: new Uint8Array(data),
        mime: format === 'jpeg' ? 'image/jpeg' : 'image/webp',
        width: info.width,
        height: info.height,
      };
  }
  return undefined;
}
