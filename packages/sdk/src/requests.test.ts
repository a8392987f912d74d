import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeFrame, ParleyError, type Error as ProtoError } from '@parley/protocol';
import { errorFromFrame, InFlight, resultOf } from './requests.js';

function wireError(init: {
  code: string;
  message: string;
  retryAfterMs?: number;
  deviceMismatch?: { missingDeviceIds?: string[] };
}): ProtoError {
  const frame = makeFrame({ body: { case: 'error', value: init } });
  if (frame.body.case !== 'error') throw new Error('unreachable');
  return frame.body.value;
}

test('an error frame becomes a ParleyError with retryAfterMs and deviceMismatch details', () => {
  const err = errorFromFrame(
    wireError({
      code: 'DEVICE_MISMATCH',
      message: 'devices changed',
      retryAfterMs: 0,
      deviceMismatch: { missingDeviceIds: ['d9'] },
    }),
  );
  assert.equal(err.code, 'DEVICE_MISMATCH');
  assert.equal(err.retryAfterMs, undefined);
  assert.deepEqual(
    (err.details?.deviceMismatch as { missingDeviceIds: string[] } | undefined)?.missingDeviceIds,
    ['d9'],
  );
  const limited = errorFromFrame(
    wireError({ code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: 1500 }),
  );
  assert.equal(limited.retryAfterMs, 1500);
  assert.equal(limited.retryable, true);
});

test('an unknown error code from a newer server becomes INTERNAL and keeps the code in the message', () => {
  const err = errorFromFrame(wireError({ code: 'SOMETHING_NEW', message: 'hm' }));
  assert.equal(err.code, 'INTERNAL');
  assert.match(err.message, /SOMETHING_NEW/);
});

test('resultOf returns the expected body and throws on an error or another body', () => {
  const pong = makeFrame({ id: 3, body: { case: 'pong', value: { serverTime: 5n } } });
  assert.equal(resultOf(pong, 'pong').serverTime, 5n);
  assert.throws(() => resultOf(pong, 'chatList'), { code: 'INTERNAL' });
  const error = makeFrame({ id: 3, body: { case: 'error', value: { code: 'NOT_A_MEMBER', message: 'no' } } });
  assert.throws(() => resultOf(error, 'pong'), { code: 'NOT_A_MEMBER' });
});

test('each request is settled exactly once: by its answer, a drop or a timeout', async () => {
  const timedOut: number[] = [];
  const table = new InFlight(20, (id) => timedOut.push(id));
  const log: string[] = [];
  const a = table.register({
    answer: (f) => log.push(`a answered ${f.id}`),
    drop: () => log.push('a dropped'),
  });
  const b = table.register({
    answer: () => log.push('b answered'),
    drop: (e) => log.push(`b dropped ${e.code}`),
  });
  assert.notEqual(a, b);
  assert.equal(table.settle(makeFrame({ id: a })), true);
  assert.equal(table.settle(makeFrame({ id: a })), false, 'a second answer is ignored');
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(timedOut, [b]);
  table.dropAll(new ParleyError('UNAVAILABLE', 'gone'));
  table.dropAll(new ParleyError('UNAVAILABLE', 'gone'));
  assert.deepEqual(log, [`a answered ${a}`, 'b dropped UNAVAILABLE']);
  assert.equal(table.size, 0);
});
