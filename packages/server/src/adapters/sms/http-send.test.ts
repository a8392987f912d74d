import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ParleyError } from '@parley/protocol';
import { capturingLogger, FakeSmsProvider } from '../../../test/fake-sms-provider.js';
import { type SmsRetryPolicy, sendSmsOverHttp } from './http-send.js';

const policy: SmsRetryPolicy = { timeoutMs: 1000, retries: 2, backoffMs: 50, deadlineMs: 5000 };

describe('an SMS sent over HTTP', () => {
  let fake: FakeSmsProvider;
  before(async () => {
    fake = await FakeSmsProvider.start();
  });
  after(() => fake.close());

  const send = (p: Partial<SmsRetryPolicy> = {}, log = capturingLogger().log) =>
    sendSmsOverHttp(
      (attempt) => ({ url: `${fake.url}/send`, method: 'POST', headers: {}, body: `try ${attempt}` }),
      {
        provider: 'test',
        policy: { ...policy, ...p },
        log,
      },
    );
  const reset = (...answers: FakeSmsProvider['answers']) => {
    fake.requests.length = 0;
    fake.answers = answers;
  };
  const rejectsWith = async (p: Promise<void>, code: string) => {
    const err = await p.then(
      () => assert.fail('the send succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ParleyError, String(err));
    assert.equal(err.code, code);
    return err;
  };

  it('is refused with SMS_DELIVERY_FAILED after one try when the provider answers 4xx', async () => {
    reset({ status: 400, body: '{"message":"bad number"}' });
    const err = await rejectsWith(send(), 'SMS_DELIVERY_FAILED');
    assert.match(err.message, /refused.*HTTP 400/);
    assert.equal(fake.requests.length, 1, 'a 4xx is never retried');
  });

  it('is retried after 5xx answers with a doubling wait, and succeeds when one is accepted', async () => {
    reset({ status: 500 }, { status: 503 }, { status: 201 });
    await send({ backoffMs: 60 });
    assert.deepEqual(
      fake.requests.map((r) => r.body),
      ['try 0', 'try 1', 'try 2'],
    );
    const [a, b, c] = fake.requests.map((r) => r.at);
    assert.ok(b! - a! >= 55, `first wait ${b! - a!} ms`);
    assert.ok(c! - b! >= 115, `second wait ${c! - b!} ms`);
  });

  it('fails UNAVAILABLE after smsRetries retries of a provider that keeps failing', async () => {
    reset({ status: 502 });
    const err = await rejectsWith(send({ retries: 3, backoffMs: 1 }), 'UNAVAILABLE');
    assert.equal(fake.requests.length, 4);
    assert.equal(err.details?.maybeSent, false);
    assert.match(err.message, /HTTP 502/);
  });

  it('cuts off a provider that does not answer, and says the SMS may have gone out', async () => {
    reset('hang');
    const t0 = performance.now();
    const err = await rejectsWith(send({ timeoutMs: 150, retries: 1, backoffMs: 10 }), 'UNAVAILABLE');
    const took = performance.now() - t0;
    assert.equal(fake.requests.length, 2, 'a timeout is retried');
    assert.ok(took >= 300 && took < 2000, `took ${took} ms`);
    assert.equal(err.details?.maybeSent, true);
  });

  it('answers within the deadline whatever the timeout and retries', async () => {
    reset('hang');
    const t0 = performance.now();
    await rejectsWith(
      send({ timeoutMs: 10_000, retries: 10, backoffMs: 10, deadlineMs: 400 }),
      'UNAVAILABLE',
    );
    const took = performance.now() - t0;
    assert.ok(took >= 390 && took < 1500, `took ${took} ms`);
  });

  it('does not retry a provider that throttles (429) and passes its Retry-After on', async () => {
    reset({ status: 429, headers: { 'retry-after': '7' } });
    const err = await rejectsWith(send(), 'UNAVAILABLE');
    assert.equal(fake.requests.length, 1);
    assert.equal(err.retryAfterMs, 7000);
  });

  it('treats a dropped connection as maybe sent, and a refused connection as surely not', async () => {
    reset('drop');
    const dropped = await rejectsWith(send({ retries: 0 }), 'UNAVAILABLE');
    assert.equal(dropped.details?.maybeSent, true);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await rejectsWith(
      sendSmsOverHttp(() => ({ url: `http://127.0.0.1:${port}/`, method: 'POST', headers: {} }), {
        provider: 'test',
        policy: { ...policy, backoffMs: 1 },
        log: capturingLogger().log,
      }),
      'UNAVAILABLE',
    );
    assert.equal(refused.details?.maybeSent, false);
    assert.match(refused.message, /ECONNREFUSED/);
  });

  it('logs statuses, never the request or the answer', async () => {
    reset({ status: 503, body: '{"echo":"+14155550100 code 123456"}' }, { status: 400, body: '"123456"' });
    const { log, lines } = capturingLogger();
    await rejectsWith(
      sendSmsOverHttp(
        () => ({ url: `${fake.url}/send?to=%2B14155550100`, method: 'POST', headers: {}, body: '123456' }),
        { provider: 'test', policy: { ...policy, backoffMs: 1 }, log },
      ),
      'SMS_DELIVERY_FAILED',
    );
    assert.equal(lines.length, 2, lines.join(''));
    for (const line of lines) {
      assert.doesNotMatch(line, /123456|4155550100/);
      assert.match(line, /"status":(503|400)/);
    }
  });
});
