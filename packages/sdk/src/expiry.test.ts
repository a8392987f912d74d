/**
 * ExpiryTracker with a clock moved by hand: one timer for the earliest expiry, `expired`
 * once per message in time order, forget/re-track, timers longer than setTimeout allows.
 * The client's own tracker (fed by deliveries) runs against a real node in
 * packages/server/test/sdk-pins-expiry.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParleyClient } from './client.js';
import { ExpiryTracker, MAX_TIMER_MS } from './expiry.js';
import { ManualTimers } from './testing/manual-timers.js';
import type { ExpiredInfo } from './types.js';

function tracked(timers: ManualTimers) {
  const tracker = new ExpiryTracker(timers);
  const expired: ExpiredInfo[] = [];
  tracker.on('expired', (e) => {
    expired.push(e);
  });
  return { tracker, expired };
}

test('emits expired once per message when its time comes, earliest first, with one timer', () => {
  const timers = new ManualTimers();
  const { tracker, expired } = tracked(timers);
  const t0 = timers.t;
  assert.equal(tracker.track({ chatId: 'c1', seq: 2, expiresAt: t0 + 2000 }), true);
  assert.equal(tracker.track({ chatId: 'c1', seq: 1, expiresAt: t0 + 1000 }), true);
  assert.equal(tracker.track({ chatId: 'c2', seq: 1, expiresAt: t0 + 2000 }), true);
  // No expiry: not followed.
  assert.equal(tracker.track({ chatId: 'c1', seq: 3 }), false);
  assert.equal(tracker.track({ chatId: 'c1', seq: 4, expiresAt: 0 }), false);
  assert.equal(tracker.size, 3);
  assert.equal(timers.due.size, 1);
  assert.equal(tracker.expiresAt('c1', 2), t0 + 2000);

  timers.advance(999);
  assert.deepEqual(expired, []);
  timers.advance(1);
  assert.deepEqual(expired, [{ chatId: 'c1', seq: 1 }]);
  timers.advance(1000);
  assert.deepEqual(expired.slice(1), [
    { chatId: 'c1', seq: 2 },
    { chatId: 'c2', seq: 1 },
  ]);
  assert.equal(tracker.size, 0);
  assert.equal(tracker.expiresAt('c1', 2), undefined);
  assert.equal(timers.due.size, 0);
  timers.advance(1_000_000);
  assert.equal(expired.length, 3);
});

test('a message already past its time expires on the next tick, not synchronously', () => {
  const timers = new ManualTimers();
  const { tracker, expired } = tracked(timers);
  tracker.track({ chatId: 'c1', seq: 7, expiresAt: timers.t - 5 });
  assert.deepEqual(expired, []);
  timers.advance(0);
  assert.deepEqual(expired, [{ chatId: 'c1', seq: 7 }]);
});

test('forget drops a message; tracking again moves its time', () => {
  const timers = new ManualTimers();
  const { tracker, expired } = tracked(timers);
  const t0 = timers.t;
  tracker.track({ chatId: 'c1', seq: 1, expiresAt: t0 + 100 });
  tracker.track({ chatId: 'c1', seq: 2, expiresAt: t0 + 100 });
  assert.equal(tracker.forget('c1', 1), true);
  assert.equal(tracker.forget('c1', 1), false);
  tracker.track({ chatId: 'c1', seq: 2, expiresAt: t0 + 500 });
  timers.advance(100);
  assert.deepEqual(expired, []);
  tracker.track({ chatId: 'c1', seq: 3, expiresAt: t0 + 200 });
  timers.advance(100);
  assert.deepEqual(expired, [{ chatId: 'c1', seq: 3 }]);
  timers.advance(300);
  assert.deepEqual(expired, [
    { chatId: 'c1', seq: 3 },
    { chatId: 'c1', seq: 2 },
  ]);
});

test('expiries beyond the longest setTimeout are reached in capped steps', () => {
  const timers = new ManualTimers();
  const { tracker, expired } = tracked(timers);
  const ninetyDays = 90 * 86_400_000;
  tracker.track({ chatId: 'c1', seq: 1, expiresAt: timers.t + ninetyDays });
  assert.equal([...timers.due.values()][0]?.ms, MAX_TIMER_MS);
  timers.advance(ninetyDays - 1);
  assert.deepEqual(expired, []);
  timers.advance(1);
  assert.deepEqual(expired, [{ chatId: 'c1', seq: 1 }]);
});

test('a listener that throws does not stop the others; dispose stops the timer silently', () => {
  const timers = new ManualTimers();
  const { tracker, expired } = tracked(timers);
  tracker.on('expired', () => {
    throw new Error('app bug');
  });
  tracker.track({ chatId: 'c1', seq: 1, expiresAt: timers.t + 10 });
  tracker.track({ chatId: 'c1', seq: 2, expiresAt: timers.t + 10 });
  timers.advance(10);
  assert.equal(expired.length, 2);
  tracker.track({ chatId: 'c1', seq: 3, expiresAt: timers.t + 10 });
  tracker.dispose();
  assert.equal(timers.due.size, 0);
  assert.equal(tracker.size, 0);
  timers.advance(100);
  assert.equal(expired.length, 2);
});

test('the client re-emits its tracker’s expired events, on its injected clock', async () => {
  const timers = new ManualTimers();
  const client = new ParleyClient({
    credentials: { serverUrl: 'http://127.0.0.1:1', userId: 'u1', deviceId: 'd1', token: 't', primary: true },
    timers,
  });
  const expired: ExpiredInfo[] = [];
  client.on('expired', (e) => {
    expired.push(e);
  });
  client.expiry.track({ chatId: 'c1', seq: 4, expiresAt: timers.t + 60_000 });
  timers.advance(60_000);
  assert.deepEqual(expired, [{ chatId: 'c1', seq: 4 }]);
  // Closing stops the tracker.
  client.expiry.track({ chatId: 'c1', seq: 5, expiresAt: timers.t + 60_000 });
  await client.close();
  assert.equal(client.expiry.size, 0);
  assert.equal(timers.due.size, 0);
});
