/**
 * Blocking, reports and suspension through the real SDK (ParleyClient) against a real node:
 * block and unblock keep `client.blocked` and the `blockList` event in step on every device of
 * the user (pushed while connected, fetched on connect), a blocked sender's message resolves
 * its send with one tick and never reaches the blocker, `report` returns its id and blocks, and
 * a suspension ends the client for good with ACCOUNT_SUSPENDED (no reconnect).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type BlockedUserInfo, ChatKind, createLinkCode, linkDevice } from '@parley/sdk';
import type { UserId } from '../src/ports/types.js';
import { startNode, type TestNode } from './harness.js';
import { closeWatched, newUser, text, until, watch } from './sdk-helpers.js';

describe('blocking through the SDK', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode({ suspensionCheckMs: 100 });
  });
  afterEach(() => closeWatched());
  after(() => t.stop());

  it('block lists follow the user across devices; a blocked sender gets one tick and nothing arrives', async () => {
    const alice = await newUser(t);
    const bob = await newUser(t);
    const laptopCreds = await linkDevice(t.url, { code: (await createLinkCode(alice)).code });
    const phone = watch(alice);
    const laptop = watch(laptopCreds);
    const b = watch(bob);
    const lists: BlockedUserInfo[][] = [];
    laptop.client.on('blockList', (l) => {
      lists.push(l);
    });
    await Promise.all([phone.client.connect(), laptop.client.connect(), b.client.connect()]);
    await until(() => lists.length === 1, 'the list fetched on connect');
    assert.deepEqual(lists[0], []);

    const after = await phone.client.block(bob.userId);
    assert.deepEqual(
      after.map((u) => u.userId),
      [bob.userId],
    );
    assert.ok(phone.client.blocked.has(bob.userId));
    await until(() => laptop.client.blocked.has(bob.userId), 'the laptop hears of the block');

    const chat = await b.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [alice.userId] });
    const sent = await b.client.send(chat.id, text('hello?'));
    assert.ok(sent.seq > 0, 'the blocked sender gets its send result');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      [...phone.messages, ...laptop.messages].filter((m) => m.chatId === chat.id).length,
      0,
      'nothing reaches the blocker',
    );
    await assert.rejects(phone.client.send(chat.id, text('x')), { code: 'USER_BLOCKED' });

    await laptop.client.unblock(bob.userId);
    await until(() => !phone.client.blocked.has(bob.userId), 'the phone hears of the unblock');
    assert.deepEqual(await phone.client.blockedUsers(), []);

    const r = await phone.client.report({ chatId: chat.id, reason: 'spam', block: true });
    assert.match(r.reportId, /^r_/);
    assert.equal(r.blocked, true);
    assert.ok(phone.client.blocked.has(bob.userId));
    await assert.rejects(phone.client.report({ chatId: chat.id, reason: 'nonsense' as never }), {
      code: 'INVALID_ARGUMENT',
    });
  });

  it('a suspension ends the client with ACCOUNT_SUSPENDED and it does not reconnect', async () => {
    const dan = await newUser(t);
    const d = watch(dan);
    await d.client.connect();
    await t.node.store.userSuspend(dan.userId as UserId, Date.now(), 'test');
    await until(() => d.disconnects.some((x) => !x.willReconnect), 'the client stops');
    const last = d.disconnects.at(-1)!;
    assert.equal(last.code, 4004);
    assert.equal((last.error as { code?: string } | undefined)?.code, 'ACCOUNT_SUSPENDED');
    const connects = d.connects;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(d.connects, connects, 'no reconnect');
    const again = watch(dan);
    await assert.rejects(again.client.connect(), { code: 'ACCOUNT_SUSPENDED' });
    await t.node.store.userUnsuspend(dan.userId as UserId);
  });
});
