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

  it('a refused take uses up nothing: what is left can still be taken', async () => {
    const l = new Limiters(
      loadConfig({ overrides: { mediaBytesPerHour: 10_000, sendsPerMinute: 2, sendBurst: 1 } }),
    );
    await l.take('mediaBytes', 'u1', 6_000);
    await assert.rejects(l.take('mediaBytes', 'u1', 5_000), { code: 'RATE_LIMITED' });
    await assert.rejects(l.take('mediaBytes', 'u1', 5_000), { code: 'RATE_LIMITED' });
    await l.take('mediaBytes', 'u1', 4_000);
    await assert.rejects(l.take('mediaBytes', 'u1', 1), { code: 'RATE_LIMITED' }, 'and then no more');
    // With a burst allowance, a take refused by both leaves both as they were.
    for (let i = 0; i < 3; i++) await l.take('send', 'u1');
    await assert.rejects(l.take('send', 'u1'), { code: 'RATE_LIMITED' });
    await assert.rejects(l.take('send', 'u1'), { code: 'RATE_LIMITED' });
  });
});

describe('the limits as the design states them', () => {
  it('default to what docs/operations.md and docs/protocol.md say', () => {
    const t = limiterTable(loadConfig({}));
    assert.deepEqual(t.send, { points: 100, durationSec: 60, burst: { points: 50, durationSec: 600 } });
    assert.deepEqual(t.groupCreate, { points: 10, durationSec: 3600 });
    assert.deepEqual(t.mediaBytes, { points: 4 * 1024 ** 3, durationSec: 3600 });
    assert.deepEqual(t.mediaUploads, { points: 50, durationSec: 3600 });
    assert.deepEqual(t.discover, { points: 60, durationSec: 60 });
    assert.equal(loadConfig({}).discoverNewPerDay, 500);
    assert.deepEqual(t.codeRequestPhone, { points: 3, durationSec: 3600 });
    assert.deepEqual(t.codeRequestPhoneDay, { points: 20, durationSec: 86_400 });
    assert.deepEqual(t.codeRequestIp, { points: 100, durationSec: 3600 });
    assert.deepEqual(t.codeRequestPrefix, { points: 100, durationSec: 3600 });
    assert.deepEqual(t.codeRequestTotal, { points: 10_000, durationSec: 86_400 });
    assert.deepEqual(t.registrationIp, { points: 10, durationSec: 86_400 });
  });

  it('each is set by its own setting', () => {
    const t = limiterTable(
      loadConfig({
        overrides: {
          sendsPerMinute: 7,
          sendBurst: 2,
          groupsPerHour: 3,
          codeRequestsPerHour: 50,
          codeRequestsPerIpPerHour: 9,
          codeRequestsPerDayTotal: 7,
          registrationsPerIpPerDay: 4,
          mediaUploadsPerHour: 5,
        },
      }),
    );
    assert.deepEqual(
      [t.send.points, t.send.burst.points, t.groupCreate.points, t.codeRequestPhone.points],
      [7, 2, 3, 50],
    );
    assert.deepEqual(
      [t.codeRequestIp.points, t.codeRequestTotal.points, t.registrationIp.points, t.mediaUploads.points],
      [9, 7, 4, 5],
    );
  });
});

describe('a bursty limiter', () => {
  it('passes the window, then the burst allowance, then answers with the nearer retry time', async () => {
    const l = new Limiters(loadConfig({ overrides: { sendsPerMinute: 3, sendBurst: 2 } }));
    for (let i = 0; i < 5; i++) await l.take('send', 'u1');
    await assert.rejects(l.take('send', 'u1'), (err: { code: string; retryAfterMs: number }) => {
      assert.equal(err.code, 'RATE_LIMITED');
      assert.ok(err.retryAfterMs > 0 && err.retryAfterMs <= 60_000, `retry after ${err.retryAfterMs}`);
      return true;
    });
  });

  it('with sendBurst 0 passes exactly the window', async () => {
    const l = new Limiters(loadConfig({ overrides: { sendsPerMinute: 3, sendBurst: 0 } }));
    for (let i = 0; i < 3; i++) await l.take('send', 'u1');
    await assert.rejects(l.take('send', 'u1'), { code: 'RATE_LIMITED' });
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

  it('concurrent takes on two nodes pass exactly the window and the burst', async () => {
    const key = `t-${randomBytes(6).toString('hex')}`;
    const bursty = loadConfig({ overrides: { sendsPerMinute: 20, sendBurst: 5 } });
    const n1 = new Limiters(bursty, a);
    const n2 = new Limiters(bursty, b);
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? n1 : n2).take('send', key)),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 25);
    await a.del(`parley:rl:send:${key}`, `parley:rl:send:burst:${key}`);
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
