import assert from 'node:assert/strict';
import { it } from 'node:test';
import { answerRange, etagOf, ifRangeHolds, noneMatch } from './ranges.js';

it('answers one range in each form, clamped to the body', () => {
  const cases: Array<[string, ReturnType<typeof answerRange>]> = [
    ['bytes=0-9', { kind: 'partial', range: { start: 0, end: 9 } }],
    ['bytes=5-', { kind: 'partial', range: { start: 5, end: 99 } }],
    ['bytes=-10', { kind: 'partial', range: { start: 90, end: 99 } }],
    ['bytes=-1000', { kind: 'partial', range: { start: 0, end: 99 } }],
    ['bytes=90-1000', { kind: 'partial', range: { start: 90, end: 99 } }],
    ['BYTES = 1 - 2', { kind: 'partial', range: { start: 1, end: 2 } }],
    ['bytes=100-', { kind: 'unsatisfiable' }],
    ['bytes=100-200', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=9-3', { kind: 'whole' }],
    ['bytes=0-1,3-4', { kind: 'whole' }],
    ['bytes=-', { kind: 'whole' }],
    ['items=0-1', { kind: 'whole' }],
    ['bytes=0x10-', { kind: 'whole' }],
    [`bytes=${'9'.repeat(16)}-`, { kind: 'whole' }],
    ['', { kind: 'whole' }],
  ];
  for (const [header, want] of cases) assert.deepEqual(answerRange(header, 100), want, header);
  assert.deepEqual(answerRange(undefined, 100), { kind: 'whole' });
  assert.deepEqual(answerRange('bytes=-5', 0), { kind: 'unsatisfiable' });
  assert.deepEqual(answerRange('bytes=0-', 0), { kind: 'unsatisfiable' });
});

it('compares validators: If-None-Match weakly and as a list, If-Range exactly', () => {
  const etag = etagOf('ab'.repeat(32));
  assert.equal(etag, `"${'ab'.repeat(32)}"`);
  assert.equal(noneMatch(undefined, etag), false);
  assert.equal(noneMatch('*', etag), true);
  assert.equal(noneMatch(`"x", W/${etag}`, etag), true);
  assert.equal(noneMatch('"x"', etag), false);
  assert.equal(ifRangeHolds(undefined, etag), true);
  assert.equal(ifRangeHolds(etag, etag), true);
  assert.equal(ifRangeHolds(`W/${etag}`, etag), false);
  assert.equal(ifRangeHolds('Sat, 05 Dec 2026 10:00:00 GMT', etag), false);
});
