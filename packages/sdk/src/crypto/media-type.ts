/**
 * What a decrypted attachment really is. The server stores ciphertext and cannot check a
 * file's type, so the receiving SDK does: an image, voice note or video whose bytes are not
 * what its declared MIME type says is refused before an app renders it, and so is an image
 * whose header claims more pixels than a budget (a small file can decode to gigabytes).
 * Documents are not checked: they may be anything, and apps hand them to the user as files.
 */
import { ParleyError } from '@parley/protocol';

/** The media class a MIME type is uploaded as (the server's size caps go by it). */
export type MediaClass = 'image' | 'voice' | 'video' | 'document';

export function mediaClassOf(mime: string | undefined): MediaClass {
  const family = mime?.split('/')[0]?.toLowerCase();
  if (family === 'image') return 'image';
  if (family === 'audio') return 'voice';
  if (family === 'video') return 'video';
  return 'document';
}

/** A MIME type without its parameters, lower case (`image/JPEG; q=1` → `image/jpeg`). */
export function baseMimeType(mime: string): string {
  return mime.split(';')[0]!.trim().toLowerCase();
}

/** Pixels an image may have by default (width × height): 64 megapixels. */
export const DEFAULT_MAX_IMAGE_PIXELS = 64_000_000;

const ascii = (b: Uint8Array, at: number, text: string) =>
  b.length >= at + text.length && [...text].every((c, i) => b[at + i] === c.charCodeAt(0));

/** The ISO base media file (MP4, QuickTime, HEIF, 3GP) major brand, if the bytes are one. */
function ftypBrand(b: Uint8Array): string | undefined {
  if (!ascii(b, 4, 'ftyp') || b.length < 12) return undefined;
  return String.fromCharCode(b[8]!, b[9]!, b[10]!, b[11]!);
}

const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1', 'avif', 'avis']);

/** Checks a declared type against the bytes: true when they match, false when not. */
const SIGNATURES: Record<string, (b: Uint8Array) => boolean> = {
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/png': (b) => ascii(b, 0, '\x89PNG\r\n\x1a\n'),
  'image/gif': (b) => ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a'),
  'image/webp': (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP'),
  'image/heic': (b) => HEIF_BRANDS.has(ftypBrand(b) ?? ''),
  'image/heif': (b) => HEIF_BRANDS.has(ftypBrand(b) ?? ''),
  'image/avif': (b) => HEIF_BRANDS.has(ftypBrand(b) ?? ''),
  'video/mp4': (b) => ftypBrand(b) !== undefined,
  'video/quicktime': (b) => ftypBrand(b) !== undefined || ascii(b, 4, 'moov') || ascii(b, 4, 'mdat'),
  'video/3gpp': (b) => ftypBrand(b) !== undefined,
  'video/webm': (b) => b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3,
  'audio/mp4': (b) => ftypBrand(b) !== undefined,
  'audio/m4a': (b) => ftypBrand(b) !== undefined,
  'audio/x-m4a': (b) => ftypBrand(b) !== undefined,
  'audio/ogg': (b) => ascii(b, 0, 'OggS'),
  'audio/opus': (b) => ascii(b, 0, 'OggS'),
  'audio/webm': (b) => b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3,
  'audio/mpeg': (b) => ascii(b, 0, 'ID3') || (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0),
  'audio/aac': (b) => b[0] === 0xff && (b[1]! & 0xf6) === 0xf0,
  'audio/wav': (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'WAVE'),
  'audio/amr': (b) => ascii(b, 0, '#!AMR'),
};
SIGNATURES['image/jpg'] = SIGNATURES['image/jpeg']!;
SIGNATURES['audio/x-wav'] = SIGNATURES['audio/wav']!;

const u16be = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const u32be = (b: Uint8Array, at: number) => u16be(b, at) * 65536 + u16be(b, at + 2);
const u16le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u24le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);

/** An image's dimensions from its header (PNG, GIF, JPEG, WebP), without decoding it. */
export function imageSize(b: Uint8Array): { width: number; height: number } | undefined {
  if (SIGNATURES['image/png']!(b) && b.length >= 24 && ascii(b, 12, 'IHDR'))
    return { width: u32be(b, 16), height: u32be(b, 20) };
  if (SIGNATURES['image/gif']!(b) && b.length >= 10) return { width: u16le(b, 6), height: u16le(b, 8) };
  if (SIGNATURES['image/webp']!(b)) {
    if (ascii(b, 12, 'VP8X') && b.length >= 30) return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
    if (ascii(b, 12, 'VP8L') && b.length >= 25 && b[20] === 0x2f) {
      const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    if (ascii(b, 12, 'VP8 ') && b.length >= 30)
      return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
    return undefined;
  }
  if (SIGNATURES['image/jpeg']!(b)) {
    // Walk the segments to the first start-of-frame (SOF0-SOF15 but DHT, JPG and DAC).
    let at = 2;
    while (at + 9 < b.length) {
      if (b[at] !== 0xff) return undefined;
      const marker = b[at + 1]!;
      if (marker === 0xff) {
        at++;
        continue;
      }
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        at += 2;
        continue;
      }
      const length = u16be(b, at + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
        return { width: u16be(b, at + 7), height: u16be(b, at + 5) };
      if (length < 2) return undefined;
      at += 2 + length;
    }
  }
  return undefined;
}

/**
 * Throws MEDIA_TYPE_MISMATCH when an image, audio or video file is not what `mime` says (or
 * its type is one this SDK cannot check), and IMAGE_TOO_LARGE when an image's header claims
 * more than `maxImagePixels`. Other types pass.
 */
export function checkMediaType(
  bytes: Uint8Array,
  mime: string | undefined,
  maxImagePixels = DEFAULT_MAX_IMAGE_PIXELS,
): void {
  const type = mime === undefined ? undefined : baseMimeType(mime);
  if (type === undefined || mediaClassOf(type) === 'document') return;
  const matches = SIGNATURES[type];
  if (!matches)
    throw new ParleyError('MEDIA_TYPE_MISMATCH', `${type} files cannot be checked, so are not opened`);
  if (!matches(bytes))
    throw new ParleyError('MEDIA_TYPE_MISMATCH', `the file is not the ${type} it claims to be`);
  if (mediaClassOf(type) !== 'image') return;
  const size = imageSize(bytes);
  if (size && size.width * size.height > maxImagePixels) {
    throw new ParleyError(
      'IMAGE_TOO_LARGE',
      `the image is ${size.width}×${size.height}, over the budget of ${maxImagePixels} pixels`,
    );
  }
}
