/**
 * The browser SDK's thumbnailer in Debian's Chromium: the module is bundled for the page (as
 * the web client's build does) and run on real photos. It must remove a phone photo's EXIF
 * and GPS metadata, keep its pixels and orientation, make a JPEG thumbnail of at most 32 KiB,
 * and never decode an image whose header is past the pixel budget. A WebM video (VP8, VP9,
 * made by ffmpeg at test time) gets a poster frame, its size and duration in a page; a video
 * the browser cannot decode, or one prepared in a worker, a note instead.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Thumbnailer } from '@parley/sdk';
import { hasFfmpeg, photoWithExif } from '@parley/sdk/testing';
import type { Browser, Page } from 'playwright-core';
import { rolldown } from 'rolldown';
import sharp from 'sharp';
import { chromiumSkip, launchChromium } from './chromium.js';

interface Prepared {
  width?: number;
  height?: number;
  durationMs?: number;
  mime?: string;
  bytes?: number[];
  thumbnail?: { mime: string; width: number; height: number; bytes: number[] };
  note?: string;
}

describe('browserThumbnailer in Chromium', { skip: chromiumSkip(), timeout: 180_000 }, () => {
  let browser: Browser;
  let page: Page;
  let bundleCode = '';

  before(async () => {
    const entry = createRequire(import.meta.url).resolve('@parley/sdk/browser');
    const bundle = await rolldown({ input: entry, platform: 'browser', logLevel: 'silent' });
    const { output } = await bundle.generate({ format: 'iife', name: 'ParleySdk' });
    bundleCode = output[0]!.code;
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setContent('<!doctype html><title>thumbnails</title>');
    await page.addScriptTag({ content: bundleCode });
  });
  after(async () => {
    await browser?.close();
  });

  const prepare = (bytes: Uint8Array, mime: string, keepMetadata = false) =>
    page.evaluate(
      async ({ bytes, mime, keepMetadata }) => {
        const sdk = (globalThis as unknown as { ParleySdk: { browserThumbnailer(): Thumbnailer } }).ParleySdk;
        const p = await sdk.browserThumbnailer().prepare(new Uint8Array(bytes), mime, { keepMetadata });
        return {
          ...p,
          bytes: p.bytes && Array.from(p.bytes as Uint8Array),
          thumbnail: p.thumbnail && { ...p.thumbnail, bytes: Array.from(p.thumbnail.bytes as Uint8Array) },
        } as Prepared;
      },
      { bytes: Array.from(bytes), mime, keepMetadata },
    );

  it('sends a phone photo without its metadata, turned as the camera meant, with a small JPEG thumbnail', async () => {
    const photo = await photoWithExif({ width: 1200, height: 800, marker: 'secret-place-7f3a' });
    const p = await prepare(photo, 'image/jpeg');
    // Orientation 6 (a quarter turn) is applied to the pixels.
    assert.deepEqual([p.width, p.height], [800, 1200]);
    assert.equal(p.mime, 'image/jpeg');
    const clean = Buffer.from(p.bytes!);
    const meta = await sharp(clean).metadata();
    assert.deepEqual([meta.width, meta.height], [800, 1200]);
    assert.equal(meta.exif, undefined, 'no EXIF block');
    assert.equal(meta.orientation, undefined);
    assert.equal(clean.includes('secret-place-7f3a'), false);
    assert.equal(photo.includes('secret-place-7f3a'), true, 'the original carried it');
    const t = p.thumbnail!;
    assert.equal(t.mime, 'image/jpeg');
    assert.ok(t.bytes.length <= 32 * 1024, `thumbnail of ${t.bytes.length} bytes`);
    assert.ok(Math.max(t.width, t.height) <= 320);
    assert.deepEqual([t.width, t.height], [213, 320]);
    const tm = await sharp(Buffer.from(t.bytes)).metadata();
    assert.deepEqual([tm.format, tm.width, tm.height], ['jpeg', 213, 320]);
  });

  it('keeps the original bytes when asked, and rewrites a PNG as a PNG', async () => {
    const photo = await photoWithExif({ width: 300, height: 200, marker: 'kept' });
    const kept = await prepare(photo, 'image/jpeg', true);
    assert.equal(kept.bytes, undefined, 'the file goes as it is');
    assert.ok(kept.thumbnail);
    const png = await sharp({ create: { width: 64, height: 48, channels: 4, background: '#3a7' } })
      .png()
      .toBuffer();
    const p = await prepare(png, 'image/png');
    assert.equal(p.mime, 'image/png');
    assert.equal((await sharp(Buffer.from(p.bytes!)).metadata()).format, 'png');
  });

  it('does not decode an image past the pixel budget, nor one it cannot read', async () => {
    // A PNG header claiming 20,000 × 20,000 pixels (400 megapixels), and nothing behind it.
    const header = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const size = Buffer.alloc(8);
    size.writeUInt32BE(20_000, 0);
    size.writeUInt32BE(20_000, 4);
    const huge = await prepare(Buffer.concat([header, size, Buffer.alloc(16)]), 'image/png');
    assert.match(huge.note ?? '', /too large/);
    assert.equal(huge.bytes, undefined);
    const broken = await prepare(Buffer.from('not an image at all'), 'image/jpeg');
    assert.match(broken.note ?? '', /could not be read/);
    const pdf = await prepare(Buffer.from('%PDF-1.7'), 'application/pdf');
    assert.deepEqual(
      [pdf.bytes, pdf.thumbnail, pdf.note, pdf.width],
      [undefined, undefined, undefined, undefined],
    );
  });

  describe('video posters', {
    skip: hasFfmpeg() || process.env.CI ? false : 'ffmpeg is not installed',
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-posters-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const ffmpeg = (args: string[], out: string) => {
      execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, join(dir, out)]);
      return readFileSync(join(dir, out));
    };
    const clip = (size: string, seconds: number, codec: string[], out: string) =>
      ffmpeg(['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=10`, '-t', String(seconds), ...codec], out);

    it('a VP8 WebM gets its size, duration and a JPEG poster of at most 32 KiB; the video goes as it is', async () => {
      const video = clip('640x360', 3, ['-c:v', 'libvpx', '-b:v', '300k'], 'vp8.webm');
      const p = await prepare(video, 'video/webm');
      assert.equal(p.note, undefined);
      assert.deepEqual([p.width, p.height], [640, 360]);
      assert.ok(Math.abs((p.durationMs ?? 0) - 3000) < 200, `${p.durationMs} ms`);
      assert.equal(p.bytes, undefined, 'a video goes as it is');
      const t = p.thumbnail!;
      assert.equal(t.mime, 'image/jpeg');
      assert.deepEqual([t.width, t.height], [320, 180]);
      assert.ok(t.bytes.length <= 32 * 1024, `poster of ${t.bytes.length} bytes`);
      const decoded = await sharp(Buffer.from(t.bytes)).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([decoded.info.width, decoded.info.height], [320, 180]);
      // testsrc is coloured bars and a counter: a decoded frame, not a black or empty canvas.
      const stats = await sharp(Buffer.from(t.bytes)).stats();
      assert.ok(
        stats.channels.some((c) => c.stdev > 20),
        'the poster shows a picture',
      );
    });

    it('a short VP9 WebM gets a poster from within its length, sized by its own aspect', async () => {
      const video = clip(
        '240x320',
        0.6,
        ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8'],
        'vp9.webm',
      );
      const p = await prepare(video, 'video/webm; codecs=vp9');
      assert.equal(p.note, undefined);
      assert.deepEqual([p.width, p.height], [240, 320]);
      assert.ok(Math.abs((p.durationMs ?? 0) - 600) < 150, `${p.durationMs} ms`);
      const t = p.thumbnail!;
      assert.deepEqual([t.width, t.height], [240, 320], 'not scaled up');
      const meta = await sharp(Buffer.from(t.bytes)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 240, 320]);
    });

    /**
     * Makes the page's createImageBitmap fail for the next `times` video frames (a busy
     * browser's lost frame); with `at`, only for frames at that time, however often.
     */
    const dropVideoFrames = (times: number, at?: number) =>
      page.evaluate(
        ({ times, at }) => {
          const g = globalThis as unknown as {
            createImageBitmap(source: unknown, ...rest: unknown[]): Promise<unknown>;
            realCreateImageBitmap?: (source: unknown, ...rest: unknown[]) => Promise<unknown>;
            framesDropped: number;
          };
          g.realCreateImageBitmap ??= g.createImageBitmap;
          const real = g.realCreateImageBitmap;
          g.framesDropped = 0;
          let left = times;
          g.createImageBitmap = (source, ...rest) => {
            const video = source as { tagName?: string; currentTime: number };
            const here = at === undefined || Math.abs(video.currentTime - at) < 0.01;
            if (video.tagName === 'VIDEO' && here && left > 0) {
              left--;
              g.framesDropped++;
              return Promise.reject(new DOMException('The video frame is gone.', 'InvalidStateError'));
            }
            return real(source, ...rest);
          };
        },
        { times, at },
      );
    const framesDropped = () =>
      page.evaluate(() => (globalThis as unknown as { framesDropped: number }).framesDropped);

    it('a poster frame the browser let go before it was drawn is shown again and drawn', async () => {
      const video = clip('320x240', 2, ['-c:v', 'libvpx'], 'again.webm');
      await dropVideoFrames(2);
      const p = await prepare(video, 'video/webm');
      assert.equal(await framesDropped(), 2);
      assert.equal(p.note, undefined);
      assert.deepEqual([p.thumbnail?.width, p.thumbnail?.height], [320, 240]);
      // A frame lost at the poster's point however often it is shown there (a seek to where
      // the video already is may be skipped): the next try shows a frame elsewhere.
      await dropVideoFrames(Number.POSITIVE_INFINITY, 1);
      const elsewhere = await prepare(video, 'video/webm');
      assert.equal(await framesDropped(), 1);
      assert.equal(elsewhere.note, undefined);
      assert.deepEqual([elsewhere.thumbnail?.width, elsewhere.thumbnail?.height], [320, 240]);
      // A frame that never comes back: the video goes without a poster, and the note says so.
      await dropVideoFrames(Number.POSITIVE_INFINITY);
      const lost = await prepare(video, 'video/webm');
      assert.equal(await framesDropped(), 4, 'four tries, then it gives up');
      assert.equal(lost.thumbnail, undefined);
      assert.deepEqual([lost.width, lost.height], [320, 240]);
      assert.equal(lost.note, 'no poster frame: the frame could not be drawn; it is sent as it is');
      await dropVideoFrames(0);
    });

    it('a video the browser cannot decode goes without a poster, and the note says why', async () => {
      const p = await prepare(Buffer.from('not a video, only bytes that say so'), 'video/webm');
      assert.equal(p.thumbnail, undefined);
      assert.equal(p.width, undefined);
      assert.match(p.note ?? '', /^no poster frame: .*(cannot play|could not be decoded|could not be read)/);
    });

    it('in a worker (no <video>) a video goes without a poster, saying so', async () => {
      const video = clip('160x120', 1, ['-c:v', 'libvpx'], 'worker.webm');
      const note = await page.evaluate(
        async ({ code, bytes }) => {
          const source = `${code}\nonmessage = async (e) => {
            const p = await ParleySdk.browserThumbnailer().prepare(e.data, 'video/webm');
            postMessage({ note: p.note, thumbnail: p.thumbnail !== undefined });
          };`;
          // Typed by hand: server tests build without the DOM library.
          const { Worker } = globalThis as unknown as {
            Worker: new (
              url: string,
            ) => {
              onmessage: ((e: { data: { note?: string; thumbnail: boolean } }) => void) | null;
              postMessage(message: unknown): void;
              terminate(): void;
            };
          };
          const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
          const answer = new Promise<{ note?: string; thumbnail: boolean }>((resolve) => {
            worker.onmessage = (e) => resolve(e.data);
          });
          worker.postMessage(new Uint8Array(bytes));
          const got = await answer;
          worker.terminate();
          return got;
        },
        { code: bundleCode, bytes: Array.from(video) },
      );
      assert.deepEqual(note, {
        note: 'no poster frame: video frames are read in a page, not in a worker',
        thumbnail: false,
      });
    });
  });
});
