// The soak's own parts that decide a verdict: flag parsing, the RSS comparison, summing counts.
// Run with `node --test bench/dist/src/soak/soak.test.js` (the soak itself is `npm run soak`).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Life } from './node-proc.js';
import { parseDuration, parseSoakArgs } from './options.js';
import { rssVerdict } from './rss.js';
import type { WorkerCounts } from './worker.js';
import { sumCounts } from './workers.js';

function life(index: number, startedAt: number, endedAt: number, rssAt: (t: number) => number): Life {
  const rss: Array<[number, number]> = [];
  for (let t = 0; t <= endedAt - startedAt; t += 1000) rss.push([t, rssAt(t)]);
  return {
    index,
    pid: 1000 + index,
    port: 1,
    startedAt,
    endedAt,
    endedBy: 'SIGTERM',
    exitCode: 0,
    exitSignal: null,
    forced: false,
    rss,
    heap: [],
  };
}

describe('soak flags', () => {
  test('durations and ranges are read in their units and bad values are refused', () => {
    assert.equal(parseDuration('3m', '--duration'), 180_000);
    assert.equal(parseDuration('90', '--duration'), 90_000);
    assert.equal(parseDuration('250ms', '--jitter'), 250);
    const o = parseSoakArgs(['--duration', '3m', '--devices', '200', '--cut', '5s-20s', '--jitter', '15']);
    assert.ok(o !== 'help');
    assert.equal(o.durationMs, 180_000);
    assert.equal(o.devices, 200);
    assert.deepEqual(o.cutMs, [5000, 20_000]);
    assert.equal(o.jitterMs, 15);
    assert.equal(o.warmupMs, 60_000, 'a third of a short run');
    assert.equal((parseSoakArgs([]) as { warmupMs: number }).warmupMs, 300_000);
    assert.throws(() => parseSoakArgs(['--cut', '20s-5s']), /ascending/);
    assert.throws(() => parseSoakArgs(['--devices', 'many']), /--devices/);
    assert.throws(() => parseSoakArgs(['--bogus', '1']), /unknown flag/);
    assert.equal(parseSoakArgs(['--help']), 'help');
  });
});

describe('soak RSS check', () => {
  test('growth is measured after warm-up in the longest restart-free life, like with like', () => {
    // Life 0: short, huge warm-up growth (left out). Life 1: flat at 200 MiB after warm-up,
    // then +20% over its last third.
    const lives = [
      life(0, 0, 40_000, (t) => 100_000 + t * 10),
      life(1, 50_000, 250_000, (t) => (t < 30_000 ? 100_000 + t : t > 140_000 ? 240_000 : 200_000)),
    ];
    const { longest, measured } = rssVerdict(lives, 30_000, 1e12);
    assert.equal(measured.length, 1);
    assert.equal(longest?.index, 1);
    assert.equal(longest?.startKiB, 200_000);
    assert.equal(longest?.endKiB, 240_000);
    assert.ok(Math.abs(longest!.growth - 0.2) < 1e-9);
  });

  test('samples after sending stopped are left out, and a life too short is not measured', () => {
    const lives = [life(0, 0, 200_000, (t) => (t > 100_000 ? 400_000 : 200_000))];
    assert.equal(rssVerdict(lives, 30_000, 100_000).longest?.growth, 0);
    assert.equal(rssVerdict(lives, 30_000, 60_000).longest, undefined);
  });
});

test('counts from the client processes add up, refusal codes and examples merged', () => {
  const base = { sent: 2, acked: 1, shown: 3, refused: { RATE_LIMITED: 1 }, lostExamples: ['a'] };
  const sum = sumCounts([
    base as unknown as WorkerCounts,
    { ...base, refused: {} } as unknown as WorkerCounts,
  ]);
  assert.equal(sum.sent, 4);
  assert.equal(sum.shown, 6);
  assert.deepEqual(sum.refused, { RATE_LIMITED: 1 });
  assert.deepEqual(sum.lostExamples, ['a', 'a']);
});
