/**
 * The HTTP range and conditional-request checks of a media download, run against a node on
 * local disk (media.test.ts) and on S3 (media-s3.test.ts): one range in each form, the
 * bytes exact; past the end 416 with the size; several ranges and malformed headers the
 * whole body; ETag, If-None-Match and If-Range; immutable caching.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function checkRanges(url: string, token: string, body: Uint8Array): Promise<void> {
  const id = sha(body);
  const size = body.length;
  const get = (headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/media/${id}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer());

  const whole = await get();
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('etag'), `"${id}"`);
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.equal(whole.headers.get('cache-control'), 'private, max-age=31536000, immutable');
  assert.equal(sha(await bytes(whole)), id);

  const ranges: Array<[string, number, number]> = [
    ['bytes=0-0', 0, 0],
    ['bytes=0-99', 0, 99],
    [`bytes=${size - 1}-`, size - 1, size - 1],
    ['bytes=1000-', 1000, size - 1],
    ['bytes=-500', size - 500, size - 1],
    [`bytes=-${size + 10}`, 0, size - 1],
    [`bytes=65530-${size + 1000}`, 65_530, size - 1],
    ['bytes = 7 - 70000', 7, 70_000],
  ];
  for (const [range, first, last] of ranges) {
    const res = await get({ range });
    assert.equal(res.status, 206, range);
    assert.equal(res.headers.get('content-range'), `bytes ${first}-${last}/${size}`, range);
    assert.equal(res.headers.get('content-length'), String(last - first + 1), range);
    assert.equal(res.headers.get('etag'), `"${id}"`);
    assert.deepEqual(await bytes(res), Buffer.from(body.subarray(first, last + 1)), range);
  }

  for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 10}`, 'bytes=-0']) {
    const res = await get({ range });
    assert.equal(res.status, 416, range);
    assert.equal(res.headers.get('content-range'), `bytes */${size}`, range);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'RANGE_NOT_SATISFIABLE');
  }

  // Ignored: several ranges (overlapping too), a last byte before the first, negative
  // numbers, other units, garbage; the whole body.
  for (const range of [
    'bytes=0-1,5-9',
    'bytes=0-99,50-149',
    'bytes=0-,0-',
    'bytes=9-3',
    'bytes=-5-10',
    'bytes=--5',
    'bytes=5--1',
    'items=0-5',
    'bytes=-',
    'bytes=abc',
    'x'.repeat(200),
  ]) {
    const res = await get({ range });
    assert.equal(res.status, 200, range);
    assert.equal(res.headers.get('content-length'), String(size), range);
    assert.equal(sha(await bytes(res)), id, range);
  }

  const cached = await get({ 'if-none-match': `"${id}"` });
  assert.equal(cached.status, 304);
  assert.equal((await bytes(cached)).length, 0);
  assert.equal((await get({ 'if-none-match': `"other", W/"${id}"` })).status, 304, 'a list, weak compare');
  assert.equal((await get({ 'if-none-match': '*' })).status, 304);
  const changed = await get({ 'if-none-match': '"other"' });
  assert.equal(changed.status, 200);
  await bytes(changed);

  const stillSame = await get({ range: 'bytes=10-19', 'if-range': `"${id}"` });
  assert.equal(stillSame.status, 206);
  assert.deepEqual(await bytes(stillSame), Buffer.from(body.subarray(10, 20)));
  const notSame = await get({ range: 'bytes=10-19', 'if-range': '"something-else"' });
  assert.equal(notSame.status, 200, 'If-Range with another validator: the whole body');
  assert.equal(sha(await bytes(notSame)), id);

  // A missing body is 404 for every form, never 304 or 416.
  const missing = (headers: Record<string, string>) =>
    fetch(`${url}/v1/media/${sha(new Uint8Array([1, 2, 3]))}`, {
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
  const forms: Array<Record<string, string>> = [
    {},
    { range: 'bytes=0-1' },
    { 'if-none-match': '*' },
    { range: 'bytes=99999999-' },
  ];
  for (const headers of forms) assert.equal((await missing(headers)).status, 404, JSON.stringify(headers));
}
