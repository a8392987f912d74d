/**
 * Videos and voice notes with ffprobe and ffmpeg, when installed: dimensions and duration
 * (ffprobe), and a poster frame (ffmpeg, one frame scaled to at most 640 pixels, as PNG) that
 * image-preview.ts makes the thumbnail and blurhash of. The file is written to a private
 * temporary directory for them (a video's index may be at its end, which a pipe cannot
 * reach) and removed after. Each program runs with a time limit and an output cap; a missing
 * one is said in `note`, never an error.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MediaPreview } from '../media-preview.js';
import { imagePreview } from './image-preview.js';
import { runTool, ToolMissing } from './run-tool.js';

export interface VideoPreviewOptions {
  ffmpeg: string;
  ffprobe: string;
  timeoutMs: number;
  format: 'jpeg' | 'webp';
  maxPixels: number;
}

interface Probe {
  width?: number;
  height?: number;
  durationMs?: number;
}

async function probe(path: string, o: VideoPreviewOptions): Promise<Probe> {
  const out = await runTool(
    o.ffprobe,
    ['-v', 'error', '-show_entries', 'stream=codec_type,width,height:format=duration', '-of', 'json', path],
    { timeoutMs: o.timeoutMs, maxOutput: 64 * 1024 },
  );
  const j = JSON.parse(out.toString('utf8')) as {
    streams?: Array<{ codec_type?: string; width?: number; height?: number }>;
    format?: { duration?: string };
  };
  const video = j.streams?.find((s) => s.codec_type === 'video' && s.width && s.height);
  const seconds = Number(j.format?.duration);
  return {
    ...(video && { width: video.width, height: video.height }),
    ...(Number.isFinite(seconds) && seconds > 0 && { durationMs: Math.round(seconds * 1000) }),
  };
}

export async function videoPreview(
  bytes: Uint8Array,
  kind: 'video' | 'audio',
  o: VideoPreviewOptions,
): Promise<MediaPreview> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-preview-'));
  const path = join(dir, 'media');
  try {
    await writeFile(path, bytes, { mode: 0o600 });
    let info: Probe = {};
    try {
      info = await probe(path, o);
    } catch (err) {
      if (err instanceof ToolMissing)
        return kind === 'video'
          ? { note: 'no video thumbnail: ffmpeg (ffprobe) is not installed' }
          : { note: 'no duration: ffprobe is not installed' };
      return { note: `no ${kind === 'video' ? 'video thumbnail' : 'duration'}: the file could not be read` };
    }
    const out: MediaPreview = {
      ...(info.width !== undefined && { width: info.width, height: info.height }),
      ...(info.durationMs !== undefined && { durationMs: info.durationMs }),
    };
    if (kind === 'audio' || info.width === undefined) return out;
    // A frame a second in (the first is often black), or the first of a short clip.
    const at = (info.durationMs ?? 0) > 2000 ? '1' : '0';
    let frame: Buffer;
    try {
      frame = await runTool(
        o.ffmpeg,
        [
          ...['-v', 'error', '-ss', at, '-i', path, '-frames:v', '1'],
          ...[
            '-vf',
            'scale=640:640:force_original_aspect_ratio=decrease',
            '-f',
            'image2pipe',
            '-c:v',
            'png',
            'pipe:1',
          ],
        ],
        { timeoutMs: o.timeoutMs, maxOutput: 4 * 1024 * 1024 },
      );
    } catch (err) {
      out.note =
        err instanceof ToolMissing
          ? 'no video thumbnail: ffmpeg is not installed'
          : 'no video thumbnail: no frame could be read';
      return out;
    }
    const poster = await imagePreview(frame, {
      keepMetadata: true,
      maxPixels: o.maxPixels,
      format: o.format,
    });
    if (poster.thumbnail) out.thumbnail = poster.thumbnail;
    if (poster.blurhash) out.blurhash = poster.blurhash;
    if (!poster.thumbnail) out.note = poster.note ?? 'no video thumbnail: the frame could not be read';
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
