/**
 * Receipts, read positions, message features (replies, mentions, edits, deletes,
 * reactions, forwards) and group administration through the real SDK (ParleyClient,
 * ReceiptTracker) against a real in-process node.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ChatKind, type Credentials, type Encoding, ReceiptTracker, Role } from '@parley/sdk';
import { startNode, type TestNode } from './harness.js';
import { closeWatched, newUser, text, untext, until, type Watched, watch } from './sdk-helpers.js';

describe('SDK features against a real node', () => {
  let t: TestNode;
  let alice: Credentials;
  let bob: Credentials;
  let carol: Credentials;

  before(async () => {
    t = await startNode();
  });
  beforeEach(async () => {
    [alice, bob, carol] = [await newUser(t), await newUser(t), await newUser(t)];
  });
  afterEach(closeWatched);
  after(() => t.stop());

  const online = async (c: Credentials, encoding: Encoding = 'proto'): Promise<Watched> => {
    const w = watch(c, { encoding });
    await w.client.connect();
    return w;
  };
  const tracked = (w: Watched) => {
    const tracker = new ReceiptTracker();
    tracker.attach(w.client);
    return tracker;
  };

  it('a 1:1 message goes sent → delivered → read, and markRead lowers the unread count', async () => {
    const a = await online(alice);
    const tracker = tracked(a);
    const chat = await a.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bob.userId] });
    const first = await a.client.send(chat.id, text('one'));
    const second = await a.client.send(chat.id, text('two'));
    assert.equal(tracker.status(chat.id, second.seq, [bob.userId]), 'sent');

    const b = await online(bob);
    await until(() => b.messages.length === 2, 'bob gets both');
    await until(() => tracker.status(chat.id, second.seq, [bob.userId]) === 'delivered', 'delivered');

    const [listed] = (await b.client.listChats()).filter((c) => c.id === chat.id);
    assert.equal(listed?.unreadCount, 2);
    assert.equal(listed?.readSeq, 0);
    assert.equal(listed?.lastMessage?.seq, second.seq);
    assert.equal(listed?.lastMessage?.senderUserId, alice.userId);
    assert.equal(typeof listed?.lastMessage?.serverTime, 'number');

    assert.deepEqual(await b.client.markRead(chat.id, first.seq), { readSeq: first.seq, unreadCount: 1 });
    await until(() => tracker.status(chat.id, first.seq, [bob.userId]) === 'read', 'first read');
    assert.equal(tracker.status(chat.id, second.seq, [bob.userId]), 'delivered');
    await b.client.markRead(chat.id, second.seq);
    await until(() => tracker.status(chat.id, second.seq, [bob.userId]) === 'read', 'second read');
    const after = (await b.client.listChats()).find((c) => c.id === chat.id);
    assert.equal(after?.unreadCount, 0);
    assert.equal(after?.readSeq, second.seq);

    // getReceipts: times per member, numbers.
    const receipts = await a.client.getReceipts(chat.id, second.seq);
    assert.equal(receipts.deliveredToAll, true);
    assert.equal(receipts.readByAll, true);
    assert.equal(receipts.members[0]?.userId, bob.userId);
    assert.ok((receipts.members[0]?.readAt ?? 0) > 0);
  });

  it('a group is delivered only once the offline member connects; read when all have read', async () => {
    const a = await online(alice);
    const tracker = tracked(a);
    const group = await a.client.createChat({
      kind: ChatKind.GROUP,
      memberUserIds: [bob.userId, carol.userId],
      name: 'trio',
    });
    const others = [bob.userId, carol.userId];
    const b = await online(bob);
    const sent = await a.client.send(group.id, text('hello all'));
    await until(() => b.messages.length === 1, 'bob gets it');
    await until(() => tracker.position(group.id, bob.userId).deliveredSeq >= sent.seq, 'bob delivered');
    assert.equal(tracker.status(group.id, sent.seq, others), 'sent'); // carol is offline

    await b.client.markRead(group.id, sent.seq);
    await until(() => tracker.position(group.id, bob.userId).readSeq >= sent.seq, 'bob read');
    assert.equal(tracker.status(group.id, sent.seq, others), 'sent');

    const c = await online(carol);
    await until(() => c.messages.length === 1, 'carol gets it');
    await until(() => tracker.status(group.id, sent.seq, others) === 'delivered', 'delivered to all');
    await c.client.markRead(group.id, sent.seq);
    await until(() => tracker.status(group.id, sent.seq, others) === 'read', 'read by all');
  });

  it('with read receipts off, reads are not reported (delivery still is)', async () => {
    const a = await online(alice);
    const tracker = tracked(a);
    const chat = await a.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bob.userId] });
    const b = await online(bob);
    assert.equal(await b.client.setReadReceipts(false), false);
    assert.equal(await b.client.readReceipts(), false);
    const sent = await a.client.send(chat.id, text('secret'));
    await until(() => tracker.status(chat.id, sent.seq, [bob.userId]) === 'delivered', 'delivered');
    await b.client.markRead(chat.id, sent.seq);
    const receipts = await a.client.getReceipts(chat.id, sent.seq);
    assert.equal(receipts.members[0]?.readAt, 0);
    assert.equal(tracker.status(chat.id, sent.seq, [bob.userId]), 'delivered');
    assert.equal(await b.client.setReadReceipts(true), true);
  });

  it('meta survives the proto encoding', async () => {
    const a = await online(alice);
    const b = await online(bob);
    const chat = await a.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bob.userId] });
    const original = await a.client.send(chat.id, text('original'));
    await b.client.react(chat.id, original.seq, '👍');
  });

  it('replies, mentions, edits, reactions and deletes round trip with their meta', async () => {
    const a = await online(alice, 'json');
    const b = await online(bob, 'json');
    const group = await a.client.createChat({
      kind: ChatKind.GROUP,
      memberUserIds: [bob.userId],
      name: 'pair',
    });
    const original = await a.client.send(group.id, text('original'));
    const reply = await b.client.send(group.id, text('a reply'), {
      replyTo: original.seq,
      mentions: [alice.userId],
    });
    const edit = await a.client.edit(group.id, original.seq, text('edited'));
    const reaction = await b.client.react(group.id, original.seq, '👍');
    const unreact = await b.client.react(group.id, original.seq, '');
    const del = await b.client.deleteForEveryone(group.id, reply.seq);
    await until(() => a.messages.length === 4, 'alice gets the reply, reactions and delete');
    const bySeq = new Map(a.messages.map((m) => [m.seq, m]));
    const r = bySeq.get(reply.seq)!;
    assert.equal(untext(r.payload), 'a reply');
    assert.deepEqual(r.meta, {
      type: 'message',
      refSeq: original.seq,
      reaction: '',
      mentions: [alice.userId],
      forwardCount: 0,
    });
    assert.equal(bySeq.get(reaction.seq)?.meta.type, 'reaction');
    assert.equal(bySeq.get(reaction.seq)?.meta.reaction, '👍');
    assert.equal(bySeq.get(unreact.seq)?.meta.reaction, '');
    assert.equal(bySeq.get(del.seq)?.meta.type, 'delete');
    assert.equal(bySeq.get(del.seq)?.meta.refSeq, reply.seq);
    await until(() => b.messages.some((m) => m.seq === edit.seq), 'bob gets the edit');
    const e = b.messages.find((m) => m.seq === edit.seq)!;
    assert.equal(e.meta.type, 'edit');
    assert.equal(e.meta.refSeq, original.seq);
    assert.equal(untext(e.payload), 'edited');

    // History shows the deleted reply without content.
    const page = await a.client.history(group.id);
    const gone = page.messages.find((m) => m.seq === reply.seq);
    assert.ok(gone && 'payload' in gone);
    assert.equal(gone.deleted, true);
    assert.equal(gone.payload.byteLength, 0);

    // Server rules come back as errors.
    await assert.rejects(b.client.edit(group.id, original.seq, text('not mine')), {
      code: 'PERMISSION_DENIED',
    });
    await assert.rejects(a.client.react(group.id, 999, '👍'), { code: 'NOT_FOUND' });
    await assert.rejects(a.client.edit(group.id, 0, text('x')), { code: 'INVALID_ARGUMENT' });
  });

  it('forward sends to several chats with a forward count; many forwards are marked', async () => {
    const a = await online(alice);
    const b = await online(bob);
    const direct = await a.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bob.userId] });
    const group = await a.client.createChat({
      kind: ChatKind.GROUP,
      memberUserIds: [bob.userId, carol.userId],
      name: 'fw',
    });
    const results = await a.client.forward(
      [
        { chatId: direct.id, payload: text('fwd') },
        { chatId: group.id, payload: text('fwd') },
      ],
      1,
    );
    assert.deepEqual(
      results.map((r) => r.chatId),
      [direct.id, group.id],
    );
    await a.client.forward([{ chatId: direct.id, payload: text('viral') }], 7);
    await until(
      () => b.messages.filter((m) => m.meta.forwardCount > 0).length === 3,
      'bob gets the forwards',
    );
    const fw = b.messages.filter((m) => m.meta.forwardCount > 0);
    assert.deepEqual(
      fw.map((m) => [m.meta.forwardCount, m.forwardedMany]),
      [
        [1, false],
        [1, false],
        [7, true],
      ],
    );
    await assert.rejects(a.client.forward([], 1), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(a.client.forward([{ chatId: direct.id, payload: text('x') }], 0), {
      code: 'INVALID_ARGUMENT',
    });
  });

  it('group admin: roles, settings and invite codes', async () => {
    const a = await online(alice);
    const b = await online(bob);
    const c = await online(carol);
    const group = await a.client.createChat({
      kind: ChatKind.GROUP,
      memberUserIds: [bob.userId],
      name: 'club',
    });

    const promoted = await a.client.setRole(group.id, bob.userId, 'admin');
    assert.equal(promoted.members.find((m) => m.userId === bob.userId)?.role, Role.ADMIN);
    const settings = await b.client.updateChat(group.id, { onlyAdminsSend: true, onlyAdminsEditInfo: true });
    assert.equal(settings.onlyAdminsSend, true);
    assert.equal(settings.onlyAdminsEditInfo, true);
    const demoted = await a.client.setRole(group.id, bob.userId, 'member');
    assert.equal(demoted.members.find((m) => m.userId === bob.userId)?.role, Role.MEMBER);
    await assert.rejects(b.client.send(group.id, text('muted')), { code: 'PERMISSION_DENIED' });
    await assert.rejects(b.client.updateChat(group.id, { name: 'mine' }), { code: 'PERMISSION_DENIED' });
    await assert.rejects(b.client.createInvite(group.id), { code: 'PERMISSION_DENIED' });

    const invite = await a.client.createInvite(group.id);
    assert.equal(invite.chatId, group.id);
    assert.ok(invite.code.length > 0);
    const joined = await c.client.joinByInvite(invite.code);
    assert.equal(joined.id, group.id);
    assert.ok(joined.members.some((m) => m.userId === carol.userId));
    await a.client.revokeInvite(group.id);
    const dave = await online(await newUser(t));
    await assert.rejects(dave.client.joinByInvite(invite.code), { code: 'NOT_FOUND' });
    const listed = (await a.client.listChats()).find((ch) => ch.id === group.id);
    assert.equal(listed?.onlyAdminsSend, true);
  });
});

describe('SDK receipts in batches', () => {
  let t: TestNode;

  before(async () => {
    // A long ack flush gathers the members' acks into one flush, so their moves reach the
    // sender as one `receipts` push (receipts.test.ts shows the frame).
    t = await startNode({ ackFlushMs: 300 });
  });
  afterEach(closeWatched);
  after(() => t.stop());

  for (const encoding of ['proto', 'json'] as const) {
    it(`every member of a batch moves the sender's status (${encoding})`, async () => {
      const [alice, bob, carol] = [await newUser(t), await newUser(t), await newUser(t)];
      const [a, b, c] = [watch(alice, { encoding }), watch(bob, { encoding }), watch(carol, { encoding })];
      await Promise.all([a.client.connect(), b.client.connect(), c.client.connect()]);
      const tracker = new ReceiptTracker();
      tracker.attach(a.client);
      const group = await a.client.createChat({
        kind: ChatKind.GROUP,
        memberUserIds: [bob.userId, carol.userId],
        name: 'batch',
      });
      const sent = await a.client.send(group.id, text('hello'));
      await until(
        () => tracker.status(group.id, sent.seq, [bob.userId, carol.userId]) === 'delivered',
        'delivered to both',
      );
    });
  }
});
