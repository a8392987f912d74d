import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { retryDelayMs } from './backoff.js';

const s = { baseMs: 1000, capMs: 300_000 };

it('waits below min(cap, base * 2^attempt), with full jitter', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 100 }),
      fc.double({ min: 0, max: 0.999999, noNaN: true }),
      (attempt, r) => {
        const ms = retryDelayMs(attempt, s, () => r);
        return ms >= 0 && ms < Math.min(s.capMs, s.baseMs * 2 ** attempt);
      },
    ),
  );
  assert.equal(
    retryDelayMs(0, s, () => 0.5),
    500,
  );
  assert.equal(
    retryDelayMs(3, s, () => 0.5),
    4000,
  );
  assert.equal(
    retryDelayMs(20, s, () => 0.5),
    150_000,
    'capped',
  );
});

it("never waits less than the provider's Retry-After", () => {
  assert.equal(
    retryDelayMs(0, s, () => 0.1, 30_000),
    30_000,
  );
  assert.equal(
    retryDelayMs(5, s, () => 0.9, 10),
    28_800,
  );
});
