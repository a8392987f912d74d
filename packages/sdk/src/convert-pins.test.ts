/**
 * Pins, disappearing timers, unread mentions and view-once as plain data, and the argument
 * checks of pin / unpin / setDisappearing / send({viewOnce}) before anything is sent.
 * Against a real node: packages/server/test/sdk-pins-expiry.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChatKind,
  ChatSchema,
  ChatUpdateKind,
  ChatUpdateSchema,
  create,
  MessageSchema,
  PinDuration,
} from '@parley/protocol';
import { DISAPPEARING_TIMERS, ParleyClient } from './client.js';
import { pinDurationToWire, toChat, toChatUpdate, toMeta, toReceived } from './convert.js';
import type { DisappearingSeconds, PinDuration as SdkPinDuration } from './types.js';

test('a chat carries its pins, disappearing timer and unread mentions as numbers', () => {
  const chat = toChat(
    create(ChatSchema, {
      id: 'c1',
      kind: ChatKind.GROUP,
      disappearingSeconds: 86400,
      unreadMentions: 2,
      pins: [
        { seq: 42n, pinnedBy: 'u1', expiresAt: 1_768_388_400_000n },
        { seq: 7n, pinnedBy: 'u2', expiresAt: 1_768_388_500_000n },
      ],
    }),
  );
  assert.equal(chat.disappearingSeconds, 86400);
  assert.equal(chat.unreadMentions, 2);
  assert.deepEqual(chat.pins, [
    { seq: 42, pinnedBy: 'u1', expiresAt: 1_768_388_400_000 },
    { seq: 7, pinnedBy: 'u2', expiresAt: 1_768_388_500_000 },
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(chat)), chat);
  const plain = toChat(create(ChatSchema, { id: 'c2', kind: ChatKind.DIRECT }));
  assert.deepEqual([plain.pins, plain.disappearingSeconds, plain.unreadMentions], [[], 0, 0]);
});

test('pin and timer updates expose pinSeq, pinExpiresAt and disappearingSeconds for their kinds only', () => {
  const pinned = toChatUpdate(
    create(ChatUpdateSchema, { kind: ChatUpdateKind.PINNED, pinSeq: 42n, pinExpiresAt: 9_000n }),
  );
  assert.equal(pinned.pinSeq, 42);
  assert.equal(pinned.pinExpiresAt, 9_000);
  assert.equal('disappearingSeconds' in pinned, false);
  const unpinned = toChatUpdate(create(ChatUpdateSchema, { kind: ChatUpdateKind.UNPINNED, pinSeq: 42n }));
  assert.equal(unpinned.pinSeq, 42);
  assert.equal('pinExpiresAt' in unpinned, false);
  const off = toChatUpdate(
    create(ChatUpdateSchema, { kind: ChatUpdateKind.DISAPPEARING_CHANGED, disappearingSeconds: 0 }),
  );
  assert.equal(off.disappearingSeconds, 0);
  assert.equal('pinSeq' in off, false);
  const renamed = toChatUpdate(create(ChatUpdateSchema, { kind: ChatUpdateKind.INFO_CHANGED, name: 'n' }));
  for (const k of ['pinSeq', 'pinExpiresAt', 'disappearingSeconds']) assert.equal(k in renamed, false);
});

test('received messages expose viewOnce (in meta) and expiresAt only when set', () => {
  const base = { chatId: 'c1', seq: 5n, senderUserId: 'u1', senderDeviceId: 'd1', clientMessageId: 'm' };
  const payload = { case: 'payload' as const, value: new Uint8Array([1]) };
  const once = toReceived(
    create(MessageSchema, {
      ...base,
      body: payload,
      meta: { viewOnce: true },
      expiresAt: 1_768_388_400_000n,
    }),
  );
  assert.ok(once && 'payload' in once);
  assert.equal(once.meta.viewOnce, true);
  assert.equal(once.expiresAt, 1_768_388_400_000);
  assert.equal(typeof once.expiresAt, 'number');

  const plain = toReceived(create(MessageSchema, { ...base, body: payload }));
  assert.ok(plain && 'payload' in plain);
  assert.equal(plain.expiresAt, undefined);
  assert.equal('expiresAt' in plain, false);
  assert.equal('viewOnce' in plain.meta, false);
  assert.equal('viewOnce' in toMeta(undefined), false);
});

test('pin durations map to the wire; anything else is unknown', () => {
  assert.equal(pinDurationToWire('24h'), PinDuration.PIN_DURATION_24_HOURS);
  assert.equal(pinDurationToWire('7d'), PinDuration.PIN_DURATION_7_DAYS);
  assert.equal(pinDurationToWire('30d'), PinDuration.PIN_DURATION_30_DAYS);
  assert.equal(pinDurationToWire('1h' as SdkPinDuration), undefined);
  assert.equal(pinDurationToWire('toString' as SdkPinDuration), undefined);
  assert.deepEqual(DISAPPEARING_TIMERS, [0, 86400, 604800, 7776000]);
});

const credentials = {
  serverUrl: 'http://127.0.0.1:1',
  userId: 'u1',
  deviceId: 'd1',
  token: 't',
  primary: true,
};

test('bad pins and timers are refused before anything is sent; unconnected calls are UNAVAILABLE', async () => {
  const client = new ParleyClient({ credentials });
  await assert.rejects(client.pin('c1', 0, '24h'), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(client.pin('c1', 1.5, '7d'), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(client.pin('c1', 1, '1y' as SdkPinDuration), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(client.unpin('c1', -1), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(client.setDisappearing('c1', 3600 as DisappearingSeconds), {
    code: 'INVALID_ARGUMENT',
  });
  await assert.rejects(client.pin('c1', 1, '30d'), { code: 'UNAVAILABLE' });
  await assert.rejects(client.unpin('c1', 1), { code: 'UNAVAILABLE' });
  await assert.rejects(client.setDisappearing('c1', 0), { code: 'UNAVAILABLE' });
  await client.close();
});
