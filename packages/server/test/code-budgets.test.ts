/**
 * What keeps SMS pumping from running up the bill, as a client sees it over HTTP: no code for
 * premium-rate, shared-cost or satellite numbers, and daily, per-prefix and deployment-wide
 * budgets on top of the hourly per-number one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigInput } from '../src/config/schema.js';
import { http, nextPhone, startNode, type TestNode } from './harness.js';

const requestCode = (t: TestNode, phone: string) => http(`${t.url}/v1/auth/code`, 'POST', { phone });

async function withNode(config: ConfigInput, body: (t: TestNode) => Promise<void>): Promise<void> {
  // The per-IP budget (10 x codeRequestsPerHour) is not under test: every request is from 127.0.0.1.
  const t = await startNode({ codeRequestsPerHour: 100, ...config });
  try {
    await body(t);
  } finally {
    await t.stop();
  }
}

describe('code requests', () => {
  it('refuse premium-rate, shared-cost, personal and satellite numbers with PHONE_TYPE_NOT_ALLOWED', () =>
    withNode({}, async (t) => {
      for (const phone of [
        '+19005550123',
        '+33810123456',
        '+447012345678',
        '+8821612345678',
        '+881612345678',
      ]) {
        const r = await requestCode(t, phone);
        assert.equal(r.status, 400, phone);
        assert.equal(r.body.error.code, 'PHONE_TYPE_NOT_ALLOWED', phone);
        assert.equal(t.sms.codes.has(phone), false, `no code was sent to ${phone}`);
      }
      assert.match((await requestCode(t, '+19005550123')).body.error.message, /premium rate/);
      assert.equal((await requestCode(t, '+447400123456')).status, 200);
    }));

  it('send to every number type when smsBlockedNumberTypes is NONE', () =>
    withNode({ smsBlockedNumberTypes: 'NONE' }, async (t) => {
      assert.equal((await requestCode(t, '+19005550123')).status, 200);
      assert.ok(t.sms.codes.has('+19005550123'));
    }));

  it('stop at codeRequestsPerDay for one number, with a retry time beyond the hour', () =>
    withNode({ codeRequestsPerDay: 3, codeResendMs: 0 }, async (t) => {
      const phone = nextPhone();
      for (let i = 0; i < 3; i++) assert.equal((await requestCode(t, phone)).status, 200);
      const r = await requestCode(t, phone);
      assert.equal(r.status, 429);
      assert.equal(r.body.error.code, 'RATE_LIMITED');
      assert.ok(r.body.error.retryAfterMs > 3_600_000, `retry after ${r.body.error.retryAfterMs} ms`);
      assert.equal((await requestCode(t, nextPhone())).status, 200, 'another number still gets a code');
    }));

  it('stop at codeRequestsPerPrefixPerHour for numbers sharing their first characters', () =>
    withNode({ codeRequestsPerPrefixPerHour: 3 }, async (t) => {
      // nextPhone() numbers all start +14152.
      for (let i = 0; i < 3; i++) assert.equal((await requestCode(t, nextPhone())).status, 200);
      const phone = nextPhone();
      const r = await requestCode(t, phone);
      assert.equal(r.status, 429);
      assert.equal(r.body.error.code, 'RATE_LIMITED');
      assert.equal(t.sms.codes.has(phone), false);
      assert.equal((await requestCode(t, '+447400123456')).status, 200, 'another prefix still gets codes');
    }));

  it('stop at codeRequestsPerDayTotal for the whole deployment', () =>
    withNode({ codeRequestsPerDayTotal: 2 }, async (t) => {
      assert.equal((await requestCode(t, nextPhone())).status, 200);
      assert.equal((await requestCode(t, '+447400123456')).status, 200);
      const r = await requestCode(t, '+4915112345678');
      assert.equal(r.status, 429);
      assert.equal(r.body.error.code, 'RATE_LIMITED');
    }));
});
