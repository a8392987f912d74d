import assert from 'node:assert/strict';
import { it } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import { ParleyError } from '@parley/protocol';
import { checkMediaType, imageSize, mediaClassOf } from './media-type.js';

const be32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
const le16 = (n: number) => Buffer.from([n & 0xff, n >>> 8]);
const le24 = (n: number) => Buffer.from([n & 0xff, (n >>> 8) & 0xff, n >>> 16]);

/** A complete grey PNG of width × height (one byte a pixel), chunks with their CRCs. */
function png(width: number, height: number, pixels = true): Buffer {
  const chunk = (type: string, data: Buffer) =>
    Buffer.concat([
      be32(data.length),
      Buffer.from(type),
      data,
      be32(crc32(Buffer.concat([Buffer.from(type), data]))),
    ]);
  const ihdr = Buffer.concat([be32(width), be32(height), Buffer.from([8, 0, 0, 0, 0])]);
  const rows = pixels ? Buffer.alloc((width + 1) * height) : Buffer.alloc(0);
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG's header up to its start of frame: SOI, APP0 (JFIF), a comment, SOF0. */
function jpeg(width: number, height: number, sof = 0xc0): Buffer {
  const seg = (marker: number, body: Buffer) =>
    Buffer.concat([
      Buffer.from([0xff, marker]),
      Buffer.from([(body.length + 2) >> 8, (body.length + 2) & 0xff]),
      body,
    ]);
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    seg(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1')),
    seg(0xfe, Buffer.from('made by a test')),
    seg(sof, Buffer.from([8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0])),
    Buffer.from([0xff, 0xd9]),
  ]);
}

const gif = (w: number, h: number) =>
  Buffer.concat([Buffer.from('GIF89a'), le16(w), le16(h), Buffer.from([0, 0, 0, 0x3b])]);
const riff = (fourcc: string, body: Buffer) =>
  Buffer.concat([
    Buffer.from('RIFF'),
    le24(body.length + 4),
    Buffer.from([0]),
    Buffer.from('WEBP'),
    Buffer.from(fourcc),
    body,
  ]);
const webpX = (w: number, h: number) =>
  riff('VP8X', Buffer.concat([be32(10), Buffer.alloc(4), le24(w - 1), le24(h - 1)]));
function webpLossless(w: number, h: number): Buffer {
  const bits = (w - 1) | ((h - 1) << 14);
  const b = Buffer.alloc(4);
  b.writeUInt32LE(bits >>> 0);
  return riff('VP8L', Buffer.concat([be32(5), Buffer.from([0x2f]), b, Buffer.alloc(4)]));
}
const webpLossy = (w: number, h: number) =>
  riff(
    'VP8 ',
    Buffer.concat([be32(10), Buffer.from([0, 0, 0, 0x9d, 0x01, 0x2a]), le16(w), le16(h), Buffer.alloc(4)]),
  );
const mp4 = (brand: string) =>
  Buffer.concat([be32(24), Buffer.from('ftyp'), Buffer.from(brand), Buffer.alloc(12)]);

it('reads image dimensions from PNG, GIF, JPEG (any start of frame) and WebP headers', () => {
  assert.deepEqual(imageSize(png(3, 2)), { width: 3, height: 2 });
  assert.deepEqual(imageSize(gif(640, 480)), { width: 640, height: 480 });
  assert.deepEqual(imageSize(jpeg(4032, 3024)), { width: 4032, height: 3024 });
  assert.deepEqual(imageSize(jpeg(800, 600, 0xc2)), { width: 800, height: 600 }, 'progressive');
  assert.deepEqual(imageSize(webpX(16383, 9000)), { width: 16383, height: 9000 });
  assert.deepEqual(imageSize(webpLossless(300, 200)), { width: 300, height: 200 });
  assert.deepEqual(imageSize(webpLossy(1024, 768)), { width: 1024, height: 768 });
  for (const junk of [
    Buffer.alloc(0),
    Buffer.from([0xff, 0xd8, 0xff]),
    jpeg(10, 10).subarray(0, 25),
    mp4('isom'),
  ])
    assert.equal(imageSize(junk), undefined);
});

it('accepts files that are what their type says, and documents whatever they are', () => {
  const ok: Array<[Buffer, string]> = [
    [png(2, 2), 'image/png'],
    [jpeg(10, 10), 'image/jpeg'],
    [jpeg(10, 10), 'image/JPG; charset=binary'],
    [gif(1, 1), 'image/gif'],
    [webpX(5, 5), 'image/webp'],
    [mp4('heic'), 'image/heic'],
    [mp4('isom'), 'video/mp4'],
    [mp4('qt  '), 'video/quicktime'],
    [mp4('M4A '), 'audio/mp4'],
    [Buffer.from('OggS\0\x02'), 'audio/ogg'],
    [Buffer.from('ID3\x04'), 'audio/mpeg'],
    [Buffer.from([0xff, 0xfb, 0x90, 0x00]), 'audio/mpeg'],
    [Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x01]), 'video/webm'],
    [Buffer.from('%PDF-1.7'), 'application/pdf'],
    [png(2, 2), 'application/octet-stream'],
    [Buffer.from('anything'), undefined as unknown as string],
  ];
  for (const [bytes, mime] of ok) assert.doesNotThrow(() => checkMediaType(bytes, mime), mime);
});

it('refuses media whose bytes are not the declared type, or of a type it cannot check', () => {
  const code = (c: string) => (err: unknown) => err instanceof ParleyError && err.code === c;
  const bad: Array<[Buffer, string]> = [
    [Buffer.from('<svg onload="alert(1)"/>'), 'image/svg+xml'],
    [Buffer.from('<html>'), 'image/png'],
    [png(2, 2), 'image/jpeg'],
    [jpeg(2, 2), 'image/gif'],
    [Buffer.from('MZ\x90\0'), 'video/mp4'],
    [Buffer.from('OggS'), 'audio/mpeg'],
    [Buffer.from('RIFF\0\0\0\0WAVE'), 'image/webp'],
    [Buffer.alloc(0), 'image/png'],
    [mp4('isom'), 'audio/x-unknown'],
  ];
  for (const [bytes, mime] of bad)
    assert.throws(() => checkMediaType(bytes, mime), code('MEDIA_TYPE_MISMATCH'), mime);
});

it('refuses an image whose header claims more pixels than the budget, before any decoding', () => {
  const code = (err: unknown) => err instanceof ParleyError && err.code === 'IMAGE_TOO_LARGE';
  // A 66 KB PNG that would decode to 4 GB of pixels: refused from its header alone.
  const bomb = png(65_535, 65_535, false);
  assert.ok(bomb.length < 100);
  assert.throws(() => checkMediaType(bomb, 'image/png'), code);
  assert.throws(() => checkMediaType(jpeg(10_000, 10_000), 'image/jpeg'), code);
  assert.doesNotThrow(() => checkMediaType(jpeg(8000, 8000), 'image/jpeg'), '64 megapixels pass');
  assert.throws(() => checkMediaType(gif(101, 100), 'image/gif', 10_000), code, 'a budget of its own');
  assert.doesNotThrow(() => checkMediaType(gif(100, 100), 'image/gif', 10_000));
});

it('maps a MIME type to the class its upload is capped by', () => {
  assert.equal(mediaClassOf('image/heic'), 'image');
  assert.equal(mediaClassOf('audio/ogg'), 'voice');
  assert.equal(mediaClassOf('VIDEO/mp4'), 'video');
  assert.equal(mediaClassOf('application/pdf'), 'document');
  assert.equal(mediaClassOf(undefined), 'document');
});
