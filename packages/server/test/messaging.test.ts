import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChatKind } from '@parley/protocol';
import {
  type Creds,
  linkDevice,
  RawClient,
  register,
  startNode,
  type TestNode,
  text,
  untext,
} from './harness.js';

const createGroup = async (c: RawClient, members: string[], name = 'g') =>
  (
    await c.call<{ chat: { id: string } }>({
      case: 'createChat',
      value: { kind: ChatKind.GROUP, memberUserIds: members, name },
    })
  ).chat.id;

const send = (c: RawClient, chatId: string, clientMessageId: string, body: string) =>
  c.request({ case: 'send', value: { chatId, clientMessageId, payload: text(body) } });

describe('messaging over real sockets', () => {
  let t: TestNode;
  let alice: Creds;
  let bob: Creds;
  let carol: Creds;

  before(async () => {
    t = await startNode();
    alice = await register(t);
    bob = await register(t);
    carol = await register(t);
  });
  after(() => t.stop());

  it('delivers a 1:1 message to the recipient and acks the sender with a seq', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob, { encoding: 'proto' });
    const { chat } = await a.call<{ chat: { id: string } }>({
      case: 'createChat',
      value: { kind: ChatKind.DIRECT, memberUserIds: [bob.userId] },
    });
    const ack = await send(a, chat.id, 'm1', 'hello bob');
    assert.equal(ack.body.case, 'sendResult');
    const [m] = await b.waitForMessages(1, chat.id);
    assert.equal(untext(m!.body.value as Uint8Array), 'hello bob');
    assert.equal(m!.senderUserId, alice.userId);
    assert.equal(m!.seq, (ack.body.value as { seq: bigint }).seq);
    await a.close();
    await b.close();
  });

  it('a resend with the same clientMessageId returns the same ack and stores nothing new', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = await createGroup(a, [bob.userId]);
    const first = await send(a, chatId, 'same-id', 'once');
    const again = await send(a, chatId, 'same-id', 'once');
    assert.deepEqual(again.body.value, first.body.value);
    await send(a, chatId, 'next', 'twice');
    const got = await b.waitForMessages(2, chatId);
    assert.deepEqual(
      got.map((m) => untext(m.body.value as Uint8Array)),
      ['once', 'twice'],
    );
    await a.close();
    await b.close();
  });

  it('keeps per-chat order for many concurrent sends and delivers to every member device', async () => {
    const bob2 = await linkDevice(t, bob);
    const a = await RawClient.connect(t, alice);
    const b1 = await RawClient.connect(t, bob);
    const b2 = await RawClient.connect(t, bob2);
    const c = await RawClient.connect(t, carol);
    const chatId = await createGroup(a, [bob.userId, carol.userId]);
    const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => send(a, chatId, `o${i}`, `n${i}`)));
    const seqs = acks.map((f) => Number((f.body.value as { seq: bigint }).seq));
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
      'acks carry increasing seqs in send order',
    );
    for (const r of [b1, b2, c]) {
      const got = await r.waitForMessages(200, chatId);
      assert.deepEqual(
        got.map((m) => untext(m.body.value as Uint8Array)),
        Array.from({ length: 200 }, (_, i) => `n${i}`),
      );
    }
    await Promise.all([a, b1, b2, c].map((x) => x.close()));
  });

  it('sends the message to the sender\u2019s other devices but not back to the sending device', async () => {
    const alice2 = await linkDevice(t, alice);
    const a1 = await RawClient.connect(t, alice);
    const a2 = await RawClient.connect(t, alice2);
    const chatId = await createGroup(a1, [carol.userId]);
    await send(a1, chatId, 'own-1', 'from a1');
    const [m] = await a2.waitForMessages(1, chatId);
    assert.equal(untext(m!.body.value as Uint8Array), 'from a1');
    await send(a1, chatId, 'own-2', 'again');
    await a2.waitForMessages(2, chatId);
    assert.equal(a1.messages.filter((x) => x.chatId === chatId && x.body.case === 'payload').length, 0);
    await a1.close();
    await a2.close();
  });
});
