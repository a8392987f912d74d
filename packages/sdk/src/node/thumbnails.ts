/**
 * The Node Thumbnailer for SecureMessaging's `sendFile`: images through sharp (metadata
 * removed unless kept, thumbnail, blurhash), videos and voice notes through ffprobe/ffmpeg
 * when they are installed (dimensions, duration, poster frame). Other files get nothing.
 */
import { baseMimeType, DEFAULT_MAX_IMAGE_PIXELS, mediaClassOf } from '../crypto/media-type.js';
import type { MediaPreview, PreviewOptions, Thumbnailer } from '../media-preview.js';
import { imagePreview } from './image-preview.js';
import { videoPreview } from './video-preview.js';

export interface NodeThumbnailerOptions {
  /** The ffmpeg program (default `ffmpeg`, found on PATH). */
  ffmpegPath?: string;
  /** The ffprobe program (default `ffprobe`, found on PATH). */
  ffprobePath?: string;
  /** Longest ffprobe or ffmpeg run (default 15 s); it is killed after. */
  toolTimeoutMs?: number;
  /** Thumbnail format (default JPEG). */
  format?: 'jpeg' | 'webp';
  /** Most pixels an image to preview may have (default 64 megapixels); larger ones are sent without one. */
  maxImagePixels?: number;
}

export function nodeThumbnailer(options: NodeThumbnailerOptions = {}): Thumbnailer {
  const format = options.format ?? 'jpeg';
  const maxPixels = options.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  return {
    async prepare(
      bytes: Uint8Array,
      mime: string | undefined,
      o: PreviewOptions = {},
    ): Promise<MediaPreview> {
      const type = baseMimeType(mime ?? '');
      const kind = mediaClassOf(type);
      if (kind === 'image' && type !== 'image/svg+xml')
        return imagePreview(bytes, { keepMetadata: o.keepMetadata === true, maxPixels, format });
      if (kind === 'video' || kind === 'voice')
        return videoPreview(bytes, kind === 'video' ? 'video' : 'audio', {
          ffmpeg: options.ffmpegPath ?? 'ffmpeg',
          ffprobe: options.ffprobePath ?? 'ffprobe',
          timeoutMs: options.toolTimeoutMs ?? 15_000,
          format,
          maxPixels,
        });
      return {};
    },
  };
}
