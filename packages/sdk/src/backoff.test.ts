import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { backoffCeiling, backoffDelay } from './backoff.js';

test('the ceiling doubles from initialMs and stops at maxMs', () => {
  const opts = { initialMs: 250, maxMs: 30_000 };
  assert.deepEqual(
    [0, 1, 2, 3, 6, 7, 50, 5000].map((a) => backoffCeiling(a, opts)),
    [250, 500, 1000, 2000, 16_000, 30_000, 30_000, 30_000],
  );
});

test('defaults are 250 ms doubling up to 30 s', () => {
  assert.equal(backoffCeiling(0), 250);
  assert.equal(backoffCeiling(100), 30_000);
});

test('a delay is always within [0, ceiling) (full jitter)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      fc.integer({ min: 1, max: 5000 }),
      fc.integer({ min: 1, max: 120_000 }),
      (attempt, r, initialMs, maxMs) => {
        const d = backoffDelay(attempt, { initialMs, maxMs }, () => r);
        const ceiling = backoffCeiling(attempt, { initialMs, maxMs });
        return Number.isInteger(d) && d >= 0 && (d < ceiling || ceiling === 0) && d <= maxMs;
      },
    ),
  );
});

test('jitter spans the whole range: random 0 gives 0, random near 1 gives near the ceiling', () => {
  assert.equal(
    backoffDelay(3, {}, () => 0),
    0,
  );
  assert.equal(
    backoffDelay(3, {}, () => 0.9999),
    1999,
  );
});
