/**
 * Pins, view once and disappearing messages through the real SDK (ParleyClient and its
 * ExpiryTracker) against a real in-process node (protocol.md §5.5, §6.9a, §6.9b). The
 * node's clock is manual, and so is the receiving client's, so expiry times are exact.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  ChatKind,
  ChatUpdateKind,
  type Credentials,
  type ExpiredInfo,
  type ReceivedChatUpdate,
  type Timers,
} from '@parley/sdk';
import { ManualTimers } from '@parley/sdk/testing';
import { ManualClock } from '../src/ports/clock.js';
import { startNode, type TestNode } from './harness.js';
import { closeWatched, newUser, text, untext, until, type Watched, watch } from './sdk-helpers.js';

const T = 1_800_000_000_000;
const DAY = 86_400_000;

describe('pins, view once and disappearing messages through the SDK', () => {
  let t: TestNode;
  const clock = new ManualClock(T);
  let alice: Credentials;
  let bob: Credentials;

  before(async () => {
    t = await startNode({}, { clock });
    [alice, bob] = [await newUser(t), await newUser(t)];
  });
  afterEach(closeWatched);
  after(() => t.stop());

  const online = async (c: Credentials, timers?: Timers, encoding?: 'json'): Promise<Watched> => {
    const w = watch(c, { ...(timers ? { timers } : {}), ...(encoding ? { encoding } : {}) });
    await w.client.connect();
    return w;
  };
  const updatesOf = (w: Watched, kind: ChatUpdateKind): ReceivedChatUpdate[] =>
    w.updates.filter((u) => u.update.kind === kind);

  it('pins and unpins messages: Chat.pins, PINNED / UNPINNED updates with pinSeq and pinExpiresAt', async () => {
    clock.set(T);
    const a = await online(alice);
    const b = await online(bob);
    const group = await a.client.createChat({ kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'p' });
    const sent = [];
    for (const s of ['one', 'two', 'three', 'four']) sent.push(await a.client.send(group.id, text(s)));
    const [m1, m2, m3, m4] = sent.map((r) => r.seq) as [number, number, number, number];

    const pinned = await a.client.pin(group.id, m1, '24h');
    assert.deepEqual(pinned.pins, [{ seq: m1, pinnedBy: alice.userId, expiresAt: T + DAY }]);
    assert.deepEqual(JSON.parse(JSON.stringify(pinned)), pinned, 'plain data');
    await until(() => updatesOf(b, ChatUpdateKind.PINNED).length === 1, 'bob sees the pin');
    const [pinUpdate] = updatesOf(b, ChatUpdateKind.PINNED);
    assert.equal(pinUpdate?.update.pinSeq, m1);
    assert.equal(pinUpdate?.update.pinExpiresAt, T + DAY);
    assert.equal(pinUpdate?.senderUserId, alice.userId);

    // Bob pins too; getChat lists both; re-pinning sets the new time.
    const both = await b.client.pin(group.id, m2, '7d');
    assert.deepEqual(both.pins.map((p) => [p.seq, p.pinnedBy, p.expiresAt]).sort(), [
      [m1, alice.userId, T + DAY],
      [m2, bob.userId, T + 7 * DAY],
    ]);
    const repinned = await a.client.pin(group.id, m1, '30d');
    assert.equal(repinned.pins.find((p) => p.seq === m1)?.expiresAt, T + 30 * DAY);
    assert.deepEqual((await b.client.getChat(group.id)).pins, repinned.pins);

    // At most 3 in force.
    await a.client.pin(group.id, m3, '24h');
    await assert.rejects(a.client.pin(group.id, m4, '24h'), { code: 'TOO_MANY_PINS' });

    // Unpin: gone from Chat.pins, announced with pinSeq; unpinning again is NOT_FOUND.
    const unpinned = await b.client.unpin(group.id, m1);
    assert.deepEqual(unpinned.pins.map((p) => p.seq).sort(), [m2, m3].sort());
    await until(() => updatesOf(a, ChatUpdateKind.UNPINNED).length === 1, 'alice sees the unpin');
    const [unpinUpdate] = updatesOf(a, ChatUpdateKind.UNPINNED);
    assert.equal(unpinUpdate?.update.pinSeq, m1);
    assert.equal(unpinUpdate?.senderUserId, bob.userId);
    await assert.rejects(b.client.unpin(group.id, m1), { code: 'NOT_FOUND' });
    await assert.rejects(a.client.pin(group.id, 9999, '24h'), { code: 'NOT_FOUND' });

    // An expired pin leaves Chat.pins and frees its place.
    clock.set(T + DAY + 1);
    assert.deepEqual(
      (await a.client.getChat(group.id)).pins.map((p) => p.seq),
      [m2],
    );
    await a.client.pin(group.id, m4, '24h');
    await a.client.unpin(group.id, m4);
    clock.set(T);
  });

  it('a view-once message arrives with viewOnce in its meta', async () => {
    // The sender speaks JSON here and the receiver binary; the next test sends over binary.
    const a = await online(alice, undefined, 'json');
    const b = await online(bob);
    const chat = await a.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bob.userId] });
    const once = await a.client.send(chat.id, text('look once'), { viewOnce: true });
    const plain = await a.client.send(chat.id, text('keep me'));
    await until(() => b.messages.filter((m) => m.chatId === chat.id).length === 2, 'bob gets both');
    const got = b.messages.find((m) => m.seq === once.seq && m.chatId === chat.id)!;
    assert.equal(got.meta.viewOnce, true);
    assert.equal(untext(got.payload), 'look once');
    const normal = b.messages.find((m) => m.seq === plain.seq && m.chatId === chat.id)!;
    assert.equal(normal.meta.viewOnce, undefined);
    assert.equal(normal.expiresAt, undefined);
  });

  it('viewOnce survives the proto encoding', async () => {
    const a = await online(alice);
    const b = await online(bob);
    const chat = await a.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bob.userId] });
    const once = await a.client.send(chat.id, text('look once'), { viewOnce: true });
    await until(() => b.messages.some((m) => m.chatId === chat.id && m.seq === once.seq), 'bob gets it');
    assert.equal(b.messages.find((m) => m.chatId === chat.id && m.seq === once.seq)?.meta.viewOnce, true);
  });

  it('a disappearing timer makes messages carry expiresAt, and the client emits expired for them', async () => {
    clock.set(T);
    const timers = new ManualTimers(T);
    const a = await online(alice);
    const b = await online(bob, timers);
    const expired: ExpiredInfo[] = [];
    b.client.on('expired', (e) => {
      expired.push(e);
    });
    const chat = await a.client.createChat({ kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'd' });
    const before = await a.client.send(chat.id, text('stays'));

    await assert.rejects(b.client.setDisappearing(chat.id, 3600 as 0), { code: 'INVALID_ARGUMENT' });
    const set = await b.client.setDisappearing(chat.id, 86400);
    assert.equal(set.disappearingSeconds, 86400);
    assert.equal((await a.client.getChat(chat.id)).disappearingSeconds, 86400);
    await until(() => updatesOf(a, ChatUpdateKind.DISAPPEARING_CHANGED).length === 1, 'alice sees the timer');
    assert.equal(updatesOf(a, ChatUpdateKind.DISAPPEARING_CHANGED)[0]?.update.disappearingSeconds, 86400);

    clock.set(T + 1000);
    const first = await a.client.send(chat.id, text('gone tomorrow'));
    clock.set(T + 2000);
    const second = await a.client.send(chat.id, text('gone a second later'));
    await until(() => b.messages.filter((m) => m.chatId === chat.id).length === 3, 'bob gets all three');
    const bySeq = new Map(b.messages.filter((m) => m.chatId === chat.id).map((m) => [m.seq, m]));
    assert.equal(bySeq.get(before.seq)?.expiresAt, undefined);
    assert.equal(bySeq.get(first.seq)?.expiresAt, T + 1000 + DAY);
    assert.equal(bySeq.get(second.seq)?.expiresAt, T + 2000 + DAY);
    // Tracked once the app's listeners are done with them.
    await until(() => b.client.expiry.size === 2, 'bob tracks both');

    timers.advance(1000 + DAY - 1);
    assert.deepEqual(expired, []);
    timers.advance(1);
    assert.deepEqual(expired, [{ chatId: chat.id, seq: first.seq }]);
    timers.advance(1000);
    assert.deepEqual(expired, [
      { chatId: chat.id, seq: first.seq },
      { chatId: chat.id, seq: second.seq },
    ]);
    assert.equal(b.client.expiry.size, 0);

    // Turning the timer off: announced with 0, later messages carry no expiry.
    const off = await a.client.setDisappearing(chat.id, 0);
    assert.equal(off.disappearingSeconds, 0);
    await until(
      () => updatesOf(b, ChatUpdateKind.DISAPPEARING_CHANGED).some((u) => u.senderUserId === alice.userId),
      'bob sees it off',
    );
    const [offUpdate] = updatesOf(b, ChatUpdateKind.DISAPPEARING_CHANGED).filter(
      (u) => u.senderUserId === alice.userId,
    );
    assert.equal(offUpdate?.update.disappearingSeconds, 0);
    const later = await a.client.send(chat.id, text('normal again'));
    await until(() => b.messages.some((m) => m.chatId === chat.id && m.seq === later.seq), 'bob gets it');
    assert.equal(b.messages.find((m) => m.chatId === chat.id && m.seq === later.seq)?.expiresAt, undefined);
    assert.equal(b.client.expiry.size, 0);

    // Messages read from history are tracked too (here: already past their time). The same
    // device on a new client, so the old one goes first (a second socket would replace it).
    await b.client.close();
    const later3 = new ManualTimers(T + 3 * DAY);
    const h = await online(bob, later3);
    const fromHistory: ExpiredInfo[] = [];
    h.client.on('expired', (e) => {
      fromHistory.push(e);
    });
    const page = await h.client.history(chat.id);
    assert.ok(page.messages.some((m) => m.seq === first.seq));
    assert.equal(h.client.expiry.expiresAt(chat.id, first.seq), T + 1000 + DAY);
    assert.equal(h.client.expiry.expiresAt(chat.id, before.seq), undefined);
    later3.advance(0);
    assert.deepEqual(
      fromHistory.map((e) => e.seq),
      [first.seq, second.seq],
    );
  });
});
