import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeartbeatRounds } from './heartbeat-rounds.js';

/** Runs `ticks` ticks; returns how many items each tick visited and every visit in order. */
function run(rounds: HeartbeatRounds<string>, visits: string[], ticks: number): number[] {
  const perTick: number[] = [];
  for (let i = 0; i < ticks; i++) {
    const before = visits.length;
    rounds.tick(i * rounds.tickMs);
    perTick.push(visits.length - before);
  }
  return perTick;
}

const names = (n: number, prefix = 'c') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('HeartbeatRounds', () => {
  it('splits the default 25 s period into 250 ticks of 100 ms, and a short one into ticks of 10 ms', () => {
    const items = new Set<string>();
    const long = new HeartbeatRounds(25_000, items, () => {});
    assert.deepEqual([long.tickMs, long.slices], [100, 250]);
    const short = new HeartbeatRounds(200, items, () => {});
    assert.deepEqual([short.tickMs, short.slices], [10, 20]);
  });

  it('visits each of 1,000 connections once a round, a slice of 4 a tick, and starts again', () => {
    const items = new Set(names(1000));
    const visits: string[] = [];
    const rounds = new HeartbeatRounds(25_000, items, (c) => visits.push(c));
    const perTick = run(rounds, visits, 250);
    assert.ok(
      perTick.every((n) => n === 4),
      `per tick: ${[...new Set(perTick)].join(', ')}`,
    );
    assert.deepEqual(visits, names(1000));
    run(rounds, visits, 250);
    assert.deepEqual(visits.slice(1000), names(1000), 'the next round visits them again, in order');
  });

  it('with fewer connections than slices, still visits each only once a round', () => {
    const items = new Set(names(10));
    const visits: string[] = [];
    const rounds = new HeartbeatRounds(25_000, items, (c) => visits.push(c));
    const perTick = run(rounds, visits, 250);
    assert.deepEqual(visits, names(10));
    assert.equal(perTick.filter((n) => n > 0).length, 10, 'spread over ten ticks, not the first');
    assert.equal(perTick.indexOf(1), 0);
  });

  it('skips connections that close, and visits the ones that arrive in the same round', () => {
    const items = new Set(names(100));
    const visits: string[] = [];
    const rounds = new HeartbeatRounds(1000, items, (c) => visits.push(c));
    assert.equal(rounds.slices, 100);
    run(rounds, visits, 50);
    assert.equal(visits.length, 50);
    items.delete('c10'); // already visited
    items.delete('c90'); // not yet
    for (const c of names(20, 'n')) items.add(c);
    for (let i = 50; i < 100; i++) rounds.tick(i * rounds.tickMs);
    assert.deepEqual(visits, [...names(100).filter((c) => c !== 'c90'), ...names(20, 'n')]);
    assert.equal(new Set(visits).size, visits.length, 'nobody twice in a round');
  });

  it('starts each round at the beginning, whatever happened in the last one', () => {
    const items = new Set(names(4));
    const visits: string[] = [];
    const rounds = new HeartbeatRounds(1000, items, (c) => visits.push(c));
    for (let i = 0; i < 60; i++) rounds.tick(i);
    assert.deepEqual(visits, names(3));
    items.clear();
    for (let i = 60; i < 100; i++) rounds.tick(i);
    assert.deepEqual(visits, names(3), 'nothing left to visit');
    for (const c of names(2)) items.add(c);
    for (let i = 0; i < 100; i++) rounds.tick(i);
    assert.deepEqual(visits.slice(3), names(2));
  });
});
