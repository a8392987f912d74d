import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMuted, MUTE_FOREVER, muteUntilToWire } from './mutes.js';

test('mute ends go on the wire as uint64 ms, forever as 2^53-1', () => {
  assert.equal(muteUntilToWire(0), 0n);
  assert.equal(muteUntilToWire(1_767_254_400_000), 1_767_254_400_000n);
  assert.equal(muteUntilToWire('forever'), 9_007_199_254_740_991n);
  assert.equal(BigInt(MUTE_FOREVER), 2n ** 53n - 1n);
});

test('an end that is negative, fractional or past 2^53-1 is refused before it is sent', () => {
  for (const bad of [-1, 1.5, Number.NaN, MUTE_FOREVER + 2, Number.POSITIVE_INFINITY])
    assert.throws(() => muteUntilToWire(bad), { code: 'INVALID_ARGUMENT' }, String(bad));
});

test('a mute is in force until its end, for good at MUTE_FOREVER, never at 0', () => {
  const now = 1_767_225_600_000;
  assert.equal(isMuted(0, now), false);
  assert.equal(isMuted(now, now), false);
  assert.equal(isMuted(now + 1, now), true);
  assert.equal(isMuted(MUTE_FOREVER, now), true);
});
