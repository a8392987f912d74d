/**
 * The browser SDK's thumbnailer in Debian's Chromium: the module is bundled for the page (as
 * the web client's build does) and run on real photos. It must remove a phone photo's EXIF
 * and GPS metadata, keep its pixels and orientation, make a JPEG thumbnail of at most 32 KiB,
 * and never decode an image whose header is past the pixel budget.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Thumbnailer } from '@parley/sdk';
import { photoWithExif } from '@parley/sdk/testing';
import type { Browser, Page } from 'playwright-core';
import { rolldown } from 'rolldown';
import sharp from 'sharp';
import { chromiumSkip, launchChromium } from './chromium.js';

interface Prepared {
  width?: number;
  height?: number;
  mime?: string;
  bytes?: number[];
  thumbnail?: { mime: string; width: number; height: number; bytes: number[] };
  note?: string;
}

describe('browserThumbnailer in Chromium', { skip: chromiumSkip(), timeout: 180_000 }, () => {
  let browser: Browser;
  let page: Page;

  before(async () => {
    const entry = createRequire(import.meta.url).resolve('@parley/sdk/browser');
    const bundle = await rolldown({ input: entry, platform: 'browser', logLevel: 'silent' });
    const { output } = await bundle.generate({ format: 'iife', name: 'ParleySdk' });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setContent('<!doctype html><title>thumbnails</title>');
    await page.addScriptTag({ content: output[0]!.code });
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

  it('does not decode an image past the pixel budget, nor one it cannot read; videos say they get no poster', async () => {
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
    const video = await prepare(Buffer.from('....ftypisom'), 'video/mp4');
    assert.match(video.note ?? '', /no poster frame/);
    const pdf = await prepare(Buffer.from('%PDF-1.7'), 'application/pdf');
    assert.deepEqual(
      [pdf.bytes, pdf.thumbnail, pdf.note, pdf.width],
      [undefined, undefined, undefined, undefined],
    );
  });
});
