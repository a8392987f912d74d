/**
 * Blocking over real sockets, on SQLite and (when PARLEY_TEST_POSTGRES_URL is set) PostgreSQL:
 * a blocked user's messages in the direct chat are acknowledged to them (one tick) and never
 * reach the blocker — not live, not on reconnect, not in history, not after an unblock; they
 * get no receipts from the blocker, cannot see the blocker's presence or typing, and cannot
 * add the blocker to groups; the block list reaches the blocker's other devices. Reports with
 * disclosed messages are stored, and every malformed block or report frame gets a stable code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChatKind, type Frame, type Message, ReportReason, TypingState } from '@parley/protocol';
import type { Store } from '../src/ports/store.js';
import {
  answerCode,
  createGroup,
  linkDevice,
  RawClient,
  register,
  startNode,
  type TestNode,
  text,
} from './harness.js';
import { freshPostgresStore } from './postgres-fixture.js';

const pgUrl = process.env.PARLEY_TEST_POSTGRES_URL;

const backends: Array<{ name: string; open: () => Promise<{ store?: Store; done?: () => Promise<void> }> }> =
  [
    { name: 'SQLite', open: async () => ({}) },
    {
      name: 'PostgreSQL',
      open: async () => {
        const { store, done } = await freshPostgresStore(pgUrl!);
        return { store, done };
      },
    },
  ];

const payloads = (c: RawClient, chatId: string): Message[] =>
  c.messages.filter((m) => m.chatId === chatId && m.body.case === 'payload');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of backends) {
  describe(`blocking and reports (${backend.name})`, {
    skip: backend.name === 'PostgreSQL' && !pgUrl,
  }, () => {
    let t: TestNode;
    let done: (() => Promise<void>) | undefined;

    before(async () => {
      const opened = await backend.open();
      done = opened.done;
      t = await startNode({ ackFlushMs: 0 }, opened.store ? { store: opened.store } : {});
    });
    after(async () => {
      await t.stop();
      await done?.();
    });

    const direct = async (c: RawClient, other: string) =>
      (
        await c.call<{ chat: { id: string } }>({
          case: 'createChat',
          value: { kind: ChatKind.DIRECT, memberUserIds: [other] },
        })
      ).chat.id;
    const send = async (c: RawClient, chatId: string, id: string) =>
      c.call<{ seq: bigint; serverTime: bigint }>({
        case: 'send',
        value: { chatId, clientMessageId: id, payload: text(id) },
      });
    const block = (c: RawClient, userId: string) => c.call({ case: 'block', value: { userId } });
    const unblock = (c: RawClient, userId: string) => c.call({ case: 'unblock', value: { userId } });

    it('a blocked user gets one tick; the blocker gets nothing live, on reconnect, in history or after unblocking', async () => {
      const [alice, bob] = [await register(t), await register(t)];
      const bobLaptop = await linkDevice(t, bob);
      const a = await RawClient.connect(t, alice);
      const b = await RawClient.connect(t, bob);
      const b2 = await RawClient.connect(t, bobLaptop);
      const chatId = await direct(b, alice.userId);
      await send(b, chatId, 'before');
      await a.waitForMessages(1, chatId);
      await block(a, bob.userId);

      const live = await send(b, chatId, 'while-blocked-live');
      assert.ok(live.seq > 0n, 'the blocked sender gets its normal send result');
      await b2.waitFor(
        (f) => f.body.case === 'deliver' && f.body.value.messages.some((m) => m.seq === live.seq),
      );
      await a.close();
      const offline = await send(b, chatId, 'while-blocked-offline');
      // Bob hears no delivered receipt for either: Alice's devices never had them.
      const a2 = await RawClient.connect(t, alice);
      await sleep(300);
      assert.deepEqual(
        payloads(a2, chatId).map((m) => m.seq),
        [],
        'nothing withheld is drained on reconnect',
      );
      const history = await a2.call<{ messages: Message[] }>({
        case: 'history',
        value: { chatId, limit: 50 },
      });
      assert.deepEqual(
        history.messages.filter((m) => m.body.case === 'payload').map((m) => m.clientMessageId),
        ['before'],
        'history leaves the withheld messages out',
      );
      const summary = await a2.call<{ chat: { unreadCount: number; lastMessage?: { seq: bigint } } }>({
        case: 'getChat',
        value: { chatId },
      });
      assert.ok(summary.chat.lastMessage!.seq < live.seq, 'the chat list does not show a withheld message');
      const bobsHistory = await b.call<{ messages: Message[] }>({
        case: 'history',
        value: { chatId, limit: 50 },
      });
      assert.deepEqual(
        bobsHistory.messages.filter((m) => m.body.case === 'payload').map((m) => m.clientMessageId),
        ['before', 'while-blocked-live', 'while-blocked-offline'],
        'the sender sees what it sent',
      );

      // The blocker cannot write to the blocked user.
      const refused = await a2.request({
        case: 'send',
        value: { chatId, clientMessageId: 'no', payload: text('no') },
      });
      assert.equal(answerCode(refused), 'USER_BLOCKED');

      const receiptsAboutAlice = () =>
        b.frames
          .flatMap((f: Frame) =>
            f.body.case === 'receipt'
              ? [f.body.value]
              : f.body.case === 'receipts'
                ? f.body.value.receipts
                : [],
          )
          .filter((r) => r.userId === alice.userId);
      assert.ok(
        receiptsAboutAlice().every((r) => r.deliveredSeq < live.seq),
        'while blocked, no receipt from the blocker covers a message sent during the block',
      );

      await unblock(a2, bob.userId);
      const after = await send(b, chatId, 'after-unblock');
      await a2.waitFor(
        (f) => f.body.case === 'deliver' && f.body.value.messages.some((m) => m.seq === after.seq),
      );
      await a2.close();
      const a3 = await RawClient.connect(t, alice);
      await sleep(300);
      assert.ok(
        !a3.messages.some((m) => m.seq === live.seq || m.seq === offline.seq),
        'messages sent during the block stay undelivered after the unblock',
      );
      await Promise.all([a3.close(), b.close(), b2.close()]);
    });

    it('in groups messages still flow, but the blocker sends no receipts, presence or typing to the blocked user, who cannot add them', async () => {
      const [alice, bob, carol] = [await register(t), await register(t), await register(t)];
      const a = await RawClient.connect(t, alice);
      const b = await RawClient.connect(t, bob);
      const c = await RawClient.connect(t, carol);
      const group = await createGroup(c, [alice.userId, bob.userId]);
      await block(a, bob.userId);

      // Group messages from the blocked user are delivered (as on WhatsApp).
      const m = await send(b, group, 'group-hello');
      await a.waitFor((f) => f.body.case === 'deliver' && f.body.value.messages.some((x) => x.seq === m.seq));
      await a.call({ case: 'markRead', value: { chatId: group, seq: m.seq } });
      // Carol's receipt reaches Bob; Alice's never does.
      await c.waitFor((f) => f.body.case === 'deliver' && f.body.value.messages.some((x) => x.seq === m.seq));
      await c.call({ case: 'markRead', value: { chatId: group, seq: m.seq } });
      await b.waitFor(
        (f) =>
          (f.body.case === 'receipt' &&
            f.body.value.userId === carol.userId &&
            f.body.value.readSeq >= m.seq) ||
          (f.body.case === 'receipts' &&
            f.body.value.receipts.some((r) => r.userId === carol.userId && r.readSeq >= m.seq)),
      );
      await sleep(100);
      const fromAlice = b.frames.some(
        (f) =>
          (f.body.case === 'receipt' && f.body.value.userId === alice.userId) ||
          (f.body.case === 'receipts' && f.body.value.receipts.some((r) => r.userId === alice.userId)),
      );
      assert.equal(fromAlice, false, 'no receipt from the blocker reaches the blocked user');
      const details = await b.call<{
        members: Array<{ userId: string; deliveredAt: bigint; readAt: bigint }>;
      }>({
        case: 'getReceipts',
        value: { chatId: group, seq: m.seq },
      });
      const aliceRow = details.members.find((x) => x.userId === alice.userId)!;
      assert.deepEqual([aliceRow.deliveredAt, aliceRow.readAt], [0n, 0n]);
      assert.ok(details.members.find((x) => x.userId === carol.userId)!.readAt > 0n);

      // Presence: Alice is online, yet Bob sees her offline with no last seen; Carol sees her.
      const seenByBob = await b.call<{ users: Array<{ userId: string; online: boolean; lastSeen: bigint }> }>(
        {
          case: 'subscribePresence',
          value: { userIds: [alice.userId, carol.userId] },
        },
      );
      assert.deepEqual(
        seenByBob.users.map((u) => [u.userId, u.online, u.lastSeen]),
        [
          [alice.userId, false, 0n],
          [carol.userId, true, 0n],
        ],
      );
      const seenByCarol = await c.call<{ users: Array<{ online: boolean }> }>({
        case: 'subscribePresence',
        value: { userIds: [alice.userId] },
      });
      assert.equal(seenByCarol.users[0]!.online, true);
      // Alice going away and coming back is pushed to Carol, not to Bob.
      await a.close();
      await c.waitFor((f) => f.body.case === 'presence' && f.body.value.presence?.userId === alice.userId);
      const a2 = await RawClient.connect(t, alice);
      await c.waitFor(
        (f) =>
          f.body.case === 'presence' &&
          f.body.value.presence?.userId === alice.userId &&
          f.body.value.presence.online,
      );

      // Typing: Carol sees Alice typing, Bob does not.
      await a2.call({ case: 'typing', value: { chatId: group, state: TypingState.COMPOSING } });
      await c.waitFor((f) => f.body.case === 'typingEvent' && f.body.value.userId === alice.userId);
      await sleep(100);
      assert.ok(
        !b.frames.some((f) => f.body.case === 'presence' && f.body.value.presence?.userId === alice.userId),
      );
      assert.ok(!b.frames.some((f) => f.body.case === 'typingEvent' && f.body.value.userId === alice.userId));
      // Nor does the blocker see the blocked user typing.
      await b.call({ case: 'typing', value: { chatId: group, state: TypingState.COMPOSING } });
      await c.waitFor((f) => f.body.case === 'typingEvent' && f.body.value.userId === bob.userId);
      await sleep(100);
      assert.ok(!a2.frames.some((f) => f.body.case === 'typingEvent' && f.body.value.userId === bob.userId));

      // Adding: Bob cannot add Alice to a new group or an existing one; Carol can.
      const newGroup = await b.request({
        case: 'createChat',
        value: { kind: ChatKind.GROUP, name: 'x', memberUserIds: [alice.userId, carol.userId] },
      });
      assert.equal(answerCode(newGroup), 'CANNOT_ADD_USER');
      const bobs = await createGroup(b, [carol.userId]);
      assert.equal(
        answerCode(await b.request({ case: 'addMembers', value: { chatId: bobs, userIds: [alice.userId] } })),
        'CANNOT_ADD_USER',
      );
      const carols = await createGroup(c, [bob.userId]);
      assert.equal(
        answerCode(
          await c.request({ case: 'addMembers', value: { chatId: carols, userIds: [alice.userId] } }),
        ),
        'chatResult',
      );
      // A direct chat with the blocker may still be opened (messages in it are withheld).
      assert.equal(
        answerCode(
          await b.request({
            case: 'createChat',
            value: { kind: ChatKind.DIRECT, memberUserIds: [alice.userId] },
          }),
        ),
        'chatResult',
      );
      await Promise.all([a2.close(), b.close(), c.close()]);
    });

    it('a user watching the blocker\u2019s presence sees them go offline when blocked, and back when unblocked', async () => {
      const [alice, bob] = [await register(t), await register(t)];
      const a = await RawClient.connect(t, alice);
      const b = await RawClient.connect(t, bob);
      await direct(b, alice.userId);
      const first = await b.call<{ users: Array<{ online: boolean }> }>({
        case: 'subscribePresence',
        value: { userIds: [alice.userId] },
      });
      assert.equal(first.users[0]!.online, true);
      const presenceOfAlice = (online: boolean) => (f: Frame) =>
        f.body.case === 'presence' &&
        f.body.value.presence?.userId === alice.userId &&
        f.body.value.presence.online === online;
      await block(a, bob.userId);
      const off = await b.waitFor(presenceOfAlice(false));
      assert.ok(off.body.case === 'presence');
      assert.equal(off.body.value.presence?.lastSeen, 0n, 'no last seen either');
      await unblock(a, bob.userId);
      await b.waitFor(presenceOfAlice(true));
      await Promise.all([a.close(), b.close()]);
    });

    it('the block list syncs to the blocker\u2019s other devices: pushed to those online, fetched on connect', async () => {
      const [alice, bob, carol] = [await register(t), await register(t), await register(t)];
      const laptop = await linkDevice(t, alice);
      const phone = await RawClient.connect(t, alice);
      const lap = await RawClient.connect(t, laptop);
      const r = await phone.call<{ users: Array<{ userId: string; blockedAt: bigint }> }>({
        case: 'block',
        value: { userId: bob.userId },
      });
      assert.deepEqual(
        r.users.map((u) => u.userId),
        [bob.userId],
      );
      const pushed = await lap.waitFor((f) => f.body.case === 'blockListChanged');
      assert.ok(pushed.body.case === 'blockListChanged');
      assert.deepEqual(
        pushed.body.value.users.map((u) => u.userId),
        [bob.userId],
      );
      assert.ok(
        !phone.frames.some((f) => f.body.case === 'blockListChanged'),
        'not pushed to the device that asked',
      );
      await lap.close();
      await phone.call({ case: 'block', value: { userId: carol.userId } });
      await phone.call({ case: 'block', value: { userId: carol.userId } }); // idempotent
      const lap2 = await RawClient.connect(t, laptop);
      const listed = await lap2.call<{ users: Array<{ userId: string }> }>({
        case: 'listBlocked',
        value: {},
      });
      assert.deepEqual(
        listed.users.map((u) => u.userId),
        [bob.userId, carol.userId],
      );
      await lap2.call({ case: 'unblock', value: { userId: bob.userId } });
      const after = await phone.waitFor(
        (f) => f.body.case === 'blockListChanged' && f.body.value.users.length === 1,
      );
      assert.ok(after.body.case === 'blockListChanged');
      assert.equal(after.body.value.users[0]!.userId, carol.userId);
      await Promise.all([phone.close(), lap2.close()]);
    });

    it('a report is stored with the messages the reporter disclosed, and may block the user', async () => {
      const [alice, bob] = [await register(t), await register(t)];
      const a = await RawClient.connect(t, alice);
      const b = await RawClient.connect(t, bob);
      const chatId = await direct(b, alice.userId);
      const s1 = await send(b, chatId, 'buy-now');
      const s2 = await send(b, chatId, 'cheap-pills');
      await a.waitForMessages(2, chatId);
      const res = await a.call<{ reportId: string; blocked: boolean; users: Array<{ userId: string }> }>({
        case: 'report',
        value: {
          chatId,
          reason: ReportReason.SPAM,
          detail: 'unsolicited ads',
          block: true,
          messages: [
            { seq: s1.seq, senderUserId: bob.userId, serverTime: s1.seq, text: 'buy now!' },
            { seq: s2.seq, senderUserId: bob.userId, serverTime: 5n, text: 'cheap pills \u{1F48A}' },
          ],
        },
      });
      assert.equal(res.blocked, true, 'reporting a direct chat with block blocks its other member');
      assert.deepEqual(
        res.users.map((u) => u.userId),
        [bob.userId],
      );
      const stored = await t.node.store.reportGet(res.reportId);
      assert.equal(stored?.reporterUserId, alice.userId);
      assert.equal(stored?.chatId, chatId);
      assert.equal(stored?.reason, 'spam');
      assert.equal(stored?.status, 'open');
      assert.deepEqual(
        stored?.messages.map((m) => [m.seq, m.senderUserId, m.serverTime, m.text]),
        [
          [Number(s1.seq), bob.userId, Number(s1.serverTime), 'buy now!'],
          [Number(s2.seq), bob.userId, Number(s2.serverTime), 'cheap pills \u{1F48A}'],
        ],
        'stored with the messages\u2019 own server times, whatever the client said',
      );
      // A user-only report, without messages or block.
      const plain = await b.call<{ reportId: string; blocked: boolean }>({
        case: 'report',
        value: { userId: alice.userId, reason: ReportReason.HARASSMENT },
      });
      assert.equal(plain.blocked, false);
      assert.equal((await t.node.store.reportGet(plain.reportId))?.targetUserId, alice.userId);
      await Promise.all([a.close(), b.close()]);
    });

    it('malformed block and report frames get stable codes and change nothing', async () => {
      const [alice, bob, carol] = [await register(t), await register(t), await register(t)];
      const a = await RawClient.connect(t, alice);
      const b = await RawClient.connect(t, bob);
      const chatId = await direct(b, alice.userId);
      const s = await send(b, chatId, 'x');
      const others = await createGroup(b, [carol.userId]);
      const code = async (body: Parameters<RawClient['request']>[0]) => answerCode(await a.request(body));
      assert.equal(await code({ case: 'block', value: { userId: '' } }), 'INVALID_ARGUMENT');
      assert.equal(await code({ case: 'block', value: { userId: 'x'.repeat(65) } }), 'INVALID_ARGUMENT');
      assert.equal(await code({ case: 'block', value: { userId: alice.userId } }), 'INVALID_ARGUMENT');
      assert.equal(await code({ case: 'block', value: { userId: 'u_nobody' } }), 'USER_NOT_FOUND');
      assert.equal(await code({ case: 'unblock', value: { userId: '' } }), 'INVALID_ARGUMENT');
      const msg = (over: Record<string, unknown> = {}) => ({
        seq: s.seq,
        senderUserId: bob.userId,
        serverTime: 1n,
        text: 'x',
        ...over,
      });
      const report = (value: Record<string, unknown>) => code({ case: 'report', value: value as never });
      const bad: Array<[Record<string, unknown>, string]> = [
        [{ chatId }, 'INVALID_ARGUMENT'], // no reason
        [{ chatId, reason: 99 }, 'INVALID_ARGUMENT'],
        [{ reason: ReportReason.SPAM }, 'INVALID_ARGUMENT'], // neither user nor chat
        [{ userId: alice.userId, reason: ReportReason.SPAM }, 'INVALID_ARGUMENT'], // oneself
        [{ userId: 'u_nobody', reason: ReportReason.SPAM }, 'USER_NOT_FOUND'],
        [{ chatId: 'c_nope', reason: ReportReason.SPAM }, 'CHAT_NOT_FOUND'],
        [{ chatId: others, reason: ReportReason.SPAM }, 'NOT_A_MEMBER'],
        [{ chatId, reason: ReportReason.SPAM, detail: 'd'.repeat(501) }, 'INVALID_ARGUMENT'],
        [{ userId: bob.userId, reason: ReportReason.SPAM, messages: [msg()] }, 'INVALID_ARGUMENT'], // no chat
        [
          { chatId, reason: ReportReason.SPAM, messages: Array.from({ length: 6 }, () => msg()) },
          'INVALID_ARGUMENT',
        ],
        [{ chatId, reason: ReportReason.SPAM, messages: [msg(), msg()] }, 'INVALID_ARGUMENT'], // twice
        [
          { chatId, reason: ReportReason.SPAM, messages: [msg({ text: 'x'.repeat(4097) })] },
          'INVALID_ARGUMENT',
        ],
        [
          { chatId, reason: ReportReason.SPAM, messages: [msg({ text: '\u{1F4A9}'.repeat(1025) })] },
          'INVALID_ARGUMENT',
        ],
        [{ chatId, reason: ReportReason.SPAM, messages: [msg({ seq: 0n })] }, 'INVALID_ARGUMENT'],
        [{ chatId, reason: ReportReason.SPAM, messages: [msg({ seq: 999n })] }, 'INVALID_ARGUMENT'],
        [
          { chatId, reason: ReportReason.SPAM, messages: [msg({ senderUserId: alice.userId })] },
          'INVALID_ARGUMENT',
        ],
        [{ chatId, reason: ReportReason.SPAM, messages: [msg({ senderUserId: '' })] }, 'INVALID_ARGUMENT'],
      ];
      for (const [value, want] of bad)
        assert.equal(
          await report(value),
          want,
          JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 200),
        );
      assert.equal(
        (await t.node.store.reportsList({ limit: 1000 })).filter(
          (r) => r.reporterUserId === (alice.userId as string),
        ).length,
        0,
      );
      assert.deepEqual(await t.node.store.blocksOf(alice.userId as never), []);
      // Exactly 4096 bytes is fine.
      assert.equal(
        await report({ chatId, reason: ReportReason.OTHER, messages: [msg({ text: 'é'.repeat(2048) })] }),
        'reportResult',
      );
      await Promise.all([a.close(), b.close()]);
    });
  });
}
