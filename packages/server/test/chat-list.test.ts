import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Chat, ChatKind, type Frame } from '@parley/protocol';
import { ManualClock } from '../src/ports/clock.js';
import { type Creds, linkDevice, RawClient, register, startNode, type TestNode, text } from './harness.js';

const list = async (c: RawClient) =>
  (await c.call<{ chats: Chat[] }>({ case: 'listChats', value: {} })).chats;
const send = (c: RawClient, chatId: string, id: string) =>
  c.call<{ seq: bigint }>({ case: 'send', value: { chatId, clientMessageId: id, payload: text(id) } });

describe('chat list, unread counts and read position', () => {
  let t: TestNode;
  const clock = new ManualClock(1_800_000_000_000);
  let alice: Creds;
  let bob: Creds;
  let carol: Creds;

  before(async () => {
    t = await startNode({}, { clock });
    [alice, bob, carol] = [await register(t), await register(t), await register(t)];
  });
  after(() => t.stop());

  it('lists chats by last activity with the newest message and per-user unread counts', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const older = (
      await a.call<{ chat: Chat }>({
        case: 'createChat',
        value: { kind: ChatKind.DIRECT, memberUserIds: [bob.userId] },
      })
    ).chat.id;
    clock.advance(1000);
    const newer = (
      await a.call<{ chat: Chat }>({
        case: 'createChat',
        value: { kind: ChatKind.GROUP, memberUserIds: [bob.userId, carol.userId], name: 'team' },
      })
    ).chat.id;
    clock.advance(1000);
    await send(a, newer, 'g1');
    clock.advance(1000);
    const last = await send(a, older, 'd1');
    await send(a, older, 'd2');
    const chats = await list(b);
    assert.deepEqual(
      chats.map((c) => c.id),
      [older, newer],
      'the direct chat had the latest message',
    );
    assert.deepEqual(
      chats.map((c) => c.unreadCount),
      [2, 1],
    );
    assert.equal(chats[0]!.lastMessage?.seq, last.seq + 1n);
    assert.equal(chats[0]!.lastMessage?.senderUserId, alice.userId);
    assert.equal(chats[0]!.lastMessage?.isUpdate, false);
    assert.deepEqual(
      (await list(a)).map((c) => c.unreadCount),
      [0, 0],
      'own messages and chat updates are never unread',
    );
    await Promise.all([a.close(), b.close()]);
  });

  it('markRead clears unread for every device of the user and only moves forward', async () => {
    const bob2 = await linkDevice(t, bob);
    const a = await RawClient.connect(t, alice);
    const b1 = await RawClient.connect(t, bob);
    const b2 = await RawClient.connect(t, bob2);
    const chatId = (
      await a.call<{ chat: Chat }>({
        case: 'createChat',
        value: { kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'x' },
      })
    ).chat.id;
    const seqs = [];
    for (let i = 0; i < 4; i++) seqs.push((await send(a, chatId, `r${i}`)).seq);
    const r = await b1.call<{ readSeq: bigint; unreadCount: number }>({
      case: 'markRead',
      value: { chatId, seq: seqs[1]! },
    });
    assert.deepEqual([r.readSeq, r.unreadCount], [seqs[1], 2]);
    const seen = await b2.call<{ chat: Chat }>({ case: 'getChat', value: { chatId } });
    assert.deepEqual(
      [seen.chat.readSeq, seen.chat.unreadCount],
      [seqs[1], 2],
      'the other device sees the same',
    );
    const back = await b2.call<{ readSeq: bigint }>({ case: 'markRead', value: { chatId, seq: 1n } });
    assert.equal(back.readSeq, seqs[1], 'never moves back');
    const beyond = await b2.call<{ readSeq: bigint; unreadCount: number }>({
      case: 'markRead',
      value: { chatId, seq: 1_000_000n },
    });
    assert.deepEqual([beyond.readSeq, beyond.unreadCount], [seqs[3], 0], 'capped at the last seq');
    await Promise.all([a.close(), b1.close(), b2.close()]);
  });

  it('counts unread mentions of the caller separately, and reading clears them', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = (
      await a.call<{ chat: Chat }>({
        case: 'createChat',
        value: { kind: ChatKind.GROUP, memberUserIds: [bob.userId, carol.userId], name: 'm' },
      })
    ).chat.id;
    await a.call({
      case: 'send',
      value: { chatId, clientMessageId: 'm1', payload: text('hi @bob'), meta: { mentions: [bob.userId] } },
    });
    await a.call({
      case: 'send',
      value: {
        chatId,
        clientMessageId: 'm2',
        payload: text('hi @carol'),
        meta: { mentions: [carol.userId] },
      },
    });
    const last = await a.call<{ seq: bigint }>({
      case: 'send',
      value: { chatId, clientMessageId: 'm3', payload: text('plain') },
    });
    const mine = (await list(b)).find((c) => c.id === chatId)!;
    assert.deepEqual([mine.unreadCount, mine.unreadMentions], [3, 1]);
    await b.call({ case: 'markRead', value: { chatId, seq: last.seq } });
    const after = (await list(b)).find((c) => c.id === chatId)!;
    assert.deepEqual([after.unreadCount, after.unreadMentions], [0, 0]);
    await Promise.all([a.close(), b.close()]);
  });

  it('counts for a member added later only what they can see, and refuses non-members', async () => {
    const a = await RawClient.connect(t, alice);
    const c = await RawClient.connect(t, carol);
    const chatId = (
      await a.call<{ chat: Chat }>({
        case: 'createChat',
        value: { kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'y' },
      })
    ).chat.id;
    await send(a, chatId, 'before-1');
    await send(a, chatId, 'before-2');
    const refused: Frame = await c.request({ case: 'markRead', value: { chatId, seq: 1n } });
    assert.equal(refused.body.case === 'error' && refused.body.value.code, 'NOT_A_MEMBER');
    await a.call({ case: 'addMembers', value: { chatId, userIds: [carol.userId] } });
    await send(a, chatId, 'after');
    const mine = (await list(c)).find((x) => x.id === chatId)!;
    assert.equal(mine.unreadCount, 1);
    await Promise.all([a.close(), c.close()]);
  });
});
