/**
 * The blocking, reports and moderation part of the Store conformance suite (run by
 * storeContract): block lists with their bound, withheld messages, reports with disclosed
 * messages, suspension, the admin audit and stats, and what erasing an account removes.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Store } from './store.js';
import { addUser, bytes, chatInput, T0 } from './store-fixtures.js';
import type { ChatId, UserId } from './types.js';

type StoreTest = (title: string, body: (store: Store) => Promise<void>) => void;

export function moderationContract(test: StoreTest): void {
  describe('blocking', () => {
    test('blockAdd adds once, blocksOf lists oldest first, blockRemove removes once', async (store) => {
      const a = await addUser(store, 1);
      const b = await addUser(store, 2);
      const c = await addUser(store, 3);
      assert.deepEqual(await store.blocksOf(a.userId), []);
      assert.equal(await store.blockAdd(a.userId, c.userId, T0 + 2, 10), true);
      assert.equal(await store.blockAdd(a.userId, b.userId, T0 + 5, 10), true);
      assert.equal(await store.blockAdd(a.userId, b.userId, T0 + 9, 10), false, 'a repeat changes nothing');
      assert.deepEqual(await store.blocksOf(a.userId), [
        { userId: c.userId, blockedAt: T0 + 2 },
        { userId: b.userId, blockedAt: T0 + 5 },
      ]);
      assert.deepEqual(await store.blocksOf(b.userId), [], 'blocks are one way');
      assert.equal(await store.blockRemove(a.userId, c.userId), true);
      assert.equal(await store.blockRemove(a.userId, c.userId), false);
      assert.deepEqual(await store.blocksOf(a.userId), [{ userId: b.userId, blockedAt: T0 + 5 }]);
    });

    test('blocksPage walks every block in (user, blocked) order, page by page', async (store) => {
      const users = [];
      for (let n = 1; n <= 4; n++) users.push(await addUser(store, n));
      const [u1, u2, u3, u4] = users as [
        (typeof users)[0],
        (typeof users)[0],
        (typeof users)[0],
        (typeof users)[0],
      ];
      await store.blockAdd(u3.userId, u1.userId, T0, 10);
      await store.blockAdd(u1.userId, u4.userId, T0, 10);
      await store.blockAdd(u1.userId, u2.userId, T0 + 1, 10);
      await store.blockAdd(u2.userId, u3.userId, T0, 10);
      const all: Array<[string, string]> = [];
      let after: { userId: UserId; blockedUserId: UserId } | undefined;
      for (;;) {
        const page = await store.blocksPage(after, 2);
        assert.ok(page.length <= 2);
        if (page.length === 0) break;
        for (const p of page) all.push([p.userId, p.blockedUserId]);
        after = page.at(-1);
      }
      assert.deepEqual(all, [
        [u1.userId, u2.userId],
        [u1.userId, u4.userId],
        [u2.userId, u3.userId],
        [u3.userId, u1.userId],
      ]);
    });

    test('blockAdd refuses BLOCK_LIST_FULL at the bound and keeps the list as it was', async (store) => {
      const a = await addUser(store, 1);
      const b = await addUser(store, 2);
      const c = await addUser(store, 3);
      await store.blockAdd(a.userId, b.userId, T0, 1);
      await assert.rejects(store.blockAdd(a.userId, c.userId, T0, 1), { code: 'BLOCK_LIST_FULL' });
      assert.equal(await store.blockAdd(a.userId, b.userId, T0, 1), false, 'a repeat at the bound is fine');
      assert.deepEqual(
        (await store.blocksOf(a.userId)).map((e) => e.userId),
        [b.userId],
      );
    });

    test('a withheld message reaches its sender only: reads, history, unread counts and last message', async (store) => {
      const a = await addUser(store, 1);
      const b = await addUser(store, 2);
      await store.chatCreate(chatInput('d', a, [b], 'direct'));
      const chat = 'd' as ChatId;
      const base = {
        chatId: chat,
        senderUserId: b.userId,
        senderDeviceId: b.deviceId,
        serverTime: T0 + 1,
        devicePayloads: undefined,
      };
      const [open] = await store.messageCommit([{ ...base, clientMessageId: 'open', payload: bytes('hi') }]);
      const [held] = await store.messageCommit([
        { ...base, clientMessageId: 'held', payload: bytes('spam'), withheld: true },
      ]);
      assert.ok(open?.ok && held?.ok);
      const read = await store.messagesRead(a.deviceId, chat, 0, 10, 10);
      assert.deepEqual(
        read.map((m) => [m.seq, m.withheld === true]),
        [
          [1, false],
          [2, false],
          [3, true],
        ],
        'reads flag the withheld message (the delivery path skips it for the blocker)',
      );
      const history = await store.messagesHistory(a.deviceId, chat, { limit: 10 });
      assert.equal(history.find((m) => m.seq === 3)?.withheld, true);
      const [forA] = await store.chatSummaries(a.userId);
      assert.equal(forA?.unreadCount, 1, 'the withheld message is not unread for the blocker');
      assert.equal(forA?.lastMessage?.seq, 2, 'nor is it the blocker\u2019s last message');
      const [forB] = await store.chatSummaries(b.userId);
      assert.equal(forB?.lastMessage?.seq, 3, 'the sender sees it as the last message');
    });
  });

  describe('reports and moderation', () => {
    const report = (id: string, reporter: UserId, target: UserId | undefined, at: number) => ({
      id,
      reporterUserId: reporter,
      targetUserId: target,
      chatId: 'd' as ChatId,
      reason: 'spam' as const,
      detail: 'sells things',
      messages: [{ seq: 2, senderUserId: target ?? reporter, serverTime: T0, text: 'buy now \u{1F4B0}' }],
      createdAt: at,
    });

    test('reports are stored with their messages, listed newest first, resolved once', async (store) => {
      const a = await addUser(store, 1);
      const b = await addUser(store, 2);
      await store.reportCreate(report('r1', a.userId, b.userId, T0 + 1));
      await store.reportCreate({ ...report('r2', b.userId, undefined, T0 + 2), messages: [] });
      const r1 = await store.reportGet('r1');
      assert.deepEqual(r1, {
        ...report('r1', a.userId, b.userId, T0 + 1),
        status: 'open',
        resolvedAt: undefined,
        resolution: '',
      });
      assert.deepEqual(
        (await store.reportsList({ limit: 10 })).map((r) => r.id),
        ['r2', 'r1'],
      );
      assert.equal((await store.reportGet('r2'))?.targetUserId, undefined);
      assert.equal(await store.reportResolve('r1', T0 + 9, 'suspended'), true);
      assert.equal(await store.reportResolve('r1', T0 + 10, 'again'), false, 'resolved once');
      assert.equal(await store.reportResolve('nope', T0, ''), false);
      assert.deepEqual(
        (await store.reportsList({ status: 'open', limit: 10 })).map((r) => r.id),
        ['r2'],
      );
      const resolved = await store.reportGet('r1');
      assert.equal(resolved?.status, 'resolved');
      assert.equal(resolved?.resolvedAt, T0 + 9);
      assert.equal(resolved?.resolution, 'suspended');
      assert.equal((await store.reportsList({ limit: 1 })).length, 1, 'limit holds');
      assert.equal(await store.reportGet('nope'), undefined);
    });

    test('suspension: set once, seen by deviceByTokenHash and usersSuspendedSince, lifted once', async (store) => {
      const a = await addUser(store, 1);
      const b = await addUser(store, 2);
      assert.equal(await store.userSuspension(a.userId), undefined);
      assert.equal(await store.userSuspend(a.userId, T0 + 5, 'spam'), true);
      assert.equal(await store.userSuspend(a.userId, T0 + 6, 'again'), false);
      assert.equal(await store.userSuspend('nobody' as UserId, T0, ''), false);
      assert.deepEqual(await store.userSuspension(a.userId), { at: T0 + 5, reason: 'spam' });
      assert.equal((await store.deviceByTokenHash(`token-${a.deviceId}`))?.suspendedAt, T0 + 5);
      assert.equal((await store.deviceByTokenHash(`token-${b.deviceId}`))?.suspendedAt, undefined);
      await store.userSuspend(b.userId, T0 + 7, '');
      assert.deepEqual(await store.usersSuspendedSince(T0 + 5, 10), [
        { userId: a.userId, at: T0 + 5 },
        { userId: b.userId, at: T0 + 7 },
      ]);
      assert.deepEqual(await store.usersSuspendedSince(T0 + 6, 10), [{ userId: b.userId, at: T0 + 7 }]);
      assert.equal(await store.userUnsuspend(a.userId), true);
      assert.equal(await store.userUnsuspend(a.userId), false);
      assert.equal(await store.userSuspension(a.userId), undefined);
      assert.equal((await store.deviceByTokenHash(`token-${a.deviceId}`))?.suspendedAt, undefined);
    });

    test('the audit keeps entries newest first; stats count what is stored', async (store) => {
      const a = await addUser(store, 1);
      const b = await addUser(store, 2);
      await store.chatCreate(chatInput('g', a, [b]));
      await store.reportCreate(report('r1', a.userId, b.userId, T0));
      await store.userSuspend(b.userId, T0, '');
      await store.auditRecord({
        at: T0,
        actor: 'ops',
        action: 'suspend',
        target: b.userId,
        detail: { reason: 'x' },
      });
      await store.auditRecord({ at: T0 + 1, actor: 'ops', action: 'resolve', target: 'r1', detail: {} });
      assert.deepEqual(await store.auditList(10), [
        { at: T0 + 1, actor: 'ops', action: 'resolve', target: 'r1', detail: {} },
        { at: T0, actor: 'ops', action: 'suspend', target: b.userId, detail: { reason: 'x' } },
      ]);
      assert.deepEqual(await store.adminStats(), {
        accounts: 2,
        devices: 2,
        chats: 1,
        messages: 1,
        reports: 1,
        openReports: 1,
        suspended: 1,
      });
    });

    test('erasing an account removes its blocks (both ways) and reports by or about it', async (store) => {
      const a = await addUser(store, 1);
      const b = await addUser(store, 2);
      const c = await addUser(store, 3);
      await store.blockAdd(a.userId, b.userId, T0, 10);
      await store.blockAdd(b.userId, a.userId, T0, 10);
      await store.blockAdd(c.userId, a.userId, T0, 10);
      await store.reportCreate(report('by-b', b.userId, a.userId, T0));
      await store.reportCreate(report('about-b', a.userId, b.userId, T0));
      await store.reportCreate({ ...report('names-b', c.userId, undefined, T0) });
      await store.reportCreate({
        ...report('other', c.userId, a.userId, T0),
      });
      const names = await store.reportGet('names-b');
      await store.reportCreate({
        ...names!,
        id: 'discloses-b',
        messages: [{ seq: 1, senderUserId: b.userId, serverTime: T0, text: 'x' }],
      });
      await store.accountErase({ userId: b.userId, codeKeys: [], leftChatIds: [] });
      assert.deepEqual(await store.blocksOf(a.userId), []);
      assert.deepEqual(await store.blocksOf(b.userId), []);
      assert.deepEqual(
        (await store.blocksOf(c.userId)).map((e) => e.userId),
        [a.userId],
      );
      assert.deepEqual((await store.reportsList({ limit: 10 })).map((r) => r.id).sort(), [
        'names-b',
        'other',
      ]);
    });
  });
}
