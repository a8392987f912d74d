import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '../config/load.js';
import { Limiters, limiterTable } from './limiters.js';

const config = loadConfig({ overrides: { discoverPerMinute: 3 } });

describe('rate limiters', () => {
  it('count in memory on one node and answer RATE_LIMITED with a retry time', async () => {
    const l = new Limiters(config);
    for (let i = 0; i < 3; i++) await l.take('discover', 'u1');
    await assert.rejects(l.take('discover', 'u1'), (err: { code: string; retryAfterMs: number }) => {
      assert.equal(err.code, 'RATE_LIMITED');
      assert.ok(err.retryAfterMs > 0);
      return true;
    });
    await l.take('discover', 'u2');
  });
});

describe('the code-request budgets', () => {
  it('default to 20 per number per day, 100 per prefix per hour and 10 000 per day in all', () => {
    const t = limiterTable(loadConfig({}));
    assert.deepEqual(t.codeRequestPhone, { points: 10, durationSec: 3600 });
    assert.deepEqual(t.codeRequestPhoneDay, { points: 20, durationSec: 86_400 });
    assert.deepEqual(t.codeRequestPrefix, { points: 100, durationSec: 3600 });
    assert.deepEqual(t.codeRequestTotal, { points: 10_000, durationSec: 86_400 });
  });

  it('grow with codeRequestsPerHour unless set', () => {
    const t = limiterTable(
      loadConfig({ overrides: { codeRequestsPerHour: 50, codeRequestsPerDayTotal: 7 } }),
    );
    assert.equal(t.codeRequestPrefix.points, 500);
    assert.equal(t.codeRequestTotal.points, 7);
  });
});

const url = process.env.PARLEY_TEST_REDIS_URL;
if (!url) console.log('# skipping shared rate-limit counters: PARLEY_TEST_REDIS_URL is not set');

describe('rate limiters shared through Redis', {
  skip: url ? false : 'PARLEY_TEST_REDIS_URL is not set',
}, () => {
  let a: Redis;
  let b: Redis;
  before(() => {
    a = new Redis(url!);
    b = new Redis(url!);
  });
  after(async () => {
    a.disconnect();
    b.disconnect();
  });

  it('two nodes draw from the same counters', async () => {
    const key = `t-${randomBytes(6).toString('hex')}`;
    const n1 = new Limiters(config, a);
    const n2 = new Limiters(config, b);
    await n1.take('discover', key);
    await n2.take('discover', key);
    await n1.take('discover', key);
    await assert.rejects(n2.take('discover', key), { code: 'RATE_LIMITED' });
    await a.del(`parley:rl:discover:${key}`);
  });

  it('two nodes draw from the same code budgets per prefix and for the deployment', async () => {
    const run = randomBytes(6).toString('hex');
    const shared = loadConfig({ overrides: { codeRequestsPerPrefixPerHour: 2, codeRequestsPerDayTotal: 3 } });
    const n1 = new Limiters(shared, a);
    const n2 = new Limiters(shared, b);
    await n1.take('codeRequestPrefix', `+1${run}`);
    await n2.take('codeRequestPrefix', `+1${run}`);
    await assert.rejects(n1.take('codeRequestPrefix', `+1${run}`), { code: 'RATE_LIMITED' });
    for (const n of [n1, n2, n1]) await n.take('codeRequestTotal', run);
    await assert.rejects(n2.take('codeRequestTotal', run), { code: 'RATE_LIMITED' });
    await a.del(`parley:rl:codeRequestPrefix:+1${run}`, `parley:rl:codeRequestTotal:${run}`);
  });

  it('fall back to memory while Redis cannot be reached', async () => {
    const down = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    down.on('error', () => {});
    const l = new Limiters(config, down);
    for (let i = 0; i < 3; i++) await l.take('discover', 'u');
    await assert.rejects(l.take('discover', 'u'), { code: 'RATE_LIMITED' });
    down.disconnect();
  });
});
