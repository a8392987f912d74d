import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChatKind, type Frame, type Message, MessageType } from '@parley/protocol';
import { ManualClock } from '../src/ports/clock.js';
import {
  answerCode,
  type Creds,
  createGroup,
  RawClient,
  register,
  startNode,
  type TestNode,
  text,
  untext,
} from './harness.js';

const code = answerCode;
const MIN = 60_000;

describe('message features', () => {
  let t: TestNode;
  const clock = new ManualClock(1_800_000_000_000);
  let alice: Creds;
  let bob: Creds;
  let carol: Creds;

  before(async () => {
    t = await startNode({ codeRequestsPerHour: 1000, authAttemptsPerMinute: 1000 }, { clock });
    [alice, bob, carol] = [await register(t), await register(t), await register(t)];
  });
  after(() => t.stop());

  const group = (c: RawClient, members: string[]) => createGroup(c, members, 'f');
  type Meta = {
    type?: MessageType;
    refSeq?: bigint;
    reaction?: string;
    mentions?: string[];
    forwardCount?: number;
  };
  const send = (c: RawClient, chatId: string, id: string, meta?: Meta, body: string | null = id) =>
    c.request({
      case: 'send',
      value: {
        chatId,
        clientMessageId: id,
        ...(body !== null && { payload: text(body) }),
        ...(meta && { meta }),
      },
    });
  const seqOf = (f: Frame) => (f.body.value as { seq: bigint }).seq;
  const byId = (ms: Message[], id: string) => ms.find((m) => m.clientMessageId === id);

  it('replies and mentions reach the members with their metadata; bad references are refused', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = await group(a, [bob.userId]);
    const first = seqOf(await send(a, chatId, 'q'));
    await send(b, chatId, 'reply', { refSeq: first, mentions: [alice.userId] });
    const [m] = (await a.waitForMessages(1, chatId)).filter((x) => x.clientMessageId === 'reply');
    assert.deepEqual([m!.meta?.refSeq, m!.meta?.mentions], [first, [alice.userId]]);
    assert.equal(code(await send(b, chatId, 'bad-ref', { refSeq: 999n })), 'NOT_FOUND');
    assert.equal(
      code(await send(b, chatId, 'bad-mention', { mentions: [carol.userId] })),
      'INVALID_ARGUMENT',
    );
    await Promise.all([a.close(), b.close()]);
  });

  it('the sender may edit for 15 minutes, nobody else ever', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = await group(a, [bob.userId]);
    const seq = seqOf(await send(a, chatId, 'typo'));
    assert.equal(
      code(await send(b, chatId, 'not-mine', { type: MessageType.EDIT, refSeq: seq }, 'x')),
      'PERMISSION_DENIED',
    );
    clock.advance(14 * MIN);
    assert.equal(
      code(await send(a, chatId, 'fix', { type: MessageType.EDIT, refSeq: seq }, 'fixed')),
      'sendResult',
    );
    const edit = byId(await b.waitForMessages(2, chatId), 'fix')!;
    assert.deepEqual(
      [edit.meta?.type, edit.meta?.refSeq, untext(edit.body.value as Uint8Array)],
      [MessageType.EDIT, seq, 'fixed'],
    );
    clock.advance(2 * MIN);
    assert.equal(
      code(await send(a, chatId, 'late', { type: MessageType.EDIT, refSeq: seq }, 'late')),
      'EDIT_WINDOW_PASSED',
    );
    await Promise.all([a.close(), b.close()]);
  });

  it('delete for everyone: the sender within 48 hours, an admin any time; the content is gone from the server', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = await group(a, [bob.userId, carol.userId]);
    const mine = seqOf(await send(b, chatId, 'oops'));
    const old = seqOf(await send(b, chatId, 'old'));
    assert.equal(
      code(await send(b, chatId, 'bad-del', { type: MessageType.DELETE, refSeq: mine }, 'x')),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      code(await send(b, chatId, 'del', { type: MessageType.DELETE, refSeq: mine }, null)),
      'sendResult',
    );
    const del = byId(await a.waitForMessages(3, chatId), 'del')!;
    assert.deepEqual([del.meta?.type, del.meta?.refSeq], [MessageType.DELETE, mine]);
    // Carol was offline: she gets the delete, and the deleted message has no content left.
    const c = await RawClient.connect(t, carol);
    await c.waitFor((f) => f.body.case === 'deliver' && !f.body.value.backlog);
    assert.equal(byId(c.messages, 'oops'), undefined);
    assert.ok(byId(c.messages, 'del'));
    const hist = await a.call<{ messages: Message[] }>({ case: 'history', value: { chatId, limit: 100 } });
    const gone = hist.messages.find((m) => m.seq === mine)!;
    assert.deepEqual([gone.deleted, (gone.body.value as Uint8Array).length], [true, 0]);
    clock.advance(49 * 60 * MIN);
    assert.equal(
      code(await send(b, chatId, 'late-del', { type: MessageType.DELETE, refSeq: old }, null)),
      'DELETE_WINDOW_PASSED',
    );
    assert.equal(
      code(await send(c, chatId, 'not-admin', { type: MessageType.DELETE, refSeq: old }, null)),
      'PERMISSION_DENIED',
    );
    assert.equal(
      code(await send(a, chatId, 'admin-del', { type: MessageType.DELETE, refSeq: old }, null)),
      'sendResult',
    );
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('in a direct chat only the sender deletes for everyone, and only within 48 hours, creator or not', async () => {
    const dave = await register(t);
    const a = await RawClient.connect(t, alice);
    const d = await RawClient.connect(t, dave);
    const { chat } = await a.call<{ chat: { id: string } }>({
      case: 'createChat',
      value: { kind: ChatKind.DIRECT, memberUserIds: [dave.userId] },
    });
    const chatId = chat.id;
    const theirs = seqOf(await send(d, chatId, 'theirs'));
    const mine = seqOf(await send(a, chatId, 'mine'));
    const del = (c: RawClient, id: string, refSeq: bigint) =>
      send(c, chatId, id, { type: MessageType.DELETE, refSeq }, null);
    // Alice created the chat: that makes her no admin of Dave's messages, early or late.
    assert.equal(code(await del(a, 'creator-del-early', theirs)), 'PERMISSION_DENIED');
    clock.advance(49 * 60 * MIN);
    assert.equal(code(await del(a, 'creator-del-late', theirs)), 'PERMISSION_DENIED');
    assert.equal(code(await del(a, 'own-del-late', mine)), 'DELETE_WINDOW_PASSED');
    assert.equal(code(await del(d, 'other-del-late', theirs)), 'DELETE_WINDOW_PASSED');
    const fresh = seqOf(await send(d, chatId, 'fresh'));
    assert.equal(code(await del(d, 'own-del', fresh)), 'sendResult');
    const hist = await d.call<{ messages: Message[] }>({ case: 'history', value: { chatId, limit: 100 } });
    const deleted = hist.messages.filter((m) => m.deleted).map((m) => m.seq);
    assert.deepEqual(deleted, [fresh], 'only the sender\u2019s own timely delete took effect');
    await Promise.all([a.close(), d.close()]);
  });

  it('one reaction per user per message, replaceable and removable, at most 20 different ones', async () => {
    const many: Creds[] = [];
    for (let i = 0; i < 21; i++) many.push(await register(t));
    const a = await RawClient.connect(t, alice);
    const chatId = await group(
      a,
      many.map((u) => u.userId),
    );
    const seq = seqOf(await send(a, chatId, 'react to me'));
    const react = (c: RawClient, id: string, reaction: string) =>
      send(c, chatId, id, { type: MessageType.REACTION, refSeq: seq, reaction }, null);
    const clients = await Promise.all(many.map((u) => RawClient.connect(t, u)));
    for (let i = 0; i < 20; i++) assert.equal(code(await react(clients[i]!, `r${i}`, `e${i}`)), 'sendResult');
    assert.equal(code(await react(clients[20]!, 'r20', 'e20')), 'TOO_MANY_REACTIONS');
    assert.equal(
      code(await react(clients[20]!, 'r20b', 'e3')),
      'sendResult',
      'an existing reaction can be joined',
    );
    // User 0 replaces e0 with e20: still 20 different (e1..e20).
    assert.equal(
      code(await react(clients[0]!, 'r0b', 'e20')),
      'sendResult',
      'a user replaces their reaction',
    );
    assert.equal(code(await react(clients[20]!, 'r20c', 'e21')), 'TOO_MANY_REACTIONS', 'still 20 in use');
    assert.equal(code(await react(clients[1]!, 'r1b', '')), 'sendResult', 'removing frees a slot (e1)');
    assert.equal(code(await react(clients[20]!, 'r20d', 'e21')), 'sendResult');
    await Promise.all([a, ...clients].map((c) => c.close()));
  });

  it('metadata travels the same over the binary encoding', async () => {
    const a = await RawClient.connect(t, alice, { encoding: 'proto' });
    const b = await RawClient.connect(t, bob, { encoding: 'proto' });
    const chatId = await group(a, [bob.userId]);
    const seq = seqOf(await send(a, chatId, 'bin'));
    assert.equal(
      code(
        await send(b, chatId, 'bin-react', { type: MessageType.REACTION, refSeq: seq, reaction: '👍' }, null),
      ),
      'sendResult',
    );
    assert.equal(
      code(await send(b, chatId, 'bin-reply', { refSeq: seq, mentions: [alice.userId] })),
      'sendResult',
    );
    const got = await a.waitForMessages(2, chatId);
    assert.deepEqual(
      [byId(got, 'bin-react')?.meta?.reaction, byId(got, 'bin-reply')?.meta?.refSeq],
      ['👍', seq],
    );
    await Promise.all([a.close(), b.close()]);
  });

  it('forwards to at most 5 chats at once, counting hops and marking "forwarded many times"', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chats: string[] = [];
    for (let i = 0; i < 6; i++) chats.push(await group(a, [bob.userId]));
    const item = (chatId: string, i: number, forwardCount: number) => ({
      chatId,
      clientMessageId: `fw${i}-${forwardCount}`,
      payload: text('fwd'),
      meta: { forwardCount },
    });
    const six = await a.request({ case: 'forward', value: { sends: chats.map((c, i) => item(c, i, 1)) } });
    assert.equal(code(six), 'INVALID_ARGUMENT');
    const zero = await a.request({ case: 'forward', value: { sends: [item(chats[0]!, 0, 0)] } });
    assert.equal(code(zero), 'INVALID_ARGUMENT');
    const ok = await a.call<{ results: unknown[] }>({
      case: 'forward',
      value: { sends: chats.slice(0, 5).map((c, i) => item(c, i, i === 0 ? 6 : 1)) },
    });
    assert.equal(ok.results.length, 5);
    const got = await b.waitForMessages(5);
    const hot = got.find((m) => m.chatId === chats[0])!;
    assert.deepEqual([hot.meta?.forwardCount, hot.forwardedMany], [6, true]);
    assert.equal(got.find((m) => m.chatId === chats[1])!.forwardedMany, false);
    const c = await RawClient.connect(t, carol);
    const notMember = await c.request({ case: 'forward', value: { sends: [item(chats[5]!, 9, 1)] } });
    assert.equal(code(notMember), 'NOT_A_MEMBER');
    await Promise.all([a.close(), b.close(), c.close()]);
  });
});
