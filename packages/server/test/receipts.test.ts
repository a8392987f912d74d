import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Frame, ReceiptEvent } from '@parley/protocol';
import { type Creds, createGroup, RawClient, register, startNode, type TestNode, text } from './harness.js';

type Receipts = {
  members: Array<{ userId: string; deliveredAt: bigint; readAt: bigint }>;
  deliveredToAll: boolean;
  readByAll: boolean;
};

const versionOf = (c: RawClient) => {
  const w = c.frames.find((f) => f.body.case === 'welcome')?.body;
  return w?.case === 'welcome' ? w.value.protocolVersion : undefined;
};

/** The receipt events a frame carries: one, a batch (version 2), or none. */
const eventsOf = (f: Frame): ReceiptEvent[] =>
  f.body.case === 'receipt' ? [f.body.value] : f.body.case === 'receipts' ? f.body.value.receipts : [];

const receiptsOf = (c: RawClient, userId: string) =>
  c.frames.flatMap(eventsOf).filter((r) => r.userId === userId);

/** Waits for a receipt about `userId` reaching at least the given positions; returns that event. */
const receiptReaching = async (c: RawClient, userId: string, delivered: bigint, read = 0n) => {
  const hit = (r: ReceiptEvent) => r.userId === userId && r.deliveredSeq >= delivered && r.readSeq >= read;
  return eventsOf(await c.waitFor((f) => eventsOf(f).some(hit))).find(hit)!;
};

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
    assert.ok(read.at > 0n);
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

describe('receipt batches', () => {
  let t: TestNode;
  let alice: Creds;
  let members: Creds[];

  before(async () => {
    // A long flush interval gathers every member's ack into one flush.
    t = await startNode({ ackFlushMs: 300 });
    alice = await register(t);
    members = [await register(t), await register(t), await register(t)];
  });
  after(() => t.stop());

  /** Sends one message and waits until alice has a delivered receipt from every member. */
  const sendAndCollect = async (a: RawClient, chatId: string, id: string) => {
    const { seq } = await a.call<{ seq: bigint }>({
      case: 'send',
      value: { chatId, clientMessageId: id, payload: text(id) },
    });
    for (const m of members) await receiptReaching(a, m.userId, seq);
    return seq;
  };

  it('version 2: the moves of one flush reach the sender as one push; version 1: one push each', async () => {
    const others = await Promise.all(members.map((m) => RawClient.connect(t, m)));
    let a = await RawClient.connect(t, alice);
    assert.equal(versionOf(a), 2);
    const chatId = await createGroup(
      a,
      members.map((m) => m.userId),
      'batches',
    );
    const first = await sendAndCollect(a, chatId, 'one');
    const batch = a.frames.find(
      (f) => f.body.case === 'receipts' && f.body.value.receipts.some((r) => r.deliveredSeq === first),
    );
    assert.ok(batch, 'one push carries several members');
    assert.deepEqual(new Set(eventsOf(batch!).map((r) => r.userId)), new Set(members.map((m) => m.userId)));
    await a.close();

    a = await RawClient.connect(t, alice, { protocols: ['parley.v1.json'] });
    assert.equal(versionOf(a), 1);
    const second = await sendAndCollect(a, chatId, 'two');
    assert.equal(
      a.frames.filter((f) => f.body.case === 'receipts').length,
      0,
      'a version 1 connection gets no batch',
    );
    const single = a.frames.filter((f) => f.body.case === 'receipt' && f.body.value.deliveredSeq === second);
    assert.equal(single.length, members.length);
    await Promise.all([a.close(), ...others.map((o) => o.close())]);
  });
});
