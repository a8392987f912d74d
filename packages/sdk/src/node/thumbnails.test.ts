/**
 * The Node thumbnailer on real files made here: a JPEG with EXIF (a description, GPS and an
 * orientation) loses its metadata (unless kept) and is measured as shown; thumbnails fit in
 * 32 KiB and say their true size; a pixel budget, broken bytes and a missing ffmpeg are notes,
 * never errors; with ffmpeg installed, a video gets its size, duration and a poster frame,
 * and a voice note its duration.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isBlurhashValid } from 'blurhash';
import sharp from 'sharp';
import { imageSize } from '../crypto/media-type.js';
import { THUMBNAIL_MAX_BYTES } from '../media-preview.js';
import { hasFfmpeg, photoWithExif } from '../testing/photos.js';
import { nodeThumbnailer } from './thumbnails.js';

const MARK = 'ParleyPrivateSpot';
const photo = () => photoWithExif({ width: 1200, height: 800, marker: MARK });

describe('nodeThumbnailer', () => {
  const thumbnailer = nodeThumbnailer();

  it('removes EXIF and GPS from a JPEG, measures it as shown, and makes a thumbnail and a blurhash', async () => {
    const original = await photo();
    assert.ok(original.includes(MARK), 'the test photo carries its metadata');
    const p = await thumbnailer.prepare(original, 'image/jpeg');
    assert.ok(p.bytes, 'the image is sent again without its metadata');
    assert.ok(!Buffer.from(p.bytes).includes(MARK));
    const meta = await sharp(p.bytes).metadata();
    assert.equal(meta.exif, undefined, 'no EXIF (and so no GPS)');
    assert.equal(meta.format, 'jpeg');
    assert.deepEqual([meta.width, meta.height], [800, 1200], 'the orientation is in the pixels');
    assert.deepEqual([p.width, p.height], [800, 1200]);
    const t = p.thumbnail!;
    assert.equal(t.mime, 'image/jpeg');
    assert.ok(t.bytes.length <= THUMBNAIL_MAX_BYTES);
    assert.deepEqual([t.width, t.height], [213, 320]);
    assert.deepEqual(imageSize(t.bytes), { width: t.width, height: t.height });
    assert.equal(isBlurhashValid(p.blurhash!).result, true, p.blurhash);
    assert.equal(p.note, undefined);
  });

  it('keeps the metadata when asked, and makes WebP thumbnails when told', async () => {
    const original = await photo();
    const p = await nodeThumbnailer({ format: 'webp' }).prepare(original, 'image/jpeg', {
      keepMetadata: true,
    });
    assert.equal(p.bytes, undefined, 'the file goes as it is');
    assert.equal(p.thumbnail?.mime, 'image/webp');
    assert.deepEqual(imageSize(p.thumbnail!.bytes), {
      width: p.thumbnail!.width,
      height: p.thumbnail!.height,
    });
  });

  it('fits a noisy image’s thumbnail in 32 KiB by going smaller', async () => {
    // Noise at thumbnail size: nothing for a JPEG to smooth away.
    const size = 320;
    const noise = await sharp(randomBytes(size * size * 3), {
      raw: { width: size, height: size, channels: 3 },
    })
      .png()
      .toBuffer();
    const p = await thumbnailer.prepare(noise, 'image/png');
    assert.ok(p.thumbnail, p.note);
    assert.ok(p.thumbnail.bytes.length <= THUMBNAIL_MAX_BYTES, `${p.thumbnail.bytes.length} bytes`);
    assert.ok(p.thumbnail.width < 320, `went smaller (${p.thumbnail.width})`);
    assert.equal((await sharp(p.bytes!).metadata()).format, 'png', 'a PNG stays a PNG');
  });

  it('says so, without failing, for an image over the pixel budget, broken bytes and other files', async () => {
    const big = await nodeThumbnailer({ maxImagePixels: 10_000 }).prepare(await photo(), 'image/jpeg');
    assert.equal(big.thumbnail, undefined);
    assert.match(big.note ?? '', /over 10000 pixels; sent as it is, metadata and all/);
    const broken = await thumbnailer.prepare(randomBytes(5000), 'image/jpeg');
    assert.equal(broken.thumbnail, undefined);
    assert.match(broken.note ?? '', /could not be read/);
    assert.deepEqual(await thumbnailer.prepare(randomBytes(100), 'application/pdf'), {});
  });

  it('says that ffmpeg is not installed instead of a poster frame', async () => {
    const none = nodeThumbnailer({ ffmpegPath: '/nonexistent/ffmpeg', ffprobePath: '/nonexistent/ffprobe' });
    const p = await none.prepare(randomBytes(1000), 'video/mp4');
    assert.equal(p.thumbnail, undefined);
    assert.match(p.note ?? '', /ffmpeg .*is not installed/);
  });

  describe('with ffmpeg', { skip: hasFfmpeg() || process.env.CI ? false : 'ffmpeg is not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-thumbs-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const ffmpeg = (args: string[], out: string) => {
      execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, join(dir, out)]);
      return readFileSync(join(dir, out));
    };

    it('a video gets its size, duration and a poster frame', async () => {
      const video = ffmpeg(
        ['-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=10', '-t', '3', '-pix_fmt', 'yuv420p'],
        'clip.mp4',
      );
      const p = await thumbnailer.prepare(video, 'video/mp4');
      assert.deepEqual([p.width, p.height], [640, 360]);
      assert.ok(Math.abs((p.durationMs ?? 0) - 3000) < 200, `${p.durationMs} ms`);
      assert.ok(p.thumbnail, p.note);
      assert.deepEqual([p.thumbnail.width, p.thumbnail.height], [320, 180]);
      assert.ok(p.thumbnail.bytes.length <= THUMBNAIL_MAX_BYTES);
      assert.equal(isBlurhashValid(p.blurhash!).result, true);
      assert.equal(p.bytes, undefined, 'a video goes as it is');
    });

    it('a voice note gets its duration; a broken video is a note', async () => {
      const voice = ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=2'], 'note.ogg');
      const p = await thumbnailer.prepare(voice, 'audio/ogg');
      assert.ok(Math.abs((p.durationMs ?? 0) - 2000) < 200, `${p.durationMs} ms`);
      assert.equal(p.thumbnail, undefined);
      const broken = await thumbnailer.prepare(randomBytes(4000), 'video/mp4');
      assert.equal(broken.thumbnail, undefined);
      assert.match(broken.note ?? '', /could not be read/);
    });
  });
});
