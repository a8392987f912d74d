import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Frame, ReceiptEvent } from '@parley/protocol';
import { type Creds, createGroup, RawClient, register, startNode, type TestNode, text } from './harness.js';

type Receipts = {
  members: Array<{ userId: string; deliveredAt: bigint; readAt: bigint }>;
  deliveredToAll: boolean;
  readByAll: boolean;
};

const receiptsOf = (c: RawClient, userId: string) =>
  c.frames
    .filter((f: Frame) => f.body.case === 'receipt' && f.body.value.userId === userId)
    .map((f) => f.body.value as ReceiptEvent);

/** Waits for a receipt about `userId` reaching at least the given positions. */
const receiptReaching = (c: RawClient, userId: string, delivered: bigint, read = 0n) =>
  c.waitFor(
    (f) =>
      f.body.case === 'receipt' &&
      f.body.value.userId === userId &&
      f.body.value.deliveredSeq >= delivered &&
      f.body.value.readSeq >= read,
  );

describe('receipts', () => {
  let t: TestNode;
  let alice: Creds;
  let bob: Creds;
  let carol: Creds;

  before(async () => {
    t = await startNode({ ackFlushMs: 0 });
    [alice, bob, carol] = [await register(t), await register(t), await register(t)];
  });
  after(() => t.stop());

  const group = (c: RawClient, members: string[]) => createGroup(c, members, 'r');
  const send = async (c: RawClient, chatId: string, id: string) =>
    (
      await c.call<{ seq: bigint }>({
        case: 'send',
        value: { chatId, clientMessageId: id, payload: text(id) },
      })
    ).seq;

  it('tells the sender when the message reached the recipient and when it was read', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = await group(a, [bob.userId]);
    const seq = await send(a, chatId, 'hello');
    await receiptReaching(a, bob.userId, seq);
    await b.call({ case: 'markRead', value: { chatId, seq } });
    const read = await receiptReaching(a, bob.userId, seq, seq);
    assert.ok((read.body.value as ReceiptEvent).at > 0n);
    await Promise.all([a.close(), b.close()]);
  });

  it('only ever moves forward, whatever order acks and reads arrive in', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    const s1 = await send(a, chatId, 'one');
    const s2 = await send(a, chatId, 'two');
    const b = await RawClient.connect(t, bob, { autoAck: false });
    await b.waitForMessages(2, chatId);
    await b.call({ case: 'markRead', value: { chatId, seq: s2 } }); // read before any ack
    await receiptReaching(a, bob.userId, s2, s2);
    await b.call({ case: 'ack', value: { cursors: [{ chatId, seq: s1 }] } }); // a late, lower ack
    await b.call({ case: 'ping', value: {} });
    await new Promise((r) => setTimeout(r, 50));
    for (const r of receiptsOf(a, bob.userId).filter((x) => x.chatId === chatId)) {
      assert.ok(r.deliveredSeq >= s2 || r.readSeq === 0n, 'no event goes back');
    }
    const last = receiptsOf(a, bob.userId)
      .filter((x) => x.chatId === chatId)
      .at(-1)!;
    assert.deepEqual([last.deliveredSeq, last.readSeq], [s2, s2]);
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps receipts for a sender who was offline and delivers them on reconnect', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    const seq = await send(a, chatId, 'while away');
    await a.close();
    const b = await RawClient.connect(t, bob);
    await b.waitForMessages(1, chatId);
    await b.call({ case: 'markRead', value: { chatId, seq } });
    await b.close();
    const back = await RawClient.connect(t, alice);
    await receiptReaching(back, bob.userId, seq, seq);
    await back.close();
  });

  it('aggregates a group: delivered to all only once the offline member has it; details per member', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = await group(a, [bob.userId, carol.userId]);
    const seq = await send(a, chatId, 'to all');
    await receiptReaching(a, bob.userId, seq);
    const before = await a.call<Receipts>({ case: 'getReceipts', value: { chatId, seq } });
    assert.equal(before.deliveredToAll, false, 'carol is offline');
    assert.ok(before.members.find((m) => m.userId === bob.userId)!.deliveredAt > 0n);
    assert.equal(before.members.find((m) => m.userId === carol.userId)!.deliveredAt, 0n);
    const c = await RawClient.connect(t, carol);
    await receiptReaching(a, carol.userId, seq);
    const afterAll = await a.call<Receipts>({ case: 'getReceipts', value: { chatId, seq } });
    assert.deepEqual([afterAll.deliveredToAll, afterAll.readByAll], [true, false]);
    const denied = await b.request({ case: 'getReceipts', value: { chatId, seq } });
    assert.equal(denied.body.case === 'error' && denied.body.value.code, 'PERMISSION_DENIED');
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('read receipts off: the reader\u2019s reads are not reported, and they see no one\u2019s', async () => {
    const a = await RawClient.connect(t, alice);
    const c = await RawClient.connect(t, carol);
    const off = await c.call<{ readReceipts: boolean }>({
      case: 'setPrivacy',
      value: { readReceipts: false },
    });
    assert.equal(off.readReceipts, false);
    const chatId = await group(a, [carol.userId]);
    const seq = await send(a, chatId, 'private reader');
    await c.waitForMessages(1, chatId);
    await c.call({ case: 'markRead', value: { chatId, seq } });
    await receiptReaching(a, carol.userId, seq);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      receiptsOf(a, carol.userId).every((r) => r.readSeq === 0n),
      'no read position is shown',
    );
    const details = await a.call<Receipts>({ case: 'getReceipts', value: { chatId, seq } });
    assert.equal(details.members.find((m) => m.userId === carol.userId)!.readAt, 0n);
    // Carol's own message: alice reads it, but carol (receipts off) is not shown the read.
    const back = await send(c, chatId, 'from carol');
    await a.waitForMessages(1, chatId);
    await a.call({ case: 'markRead', value: { chatId, seq: back } });
    await receiptReaching(c, alice.userId, back);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(receiptsOf(c, alice.userId).every((r) => r.readSeq === 0n));
    await c.call({ case: 'setPrivacy', value: { readReceipts: true } });
    await Promise.all([a.close(), c.close()]);
  });
});
