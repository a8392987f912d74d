/**
 * The preview fields of an attachment pointer as the JSON inside the encryption holds them:
 * dimensions (`w`, `h`), duration (`du`, ms), blurhash (`bh`) and thumbnail (`th`: base64
 * bytes, mime, width, height). All optional, so pointers from before them read as they were.
 * A received field that is not valid is dropped, never the message: a thumbnail must be a
 * JPEG or WebP of at most THUMBNAIL_MAX_BYTES whose header says the size it declares, within
 * THUMBNAIL_MAX_EDGE, so nothing over that pixel budget is ever decoded.
 */
import { imageSize } from '../crypto/media-type.js';
import {
  BLURHASH_MAX_CHARS,
  THUMBNAIL_MAX_BYTES,
  THUMBNAIL_MAX_EDGE,
  type Thumbnail,
} from '../media-preview.js';

export interface PointerPreview {
  width?: number;
  height?: number;
  durationMs?: number;
  blurhash?: string;
  thumbnail?: Thumbnail;
}

const MAX_DIMENSION = 1 << 20;
const MAX_DURATION_MS = 100 * 24 * 3600 * 1000;
const BLURHASH = /^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{6,}$/;
const isSize = (n: unknown, max: number): n is number =>
  Number.isSafeInteger(n) && (n as number) > 0 && (n as number) <= max;

const b64 = (b: Uint8Array) => {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
};

export function previewToJson(p: PointerPreview): Record<string, unknown> {
  const t = p.thumbnail;
  return {
    ...(p.width !== undefined && { w: p.width }),
    ...(p.height !== undefined && { h: p.height }),
    ...(p.durationMs !== undefined && { du: p.durationMs }),
    ...(p.blurhash !== undefined && { bh: p.blurhash }),
    ...(t && { th: { b: b64(t.bytes), m: t.mime, w: t.width, h: t.height } }),
  };
}

export function previewFromJson(a: Record<string, unknown>): PointerPreview {
  const out: PointerPreview = {};
  if (isSize(a.w, MAX_DIMENSION) && isSize(a.h, MAX_DIMENSION)) {
    out.width = a.w;
    out.height = a.h;
  }
  if (isSize(a.du, MAX_DURATION_MS)) out.durationMs = a.du;
  if (typeof a.bh === 'string' && a.bh.length <= BLURHASH_MAX_CHARS && BLURHASH.test(a.bh))
    out.blurhash = a.bh;
  const thumbnail = thumbnailFromJson(a.th);
  if (thumbnail) out.thumbnail = thumbnail;
  return out;
}

function thumbnailFromJson(th: unknown): Thumbnail | undefined {
  if (typeof th !== 'object' || th === null) return undefined;
  const t = th as Record<string, unknown>;
  if (t.m !== 'image/jpeg' && t.m !== 'image/webp') return undefined;
  if (!isSize(t.w, THUMBNAIL_MAX_EDGE) || !isSize(t.h, THUMBNAIL_MAX_EDGE)) return undefined;
  // Base64 of THUMBNAIL_MAX_BYTES is at most this long: refuse before decoding more.
  if (typeof t.b !== 'string' || t.b.length > Math.ceil(THUMBNAIL_MAX_BYTES / 3) * 4) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(t.b), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
  const size = imageSize(bytes);
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (bytes.length > THUMBNAIL_MAX_BYTES || !size || isJpeg !== (t.m === 'image/jpeg')) return undefined;
  if (size.width !== t.w || size.height !== t.h) return undefined;
  return { bytes, mime: t.m, width: t.w, height: t.h };
}
