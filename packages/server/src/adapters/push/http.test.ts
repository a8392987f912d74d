import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitPreview, retryAfterMs } from './http.js';
import { tokenTag } from './jwt.js';

describe('Retry-After and preview caps', () => {
  it('reads Retry-After as seconds or an HTTP date, capped at a day, and ignores junk', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs('7', now), 7000);
    assert.equal(retryAfterMs(' 120 ', now), 120_000);
    assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('9999999', now), 86_400_000);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs('-5', now), undefined);
    assert.equal(retryAfterMs(undefined, now), undefined);
  });

  it('keeps the preview while the body fits the cap to the byte, and drops it one byte over', () => {
    const build = (p: string | undefined) => JSON.stringify({ a: 1, ...(p !== undefined && { p }) });
    const size = (s: string) => Buffer.byteLength(s);
    const overhead = size(build('')); // {"a":1,"p":""}
    const exact = 'x'.repeat(100 - overhead);
    assert.deepEqual(fitPreview(exact, build, size, 100), { built: build(exact), previewDropped: false });
    assert.deepEqual(fitPreview(`${exact}x`, build, size, 100), {
      built: build(undefined),
      previewDropped: true,
    });
    assert.equal(fitPreview(undefined, build, size, 3), undefined, 'too big even without a preview');
  });

  it('tags a token with a short hash, never the token', () => {
    const tag = tokenTag('device-token-123');
    assert.match(tag, /^[0-9a-f]{12}$/);
    assert.equal(tag, tokenTag('device-token-123'));
    assert.notEqual(tag, tokenTag('device-token-124'));
  });
});
