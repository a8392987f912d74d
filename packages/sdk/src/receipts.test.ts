import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypedEmitter } from './emitter.js';
import { ReceiptTracker } from './receipts.js';
import type { ReceiptInfo } from './types.js';

const r = (userId: string, deliveredSeq: number, readSeq: number, chatId = 'c1'): ReceiptInfo => ({
  chatId,
  userId,
  deliveredSeq,
  readSeq,
  at: 1,
});

test('a direct chat goes sent → delivered → read', () => {
  const t = new ReceiptTracker();
  assert.equal(t.status('c1', 5, ['bob']), 'sent');
  assert.equal(t.update(r('bob', 5, 0)), true);
  assert.equal(t.status('c1', 5, ['bob']), 'delivered');
  assert.equal(t.status('c1', 6, ['bob']), 'sent');
  t.update(r('bob', 5, 5));
  assert.equal(t.status('c1', 5, ['bob']), 'read');
  assert.equal(t.status('c1', 4, ['bob']), 'read');
});

test('positions only move forward, whatever order receipts arrive in', () => {
  const t = new ReceiptTracker();
  t.update(r('bob', 9, 7));
  assert.equal(t.update(r('bob', 5, 3)), false);
  assert.deepEqual(t.position('c1', 'bob'), { deliveredSeq: 9, readSeq: 7 });
  // A read counts as delivered; read 0 (receipts off) never lowers anything.
  t.update(r('bob', 0, 12));
  assert.deepEqual(t.position('c1', 'bob'), { deliveredSeq: 12, readSeq: 12 });
  assert.equal(t.update(r('bob', 12, 0)), false);
  // Chats are separate.
  assert.deepEqual(t.position('c2', 'bob'), { deliveredSeq: 0, readSeq: 0 });
});

test('a group is delivered / read only when every other member reached the message', () => {
  const t = new ReceiptTracker();
  const others = ['bob', 'carol'];
  t.update(r('bob', 10, 10));
  assert.equal(t.status('c1', 10, others), 'sent');
  t.update(r('carol', 10, 0));
  assert.equal(t.status('c1', 10, others), 'delivered');
  t.update(r('carol', 10, 10));
  assert.equal(t.status('c1', 10, others), 'read');
  // A new member who has not got it yet holds the status back; no other members: sent.
  assert.equal(t.status('c1', 10, [...others, 'dave']), 'sent');
  assert.equal(t.status('c1', 10, []), 'sent');
  t.forget('c1');
  assert.equal(t.status('c1', 10, others), 'sent');
});

test('attach follows receipt events and reports the ones that moved something', () => {
  class Source extends TypedEmitter<{ receipt: [ReceiptInfo] }> {
    fire(x: ReceiptInfo) {
      this.emit('receipt', x);
    }
  }
  const source = new Source();
  const t = new ReceiptTracker();
  const changed: ReceiptInfo[] = [];
  const detach = t.attach(source, (x) => changed.push(x));
  source.fire(r('bob', 3, 0));
  source.fire(r('bob', 2, 0));
  assert.equal(changed.length, 1);
  detach();
  source.fire(r('bob', 8, 8));
  assert.equal(t.status('c1', 8, ['bob']), 'sent');
});
