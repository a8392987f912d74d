import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParleyError } from '@parley/protocol';
import { MemoryKeyValueStore } from '../crypto/memory-store.js';
import { ManualTimers } from '../testing/manual-timers.js';
import { decodeEnvelope, encodeEnvelope } from './content.js';
import { type FailedMessage, RETRY_EVERY_MS, RetryBook } from './retries.js';

const DAY = 86_400_000;

function book(answer: (chatId: string, seq: number) => Promise<void> = async () => {}) {
  const timers = new ManualTimers(1_000_000);
  const asked: string[] = [];
  const errors: Error[] = [];
  let connected = true;
  const b = new RetryBook({
    kv: new MemoryKeyValueStore(),
    timers,
    windowMs: 7 * DAY,
    request: (chatId, seq) => {
      asked.push(`${chatId}/${seq}`);
      return answer(chatId, seq);
    },
    isConnected: () => connected,
    error: (e) => void errors.push(e),
  });
  return { b, timers, asked, errors, setConnected: (v: boolean) => (connected = v) };
}

const failedMessage = (chatId: string, seq: number): FailedMessage => ({
  chatId,
  seq,
  senderUserId: 'u_a',
  senderDeviceId: 'd_a',
  clientMessageId: `m${seq}`,
  serverTime: 5,
  meta: { type: 'message', refSeq: 0, reaction: '', mentions: [], forwardCount: 0 },
  forwardedMany: false,
  deleted: false,
});

const settle = () => new Promise((r) => setImmediate(r));

test('RetryBook: keeps what was sent for the window, without the sender key, then forgets it', async () => {
  const { b, timers } = book();
  await b.sent('c1', 7, { text: 'hi', senderKey: new Uint8Array([1, 2]) }, true);
  assert.deepEqual(await b.sentContent('c1', 7), { content: { text: 'hi' }, group: true });
  assert.equal(await b.sentContent('c1', 8), undefined);
  timers.advance(7 * DAY + 1);
  assert.equal(await b.sentContent('c1', 7), undefined, 'too old to send again');
});

test('RetryBook: a failure is asked for at once, again on reconnect and on the timer, until resolved', async () => {
  const { b, timers, asked } = book();
  await b.failed(failedMessage('c1', 3));
  assert.deepEqual(asked, ['c1/3']);
  assert.deepEqual((await b.waiting('c1', 3))?.clientMessageId, 'm3');
  await b.connected();
  assert.deepEqual(asked, ['c1/3', 'c1/3']);
  timers.advance(RETRY_EVERY_MS);
  await settle();
  assert.equal(asked.length, 3);
  await b.resolved('c1', 3);
  assert.equal(await b.pending(), 0);
  timers.advance(RETRY_EVERY_MS);
  await settle();
  assert.equal(asked.length, 3, 'nothing left to ask for');
});

test('RetryBook: gives up after the window; forgets what the server no longer has', async () => {
  const gone = new ParleyError('NOT_FOUND', 'no such message');
  const { b, timers, asked, errors } = book(async (_c, seq) => {
    if (seq === 9) throw gone;
  });
  await b.failed(failedMessage('c1', 9));
  assert.equal(await b.pending(), 0, 'deleted or expired on the server: forgotten');
  await b.failed(failedMessage('c1', 4));
  timers.advance(7 * DAY + 1);
  await settle(); // the passes the timer started while time moved
  await b.connected();
  assert.equal(await b.pending(), 0, 'older than the window: forgotten');
  assert.deepEqual(asked.slice(0, 2), ['c1/9', 'c1/4']);
  assert.deepEqual(errors, []);
});

test('RetryBook: offline requests wait for the next pass without reporting errors', async () => {
  const { b, asked, errors, setConnected } = book(async () => {
    throw new ParleyError('UNAVAILABLE', 'offline');
  });
  setConnected(false);
  await b.failed(failedMessage('c1', 2));
  assert.equal(await b.pending(), 1);
  assert.deepEqual([asked.length, errors], [1, []]);
  b.stop();
});

test('envelopes carry which message a resend belongs to, and refuse a malformed one', () => {
  const e = decodeEnvelope(encodeEnvelope({ text: 'x', resendOf: { chatId: 'c_1', seq: 12 } }));
  assert.deepEqual(e, { text: 'x', resendOf: { chatId: 'c_1', seq: 12 } });
  const bad = new TextEncoder().encode(JSON.stringify({ v: 1, t: 'x', r: ['c_1', 'twelve'] }));
  assert.throws(() => decodeEnvelope(bad), { code: 'INVALID_ARGUMENT' });
});
