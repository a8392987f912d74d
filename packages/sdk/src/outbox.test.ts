import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParleyError } from '@parley/protocol';
import { Outbox, type OutboxEntry } from './outbox.js';

function entry(id: string, log: string[]): OutboxEntry {
  return {
    request: { clientMessageId: id, chatId: 'c' },
    frameId: undefined,
    resolve: (r) => log.push(`ok ${id} ${r.seq}`),
    reject: (e) => log.push(`fail ${id} ${e.code}`),
  };
}

test('waiting entries come out oldest first, skipping those on the wire', () => {
  const box = new Outbox();
  const log: string[] = [];
  const [a, b, c] = ['a', 'b', 'c'].map((id) => entry(id, log)) as [OutboxEntry, OutboxEntry, OutboxEntry];
  box.add(a);
  box.add(b);
  box.add(c);
  b.frameId = 7;
  assert.deepEqual(
    box.waiting().map((e) => e.request.clientMessageId),
    ['a', 'c'],
  );
  b.frameId = undefined; // its socket dropped
  assert.deepEqual(
    box.waiting().map((e) => e.request.clientMessageId),
    ['a', 'b', 'c'],
  );
});

test('an answered entry leaves the outbox once, whatever the order of answers', () => {
  const box = new Outbox();
  const log: string[] = [];
  const a = entry('a', log);
  const b = entry('b', log);
  box.add(a);
  box.add(b);
  const result = { clientMessageId: 'b', chatId: 'c', seq: 2, serverTime: 0 };
  box.resolve(b, result);
  box.resolve(b, result);
  box.reject(a, new ParleyError('NOT_A_MEMBER', 'x'));
  assert.deepEqual(log, ['ok b 2', 'fail a NOT_A_MEMBER']);
  assert.equal(box.size, 0);
});

test('rejectAll fails every entry in order and empties the outbox', () => {
  const box = new Outbox();
  const log: string[] = [];
  for (const id of ['a', 'b', 'c']) box.add(entry(id, log));
  box.rejectAll(new ParleyError('UNAUTHENTICATED', 'revoked'));
  assert.deepEqual(log, ['fail a UNAUTHENTICATED', 'fail b UNAUTHENTICATED', 'fail c UNAUTHENTICATED']);
  assert.equal(box.size, 0);
});
