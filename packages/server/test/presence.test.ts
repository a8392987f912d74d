import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChatKind, type Frame, LastSeenVisibility, type Presence, TypingState } from '@parley/protocol';
import { ManualClock } from '../src/ports/clock.js';
import { type Creds, linkDevice, RawClient, register, startNode, type TestNode } from './harness.js';

const T = 1_800_000_000_000;

async function chat(c: RawClient, kind: ChatKind, members: string[]): Promise<string> {
  const r = await c.call<{ chat: { id: string } }>({
    case: 'createChat',
    value: { kind, memberUserIds: members, name: 'g' },
  });
  return r.chat.id;
}

const subscribe = async (c: RawClient, userIds: string[]) =>
  (await c.call<{ users: Presence[] }>({ case: 'subscribePresence', value: { userIds } })).users;

const privacy = (c: RawClient, lastSeen: LastSeenVisibility) =>
  c.call({ case: 'setPrivacy', value: { lastSeen } });

/** The next presence push about `userId` after the frames seen so far. */
function nextPresence(c: RawClient, userId: string): Promise<Presence> {
  const start = c.frames.length;
  return c
    .waitFor(
      (f) =>
        c.frames.indexOf(f) >= start &&
        f.body.case === 'presence' &&
        f.body.value.presence?.userId === userId,
    )
    .then((f) => (f.body.value as { presence: Presence }).presence);
}

describe('presence', () => {
  let t: TestNode;
  const clock = new ManualClock(T);
  let alice: Creds;
  let bob: Creds;
  let carol: Creds;
  let dave: Creds;

  before(async () => {
    t = await startNode({}, { clock });
    [alice, bob, carol, dave] = [await register(t), await register(t), await register(t), await register(t)];
    const a = await RawClient.connect(t, alice);
    await chat(a, ChatKind.DIRECT, [bob.userId]); // alice and bob are contacts
    await chat(a, ChatKind.GROUP, [carol.userId]); // alice and carol only share a group
    await a.close();
  });
  after(() => t.stop());

  it('pushes online, then offline with the last-seen time, to a subscriber', async () => {
    const b = await RawClient.connect(t, bob);
    const [initial] = await subscribe(b, [alice.userId]);
    assert.equal(initial!.online, false);
    const online = nextPresence(b, alice.userId);
    const a = await RawClient.connect(t, alice);
    assert.equal((await online).online, true);
    clock.set(T + 5000);
    const offline = nextPresence(b, alice.userId);
    await a.close();
    const p = await offline;
    assert.equal(p.online, false);
    assert.equal(p.lastSeen, BigInt(T + 5000));
    await b.close();
  });

  it('keeps a user online while any of their devices is connected', async () => {
    const alice2 = await linkDevice(t, alice);
    const b = await RawClient.connect(t, bob);
    await subscribe(b, [alice.userId]);
    const a1 = await RawClient.connect(t, alice);
    const a2 = await RawClient.connect(t, alice2);
    await a1.close();
    const [still] = await subscribe(b, [alice.userId]);
    assert.equal(still!.online, true);
    const offline = nextPresence(b, alice.userId);
    await a2.close();
    assert.equal((await offline).online, false);
    await b.close();
  });

  it('last seen NOBODY hides it from everyone, and whoever hides theirs sees no one else\u2019s', async () => {
    const a = await RawClient.connect(t, alice);
    await privacy(a, LastSeenVisibility.NOBODY);
    await a.close();
    const b = await RawClient.connect(t, bob);
    const [hidden] = await subscribe(b, [alice.userId]);
    assert.equal(hidden!.lastSeen, 0n);
    // Bob can see alice again once she allows it; bob hiding his own hides hers from him.
    const a2 = await RawClient.connect(t, alice);
    await privacy(a2, LastSeenVisibility.EVERYONE);
    await a2.close();
    assert.notEqual((await subscribe(b, [alice.userId]))[0]!.lastSeen, 0n);
    await privacy(b, LastSeenVisibility.NOBODY);
    assert.equal((await subscribe(b, [alice.userId]))[0]!.lastSeen, 0n);
    await privacy(b, LastSeenVisibility.EVERYONE);
    await b.close();
  });

  it('last seen CONTACTS shows it to direct-chat partners only', async () => {
    const a = await RawClient.connect(t, alice);
    const r = await a.call<{ lastSeen: LastSeenVisibility }>({
      case: 'setPrivacy',
      value: { lastSeen: LastSeenVisibility.CONTACTS },
    });
    assert.equal(r.lastSeen, LastSeenVisibility.CONTACTS);
    await a.close();
    const b = await RawClient.connect(t, bob);
    const c = await RawClient.connect(t, carol);
    assert.notEqual(
      (await subscribe(b, [alice.userId]))[0]!.lastSeen,
      0n,
      'bob has a direct chat with alice',
    );
    assert.equal((await subscribe(c, [alice.userId]))[0]!.lastSeen, 0n, 'carol only shares a group');
    await Promise.all([b.close(), c.close()]);
  });

  it('does not reveal users who share no chat with the subscriber', async () => {
    const a = await RawClient.connect(t, alice);
    const d = await RawClient.connect(t, dave);
    const [p] = await subscribe(d, [alice.userId]);
    assert.deepEqual([p!.online, p!.lastSeen], [false, 0n]);
    await a.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(d.frames.filter((f) => f.body.case === 'presence').length, 0);
    await d.close();
  });
});

describe('typing indicators', () => {
  let t: TestNode;
  let alice: Creds;
  let bob: Creds;
  let carol: Creds;

  before(async () => {
    t = await startNode();
    [alice, bob, carol] = [await register(t), await register(t), await register(t)];
  });
  after(() => t.stop());

  const typingEvents = (c: RawClient) => c.frames.filter((f: Frame) => f.body.case === 'typingEvent');

  it('relays composing and paused to the other members\u2019 devices only, and stores nothing', async () => {
    const alice2 = await linkDevice(t, alice);
    const a = await RawClient.connect(t, alice);
    const a2 = await RawClient.connect(t, alice2);
    const b = await RawClient.connect(t, bob);
    const chatId = await chat(a, ChatKind.GROUP, [bob.userId]);
    await a.call({ case: 'typing', value: { chatId, state: TypingState.COMPOSING } });
    const ev = await b.waitFor((f) => f.body.case === 'typingEvent');
    assert.deepEqual(ev.body.value && { ...ev.body.value, $typeName: undefined }, {
      $typeName: undefined,
      chatId,
      userId: alice.userId,
      state: TypingState.COMPOSING,
      expiresInMs: 10_000,
    });
    await a.call({ case: 'typing', value: { chatId, state: TypingState.PAUSED } });
    await b.waitFor((f) => f.body.case === 'typingEvent' && f.body.value.state === TypingState.PAUSED);
    await a2.call({ case: 'ping', value: {} });
    assert.equal(typingEvents(a2).length, 0, 'the typer\u2019s own devices are not told');
    await b.close();
    const again = await RawClient.connect(t, bob);
    // Nothing is pending for bob, so no deliver frame comes: a round trip and a pause stand in
    // for the drain.
    await again.call({ case: 'ping', value: {} });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(typingEvents(again).length, 0, 'typing is never delivered later');
    await Promise.all([a.close(), a2.close(), again.close()]);
  });

  it('refuses non-members, bad states and more than 5 a second', async () => {
    const a = await RawClient.connect(t, alice);
    const c = await RawClient.connect(t, carol);
    const chatId = await chat(a, ChatKind.GROUP, [bob.userId]);
    const code = (f: Frame) => (f.body.case === 'error' ? f.body.value.code : f.body.case);
    assert.equal(
      code(await c.request({ case: 'typing', value: { chatId, state: TypingState.COMPOSING } })),
      'NOT_A_MEMBER',
    );
    assert.equal(
      code(await a.request({ case: 'typing', value: { chatId, state: TypingState.UNSPECIFIED } })),
      'INVALID_ARGUMENT',
    );
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        a.request({ case: 'typing', value: { chatId, state: TypingState.COMPOSING } }),
      ),
    );
    assert.ok(answers.map(code).includes('RATE_LIMITED'));
    await Promise.all([a.close(), c.close()]);
  });
});
