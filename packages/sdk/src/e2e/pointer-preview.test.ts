/**
 * The attachment pointer's preview fields inside the encryption: they survive the round trip,
 * pointers without them read as before, and a received field that is not valid (a thumbnail
 * too big, of another type, or whose header says another size than it claims) is dropped
 * without dropping the message.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { THUMBNAIL_MAX_BYTES } from '../media-preview.js';
import {
  type AttachmentPointer,
  decodeEnvelope,
  encodeEnvelope,
  pointerFromJson,
  pointerToJson,
} from './content.js';

/** The smallest JPEG header imageSize reads: SOI, then a SOF0 with the given size. */
function jpegOf(width: number, height: number, pad = 0): Uint8Array {
  const sof = [0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03];
  return Uint8Array.from([0xff, 0xd8, ...sof, ...new Array(7 + pad).fill(0), 0xff, 0xd9]);
}

const base: AttachmentPointer = {
  mediaId: 'a'.repeat(64),
  key: new Uint8Array(64).fill(1),
  digest: new Uint8Array(32).fill(2),
  size: 2_100_000,
  mime: 'image/jpeg',
  name: 'photo.jpg',
};

it('carries dimensions, duration, blurhash and thumbnail through the envelope', () => {
  const pointer: AttachmentPointer = {
    ...base,
    width: 4032,
    height: 3024,
    durationMs: 12_500,
    blurhash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj',
    thumbnail: { bytes: jpegOf(320, 240), mime: 'image/jpeg', width: 320, height: 240 },
  };
  const back = decodeEnvelope(encodeEnvelope({ text: 'look', attachment: pointer })).attachment;
  assert.deepEqual(back, pointer);
});

it('reads pointers without preview fields as before', () => {
  const back = pointerFromJson(pointerToJson(base));
  assert.deepEqual(back, base);
  assert.deepEqual(Object.keys(pointerToJson(base)).sort(), ['d', 'id', 'k', 'm', 'n', 's']);
});

it('drops preview fields that are not valid, keeping the pointer', () => {
  const json = pointerToJson(base);
  const thumb = (b: Uint8Array, m: string, w: number, h: number) => ({
    b: Buffer.from(b).toString('base64'),
    m,
    w,
    h,
  });
  for (const [th, what] of [
    [thumb(jpegOf(320, 240), 'image/jpeg', 640, 480), 'a header of another size'],
    [thumb(jpegOf(320, 240), 'image/webp', 320, 240), 'a JPEG called WebP'],
    [thumb(jpegOf(320, 240), 'image/png', 320, 240), 'a type not allowed'],
    [thumb(jpegOf(4000, 3000), 'image/jpeg', 4000, 3000), 'over the edge budget'],
    [thumb(jpegOf(320, 240, THUMBNAIL_MAX_BYTES), 'image/jpeg', 320, 240), 'over 32 KiB'],
    [{ b: '%%%', m: 'image/jpeg', w: 320, h: 240 }, 'not base64'],
    ['x', 'not an object'],
  ] as const) {
    const back = pointerFromJson({ ...json, th, w: -1, h: 3.5, du: 'long', bh: 'not a blurhash!' });
    assert.equal(back.thumbnail, undefined, what);
    assert.deepEqual(
      [back.width, back.height, back.durationMs, back.blurhash],
      [undefined, undefined, undefined, undefined],
    );
    assert.equal(back.mediaId, base.mediaId);
  }
});
