import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypedEmitter } from './emitter.js';
import type { ClientEvents } from './options.js';
import { ManualTimers } from './testing/manual-timers.js';
import type { ReceivedMessage, TypingInfo } from './types.js';
import { type Timers, TypingNotifier, TypingTracker } from './typing.js';

function tracked(timers: ManualTimers) {
  const tracker = new TypingTracker(timers);
  const log: string[] = [];
  tracker.on('start', (chatId, userId) => {
    log.push(`start ${chatId} ${userId}`);
  });
  tracker.on('stop', (chatId, userId, reason) => {
    log.push(`stop ${chatId} ${userId} ${reason}`);
  });
  return { tracker, log };
}

const composing = (timers: Timers, chatId: string, userId: string, ms = 10_000): TypingInfo => ({
  chatId,
  userId,
  state: 'composing',
  expiresAt: timers.now() + ms,
});
const paused = (timers: Timers, chatId: string, userId: string): TypingInfo => ({
  chatId,
  userId,
  state: 'paused',
  expiresAt: timers.now(),
});

test('a composing event shows the user as typing until its time runs out', () => {
  const timers = new ManualTimers();
  const { tracker, log } = tracked(timers);
  tracker.update(composing(timers, 'c1', 'u2'));
  assert.deepEqual(tracker.typingIn('c1'), ['u2']);
  assert.equal(tracker.isTyping('c1', 'u2'), true);
  assert.deepEqual(tracker.typingIn('c2'), []);
  timers.advance(9_999);
  assert.deepEqual(tracker.typingIn('c1'), ['u2']);
  timers.advance(1);
  assert.deepEqual(tracker.typingIn('c1'), []);
  assert.deepEqual(log, ['start c1 u2', 'stop c1 u2 expired']);
  assert.equal(timers.timers, 0);
});

test('renewed composing extends the time without a second start', () => {
  const timers = new ManualTimers();
  const { tracker, log } = tracked(timers);
  tracker.update(composing(timers, 'c1', 'u2'));
  timers.advance(3_000);
  tracker.update(composing(timers, 'c1', 'u2'));
  timers.advance(9_000); // 12 s after the first event, 9 s after the renewal
  assert.deepEqual(tracker.typingIn('c1'), ['u2']);
  timers.advance(1_000);
  assert.deepEqual(tracker.typingIn('c1'), []);
  assert.deepEqual(log, ['start c1 u2', 'stop c1 u2 expired']);
});

test('paused and a message from that user end it at once; others keep typing', () => {
  const timers = new ManualTimers();
  const { tracker, log } = tracked(timers);
  const changes: [string, string[]][] = [];
  tracker.on('change', (chatId, userIds) => {
    changes.push([chatId, userIds]);
  });
  tracker.update(composing(timers, 'g', 'u2'));
  tracker.update(composing(timers, 'g', 'u3'));
  tracker.update(composing(timers, 'd', 'u2'));
  assert.deepEqual(tracker.typingIn('g'), ['u2', 'u3']);
  tracker.update(paused(timers, 'g', 'u2'));
  tracker.messageFrom('g', 'u3');
  tracker.messageFrom('g', 'u9'); // nobody: nothing happens
  tracker.update(paused(timers, 'g', 'u9'));
  assert.deepEqual(tracker.typingIn('g'), []);
  assert.deepEqual(tracker.typingIn('d'), ['u2']);
  assert.deepEqual(log, ['start g u2', 'start g u3', 'start d u2', 'stop g u2 paused', 'stop g u3 message']);
  assert.deepEqual(changes, [
    ['g', ['u2']],
    ['g', ['u2', 'u3']],
    ['d', ['u2']],
    ['g', ['u3']],
    ['g', []],
  ]);
  // After a stop, the next composing is a new start.
  tracker.update(composing(timers, 'g', 'u2'));
  assert.equal(log.at(-1), 'start g u2');
});

test('one timer serves every entry, always for the earliest expiry', () => {
  const timers = new ManualTimers();
  const { tracker, log } = tracked(timers);
  tracker.update(composing(timers, 'c1', 'a', 10_000));
  tracker.update(composing(timers, 'c2', 'b', 4_000));
  assert.equal(timers.timers, 1);
  timers.advance(4_000);
  assert.deepEqual(log.slice(-1), ['stop c2 b expired']);
  assert.equal(timers.timers, 1);
  timers.advance(6_000);
  assert.deepEqual(log.slice(-1), ['stop c1 a expired']);
  assert.equal(timers.timers, 0);
});

test('an event already expired on arrival is ignored; clear and dispose forget everyone', () => {
  const timers = new ManualTimers();
  const { tracker, log } = tracked(timers);
  tracker.update({ chatId: 'c1', userId: 'u2', state: 'composing', expiresAt: timers.now() });
  assert.deepEqual(log, []);
  tracker.update(composing(timers, 'c1', 'u2'));
  tracker.update(composing(timers, 'c2', 'u3'));
  tracker.clear();
  assert.deepEqual(log.slice(1), ['start c2 u3', 'stop c1 u2 cleared', 'stop c2 u3 cleared']);
  tracker.update(composing(timers, 'c1', 'u2'));
  tracker.dispose();
  assert.deepEqual(tracker.typingIn('c1'), []);
  assert.equal(timers.timers, 0);
});

class FakeClient extends TypedEmitter<ClientEvents> {
  fire<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]): void {
    this.emit(event, ...args);
  }
}

test('attach follows typing events, messages and disconnections of a client', () => {
  const timers = new ManualTimers();
  const { tracker, log } = tracked(timers);
  const client = new FakeClient();
  const detach = tracker.attach(client);
  client.fire('typing', composing(timers, 'c1', 'u2'));
  const message: ReceivedMessage = {
    chatId: 'c1',
    seq: 5,
    senderUserId: 'u2',
    senderDeviceId: 'd2',
    clientMessageId: 'm',
    serverTime: 1,
    payload: new Uint8Array([1]),
    meta: { type: 'message', refSeq: 0, reaction: '', mentions: [], forwardCount: 0 },
    forwardedMany: false,
    deleted: false,
  };
  client.fire('message', message);
  client.fire('typing', composing(timers, 'c1', 'u3'));
  client.fire('disconnected', { code: 1006, reason: '', willReconnect: true });
  detach();
  client.fire('typing', composing(timers, 'c1', 'u4'));
  assert.deepEqual(log, ['start c1 u2', 'stop c1 u2 message', 'start c1 u3', 'stop c1 u3 cleared']);
});

function notifier(timers: ManualTimers) {
  const sent: string[] = [];
  const n = new TypingNotifier({
    timers,
    send: (chatId, state) => {
      sent.push(`${timers.now() - 1_000_000} ${chatId} ${state}`);
    },
  });
  return { n, sent };
}

test('keystrokes send composing at most every 3 s, then paused after 5 s idle', () => {
  const timers = new ManualTimers();
  const { n, sent } = notifier(timers);
  for (let i = 0; i < 35; i++) {
    n.keystroke('c1'); // a keystroke every 200 ms for 7 s
    timers.advance(200);
  }
  assert.equal(n.composingIn, 'c1');
  timers.advance(4_799); // 5 s after the last keystroke, at 6.8 + 5 = 11.8 s
  assert.equal(sent.length, 3);
  timers.advance(1);
  assert.deepEqual(sent, ['0 c1 composing', '3000 c1 composing', '6000 c1 composing', '11800 c1 paused']);
  assert.equal(n.composingIn, undefined);
  assert.equal(timers.timers, 0);
});

test('stop (line sent) sends paused once, and only after composing; a new chat pauses the old', () => {
  const timers = new ManualTimers();
  const { n, sent } = notifier(timers);
  n.stop();
  assert.deepEqual(sent, []);
  n.keystroke('c1');
  timers.advance(1_000);
  n.stop();
  n.stop();
  n.keystroke('c1'); // typing the next line: composing again at once
  n.keystroke('c2');
  n.dispose();
  timers.advance(10_000);
  assert.deepEqual(sent, [
    '0 c1 composing',
    '1000 c1 paused',
    '1000 c1 composing',
    '1000 c1 paused',
    '1000 c2 composing',
  ]);
});

test('a failing send is reported, never thrown', async () => {
  const timers = new ManualTimers();
  const errors: unknown[] = [];
  const n = new TypingNotifier({
    timers,
    send: (_chatId, state) => (state === 'composing' ? Promise.reject(new Error('down')) : undefined),
    onError: (err) => errors.push(err),
  });
  n.keystroke('c1');
  await new Promise((r) => setImmediate(r));
  assert.equal((errors[0] as Error).message, 'down');
  const throwing = new TypingNotifier({
    timers,
    send: () => {
      throw new Error('sync');
    },
    onError: (err) => errors.push(err),
  });
  throwing.keystroke('c1');
  assert.equal((errors[1] as Error).message, 'sync');
  n.dispose();
  throwing.dispose();
});
