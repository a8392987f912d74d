import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, LastSeenVisibility, PresenceSchema, TypingEventSchema, TypingState } from '@parley/protocol';
import { privacyFromWire, privacyToWire, toPresence, toTyping, typingStateToWire } from './convert.js';

test('presence becomes a plain object with a numeric lastSeen', () => {
  const wire = create(PresenceSchema, { userId: 'u2', online: false, lastSeen: 1_768_471_200_000n });
  assert.deepEqual(toPresence(wire), { userId: 'u2', online: false, lastSeen: 1_768_471_200_000 });
  assert.deepEqual(toPresence(create(PresenceSchema, { userId: 'u3', online: true })), {
    userId: 'u3',
    online: true,
    lastSeen: 0,
  });
  assert.equal(JSON.stringify(toPresence(wire)), '{"userId":"u2","online":false,"lastSeen":1768471200000}');
});

test('a typing event gets an absolute expiry on the local clock', () => {
  const now = 5_000;
  const e = (state: TypingState, expiresInMs: number) =>
    toTyping(create(TypingEventSchema, { chatId: 'c1', userId: 'u2', state, expiresInMs }), now);
  assert.deepEqual(e(TypingState.COMPOSING, 10_000), {
    chatId: 'c1',
    userId: 'u2',
    state: 'composing',
    expiresAt: 15_000,
  });
  assert.deepEqual(e(TypingState.PAUSED, 0), {
    chatId: 'c1',
    userId: 'u2',
    state: 'paused',
    expiresAt: 5_000,
  });
  // A composing without a time lasts the server's usual 10 s; an unknown state is dropped.
  assert.equal(e(TypingState.COMPOSING, 0)?.expiresAt, 15_000);
  assert.equal(e(TypingState.UNSPECIFIED, 0), undefined);
  assert.equal(e(7 as TypingState, 0), undefined);
});

test('typing states and last-seen settings map both ways; unknown values are refused', () => {
  assert.equal(typingStateToWire('composing'), TypingState.COMPOSING);
  assert.equal(typingStateToWire('paused'), TypingState.PAUSED);
  assert.equal(typingStateToWire('toString' as 'paused'), undefined);
  for (const p of ['everyone', 'contacts', 'nobody'] as const) {
    assert.equal(privacyFromWire(privacyToWire(p)!), p);
  }
  assert.equal(privacyToWire('NOBODY' as 'nobody'), undefined);
  assert.equal(privacyToWire('constructor' as 'nobody'), undefined);
  assert.equal(privacyToWire('contacts'), LastSeenVisibility.CONTACTS);
  assert.throws(() => privacyFromWire(LastSeenVisibility.UNSPECIFIED), { code: 'INTERNAL' });
});
