import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParleyError } from '@parley/protocol';
import { minReconnectDelay, ReconnectTimer, terminalError } from './reconnect.js';

test('4001 and 4003 stop the client; other closes do not', () => {
  assert.equal(terminalError({ code: 4001, reason: '' })?.code, 'UNAUTHENTICATED');
  assert.equal(terminalError({ code: 4003, reason: '' })?.details?.closeCode, 4003);
  for (const code of [1000, 1001, 1006, 1008, 1009, 1011, 4000, 4008]) {
    assert.equal(terminalError({ code, reason: '' }), undefined, `close ${code}`);
  }
});

test('a refused handshake stops the client unless its error is retryable', () => {
  const refused = (code: 'UNAUTHENTICATED' | 'UNSUPPORTED_VERSION' | 'RATE_LIMITED' | 'UNAVAILABLE') =>
    terminalError({ code: 1006, reason: '', refused: new ParleyError(code, 'x') })?.code;
  assert.equal(refused('UNAUTHENTICATED'), 'UNAUTHENTICATED');
  assert.equal(refused('UNSUPPORTED_VERSION'), 'UNSUPPORTED_VERSION');
  assert.equal(refused('RATE_LIMITED'), undefined);
  assert.equal(refused('UNAVAILABLE'), undefined);
});

test('retryAfterMs and policy closes set a least delay', () => {
  const limited = new ParleyError('RATE_LIMITED', 'x', { retryAfterMs: 1234 });
  assert.equal(minReconnectDelay({ code: 1006, reason: '', refused: limited }), 1234);
  assert.equal(minReconnectDelay({ code: 1008, reason: '' }, { maxMs: 9000 }), 9000);
  assert.equal(minReconnectDelay({ code: 1006, reason: '' }), 0);
});

test('retry delays grow with attempts and restart after reset', async () => {
  const timer = new ReconnectTimer({ initialMs: 100, maxMs: 1000 }, () => 0.999);
  const delays = [0, 1, 2, 3, 4].map(() => timer.schedule(() => {}));
  timer.cancel();
  assert.deepEqual(delays, [99, 199, 399, 799, 999]);
  timer.reset();
  assert.equal(
    timer.schedule(() => {}),
    99,
  );
  assert.equal(timer.pending, true);
  timer.cancel();
  assert.equal(timer.pending, false);
});
