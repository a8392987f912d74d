import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Message } from '@parley/protocol';
import { SqliteStore } from '../src/adapters/store/sqlite/sqlite-store.js';
import { ManualClock } from '../src/ports/clock.js';
import { type ChatId, caughtUpSeq, cursorList, type DeviceId } from '../src/ports/types.js';
import {
  type Creds,
  createGroup,
  RawClient,
  register,
  startNode,
  type TestNode,
  text,
  untext,
} from './harness.js';

const payloads = (ms: Message[]) => ms.filter((m) => m.body.case === 'payload');
const texts = (ms: Message[]) => payloads(ms).map((m) => untext(m.body.value as Uint8Array));

const group = (c: RawClient, members: string[]) => createGroup(c, members, 'g');

/**
 * Resolves once the node sent this device everything pending (there is no "caught up" frame:
 * with nothing pending no deliver comes at all). The ping after it flushes what was written.
 */
async function caughtUp(t: TestNode, c: RawClient, deviceId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!t.node.hub.get(deviceId as DeviceId)?.session.caughtUp) {
    if (Date.now() > deadline) throw new Error('the device never caught up');
    await new Promise((r) => setTimeout(r, 10));
  }
  await c.call({ case: 'ping', value: {} });
}

async function sendMany(c: RawClient, chatId: string, n: number, prefix: string): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      c.call({
        case: 'send',
        value: { chatId, clientMessageId: `${prefix}-${i}`, payload: text(`${prefix}${i}`) },
      }),
    ),
  );
}

const expected = (prefix: string, n: number, from = 0) =>
  Array.from({ length: n - from }, (_, i) => `${prefix}${i + from}`);

describe('offline inbox and acks', () => {
  let t: TestNode;
  let alice: Creds;
  let bob: Creds;

  before(async () => {
    t = await startNode({ deliveryWindow: 1000 });
    alice = await register(t);
    bob = await register(t);
  });
  after(() => t.stop());

  it('drains an offline device in order, in pages, then signals it is caught up', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    await sendMany(a, chatId, 250, 'off');
    const b = await RawClient.connect(t, bob);
    await b.waitForMessages(250, chatId);
    assert.deepEqual(texts(b.messages.filter((m) => m.chatId === chatId)), expected('off', 250));
    // 251 messages (250 and the chat's creation) in pages of at most 100; the last page says
    // the backlog is done (backlog false) and no deliver frame is empty.
    const pages = b.frames.flatMap((f) => (f.body.case === 'deliver' ? [f.body.value] : []));
    assert.ok(pages.length >= 3, 'backlog arrives in pages of at most 100');
    for (const p of pages) assert.ok(p.messages.length >= 1 && p.messages.length <= 100);
    assert.deepEqual(
      pages.map((p) => p.backlog),
      pages.map((_, i) => i < pages.length - 1),
    );
    await b.close();
    await a.close();
  });

  it('never redelivers what was acked', async () => {
    const b = await RawClient.connect(t, bob);
    await caughtUp(t, b, bob.deviceId);
    assert.equal(payloads(b.messages).length, 0);
    await b.close();
  });

  it('redelivers everything when the device disconnects before acking', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    await sendMany(a, chatId, 30, 'noack');
    const b1 = await RawClient.connect(t, bob, { autoAck: false });
    await b1.waitForMessages(30, chatId);
    await b1.close();
    const b2 = await RawClient.connect(t, bob);
    await b2.waitForMessages(30, chatId);
    assert.deepEqual(texts(b2.messages.filter((m) => m.chatId === chatId)), expected('noack', 30));
    await b2.close();
    await a.close();
  });

  it('after a partial ack in the middle of a page, redelivers only the rest', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    await sendMany(a, chatId, 40, 'part');
    const b1 = await RawClient.connect(t, bob, { autoAck: false });
    const got = payloads(await b1.waitForMessages(40, chatId));
    const mid = got[14]!;
    b1.sendFrame({ id: 0, body: { case: 'ack', value: { cursors: [{ chatId, seq: mid.seq }] } } });
    await b1.call({ case: 'ping', value: {} }); // the ack was processed before this answer
    await b1.close();
    const b2 = await RawClient.connect(t, bob);
    await b2.waitForMessages(25, chatId);
    await b2.waitFor((f) => f.body.case === 'deliver' && !f.body.value.backlog);
    assert.deepEqual(texts(b2.messages.filter((m) => m.chatId === chatId)), expected('part', 40, 15));
    await b2.close();
    await a.close();
  });

  it('rejects acks for unknown chats and beyond what was sent, clearing nothing', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    await sendMany(a, chatId, 3, 'bad');
    const b1 = await RawClient.connect(t, bob, { autoAck: false });
    const got = payloads(await b1.waitForMessages(3, chatId));
    const unknown = await b1.request({ case: 'ack', value: { cursors: [{ chatId: 'c_nope', seq: 1n }] } });
    assert.equal(unknown.body.case === 'error' && unknown.body.value.code, 'ACK_UNKNOWN_CHAT');
    const ahead = await b1.request({ case: 'ack', value: { cursors: [{ chatId, seq: got[2]!.seq + 5n }] } });
    assert.equal(ahead.body.case === 'error' && ahead.body.value.code, 'ACK_AHEAD');
    await b1.close();
    const b2 = await RawClient.connect(t, bob);
    await b2.waitForMessages(3, chatId);
    assert.deepEqual(texts(b2.messages.filter((m) => m.chatId === chatId)), expected('bad', 3));
    await b2.close();
    await a.close();
  });

  it('an ack with a request id is answered; acking the same seq again is harmless', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    await sendMany(a, chatId, 2, 'twice');
    const b = await RawClient.connect(t, bob, { autoAck: false });
    const got = payloads(await b.waitForMessages(2, chatId));
    const cursor = { chatId, seq: got[1]!.seq };
    assert.equal((await b.request({ case: 'ack', value: { cursors: [cursor] } })).body.case, 'ackResult');
    assert.equal((await b.request({ case: 'ack', value: { cursors: [cursor] } })).body.case, 'ackResult');
    await b.close();
    await a.close();
  });
});

describe('flow control', () => {
  it('never has more than deliveryWindow unacked messages in flight, and resumes on ack', async () => {
    const t = await startNode({ deliveryWindow: 10, drainPageSize: 4 });
    try {
      const alice = await register(t);
      const bob = await register(t);
      const a = await RawClient.connect(t, alice);
      const chatId = await group(a, [bob.userId]);
      await sendMany(a, chatId, 25, 'w');
      const b = await RawClient.connect(t, bob, { autoAck: false });
      // The window counts every delivered message: the chat's "created" update and 9 payloads.
      await b.waitForMessages(9, chatId);
      await b.call({ case: 'ping', value: {} });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(b.messages.length, 10, 'stops at the window');
      b.ackMessages(b.messages);
      await b.waitForMessages(19, chatId);
      assert.equal(b.messages.length, 20);
      b.ackMessages(payloads(b.messages));
      await b.waitForMessages(25, chatId);
      assert.deepEqual(texts(b.messages), expected('w', 25));
      await b.close();
      await a.close();
    } finally {
      await t.stop();
    }
  });

  it('a drain the window pauses goes on where it stopped: the cursors are read at its start and end, not once a page', async () => {
    const { t, cursorReads } = await countingNode({ deliveryWindow: 10, drainPageSize: 4 });
    try {
      const alice = await register(t);
      const bob = await register(t);
      const a = await RawClient.connect(t, alice);
      const first = await group(a, [bob.userId]);
      const second = await group(a, [bob.userId]);
      await sendMany(a, first, 60, 'f');
      await sendMany(a, second, 19, 's');
      // Acking each deliver frame as it comes: the window of 10 pauses the drain again and
      // again, in the first chat and in the second.
      const b = await RawClient.connect(t, bob);
      await b.waitForMessages(10, second);
      await sendMany(a, second, 1, 'late');
      await b.waitForMessages(60, first);
      await b.waitForMessages(20, second);
      await caughtUp(t, b, bob.deviceId);
      const inChat = (chatId: string) => texts(b.messages.filter((m) => m.chatId === chatId));
      assert.deepEqual(inChat(first), expected('f', 60));
      assert.deepEqual(inChat(second), [...expected('s', 19), 'late0']);
      const reads = cursorReads.get(bob.deviceId) ?? 0;
      // 82 messages through a window of 10 pause the drain at least 8 times; with a read
      // each time it went on, there would be one more read a pause.
      assert.ok(reads <= 4, `bob's device read its cursors ${reads} times`);
      console.log(`a drain of 82 messages through a window of 10: ${reads} reads of the cursors`);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await t.stop();
    }
  });
});

describe('slow consumers', () => {
  it('a receiver that stops reading costs the server at most its send buffer; the rest waits in the store', async () => {
    const sendBufferBytes = 256 * 1024;
    const t = await startNode({ sendBufferBytes, heartbeatMs: 60_000 });
    try {
      const alice = await register(t);
      const bob = await register(t);
      const a = await RawClient.connect(t, alice, { encoding: 'proto' });
      const chatId = await group(a, [bob.userId]);
      const b = await RawClient.connect(t, bob, { encoding: 'proto' });
      await b.waitFor((f) => f.body.case === 'deliver' && !f.body.value.backlog);
      // biome-ignore lint/suspicious/noExplicitAny: reaching the TCP socket to stop reading, as a stalled phone would
      (b.ws as any)._socket.pause();
      const big = new Uint8Array(60 * 1024).fill(7);
      let maxBuffered = 0;
      const conn = t.node.hub.get(bob.deviceId as never)!;
      for (let i = 0; i < 300; i++) {
        await a.call({ case: 'send', value: { chatId, clientMessageId: `big-${i}`, payload: big } });
        maxBuffered = Math.max(maxBuffered, conn.bufferedAmount);
      }
      assert.ok(
        maxBuffered <= sendBufferBytes + 2 * big.length + 1024,
        `server buffered ${maxBuffered} bytes for the stalled socket (limit ${sendBufferBytes})`,
      );
      console.log(`stalled receiver: server buffered at most ${maxBuffered} bytes`);
      // biome-ignore lint/suspicious/noExplicitAny: resume reading
      (b.ws as any)._socket.resume();
      const got = await b.waitForMessages(300, chatId, 30_000);
      assert.deepEqual(
        got.map((m) => m.clientMessageId),
        Array.from({ length: 300 }, (_, i) => `big-${i}`),
      );
      await Promise.all([a.close(), b.close()]);
    } finally {
      await t.stop();
    }
  });
});

describe('membership and delivery', () => {
  it('a removed member gets the removal update and nothing after it, online or offline', async () => {
    const t = await startNode();
    try {
      const [alice, bob, carol] = [await register(t), await register(t), await register(t)];
      const a = await RawClient.connect(t, alice);
      const chatId = await group(a, [bob.userId, carol.userId]);
      const b = await RawClient.connect(t, bob);
      await a.call({ case: 'send', value: { chatId, clientMessageId: 'before', payload: text('before') } });
      await b.waitForMessages(1, chatId);
      await a.call({ case: 'removeMember', value: { chatId, userId: bob.userId } });
      await a.call({ case: 'removeMember', value: { chatId, userId: carol.userId } });
      await a.call({ case: 'send', value: { chatId, clientMessageId: 'after', payload: text('after') } });
      await b.waitFor(
        (f) =>
          f.body.case === 'deliver' &&
          f.body.value.messages.some(
            (m) =>
              m.body.case === 'chatUpdate' &&
              m.body.value.userIds.includes(bob.userId) &&
              m.body.value.kind === 3,
          ),
      );
      const send = await b.request({
        case: 'send',
        value: { chatId, clientMessageId: 'x', payload: text('x') },
      });
      assert.equal(send.body.case === 'error' && send.body.value.code, 'NOT_A_MEMBER');
      assert.deepEqual(texts(b.messages.filter((m) => m.chatId === chatId)), ['before']);
      // Carol was offline: she gets the history up to her removal, and nothing after.
      const c = await RawClient.connect(t, carol);
      await c.waitFor((f) => f.body.case === 'deliver' && !f.body.value.backlog);
      const cm = c.messages.filter((m) => m.chatId === chatId);
      assert.deepEqual(texts(cm), ['before']);
      const last = cm[cm.length - 1]!;
      assert.equal(last.body.case === 'chatUpdate' && last.body.value.userIds[0], carol.userId);
      await Promise.all([a.close(), b.close(), c.close()]);
    } finally {
      await t.stop();
    }
  });

  it('a 1024-member group delivers to every online member and queues for the offline ones', async () => {
    const t = await startNode({
      codeRequestsPerHour: 10_000,
      authAttemptsPerMinute: 10_000,
      // 200 devices connect at once from one address.
      maxConnectionsPerIp: 1000,
    });
    try {
      const users: Creds[] = [];
      for (let i = 0; i < 1024; i++) users.push(await register(t));
      const [owner, ...rest] = users;
      const a = await RawClient.connect(t, owner!);
      const chatId = await group(
        a,
        rest.map((u) => u.userId),
      );
      const chat = await a.call<{ chat: { members: unknown[] } }>({ case: 'getChat', value: { chatId } });
      assert.equal(chat.chat.members.length, 1024);
      const over = await a.request({
        case: 'addMembers',
        value: { chatId, userIds: [rest[0]!.userId, 'u_x'] },
      });
      assert.equal(over.body.case === 'error' && over.body.value.code, 'GROUP_FULL');
      const online = await Promise.all(
        rest.slice(0, 200).map((u) => RawClient.connect(t, u, { encoding: 'proto' })),
      );
      await a.call({ case: 'send', value: { chatId, clientMessageId: 'big', payload: text('to all') } });
      for (const c of online) assert.deepEqual(texts(await c.waitForMessages(1, chatId)), ['to all']);
      const late = await RawClient.connect(t, rest[1000]!);
      assert.deepEqual(texts(await late.waitForMessages(1, chatId)), ['to all']);
      await Promise.all([...online, late, a].map((c) => c.close()));
    } finally {
      await t.stop();
    }
  });
});

describe('retention and history', () => {
  /**
   * Alice sends bob five messages in a group; a month later she sends `meanwhile` more, the
   * retention job runs, and `then` goes on while bob has not connected yet.
   */
  async function monthLater(
    meanwhile: number,
    then: (c: { a: RawClient; bob: Creds; chatId: string; t: TestNode }) => Promise<void>,
  ): Promise<void> {
    const clock = new ManualClock();
    const t = await startNode({}, { clock });
    try {
      const alice = await register(t);
      const bob = await register(t);
      const a = await RawClient.connect(t, alice);
      const chatId = await group(a, [bob.userId]);
      await sendMany(a, chatId, 5, 'old');
      clock.advance(31 * 86_400_000);
      await sendMany(a, chatId, meanwhile, 'new');
      const { expired } = await t.node.runRetention();
      assert.ok(expired >= 5);
      await then({ a, bob, chatId, t });
    } finally {
      await t.stop();
    }
  }

  it('expires messages older than 30 days so a device that returns later does not get them', async () => {
    await monthLater(2, async ({ a, bob, chatId, t }) => {
      const b = await RawClient.connect(t, bob);
      await b.waitFor((f) => f.body.case === 'deliver' && !f.body.value.backlog);
      assert.deepEqual(texts(b.messages.filter((m) => m.chatId === chatId)), ['new0', 'new1']);
      await Promise.all([a.close(), b.close()]);
    });
  });

  it('a device whose messages all expired while it was away gets the next one live', async () => {
    await monthLater(0, async ({ a, bob, chatId, t }) => {
      // Nothing of the chat is left past bob's cursor: his connect finds it caught up.
      const b = await RawClient.connect(t, bob);
      await sendMany(a, chatId, 2, 'after');
      await b.waitForMessages(2, chatId);
      assert.deepEqual(texts(b.messages.filter((m) => m.chatId === chatId)), ['after0', 'after1']);
      await Promise.all([a.close(), b.close()]);
    });
  });

  it('history pages backwards and resumes after a given seq', async () => {
    const t = await startNode();
    try {
      const alice = await register(t);
      const bob = await register(t);
      const a = await RawClient.connect(t, alice);
      const chatId = await group(a, [bob.userId]);
      await sendMany(a, chatId, 30, 'h');
      type Page = { messages: Message[]; more: boolean };
      const newest = await a.call<Page>({ case: 'history', value: { chatId, limit: 10 } });
      assert.equal(newest.messages.length, 10);
      assert.equal(newest.more, true);
      assert.deepEqual(texts(newest.messages), expected('h', 30, 20));
      const older = await a.call<Page>({
        case: 'history',
        value: { chatId, beforeSeq: newest.messages[0]!.seq, limit: 100 },
      });
      assert.equal(older.more, false);
      assert.equal(payloads(older.messages).length, 20);
      const resume = await a.call<Page>({
        case: 'history',
        value: { chatId, afterSeq: newest.messages[8]!.seq, limit: 100 },
      });
      assert.deepEqual(texts(resume.messages), ['h29']);
      await a.close();
    } finally {
      await t.stop();
    }
  });
});

/**
 * A node on a store that counts the reads of every cursor of a device (what a device that
 * falls behind does), and the reads of a chat and of its messages.
 */
async function countingNode(config: Parameters<typeof startNode>[0] = {}) {
  const cursorReads = new Map<string, number>();
  const storeCalls = new Map<string, number>();
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const store = new SqliteStore({ path: join(dataDir, 'parley.db') });
  const counting = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      if (prop !== 'cursorsOf' && prop !== 'messagesRead' && prop !== 'chatGet') return v.bind(target);
      return (...args: unknown[]) => {
        storeCalls.set(String(prop), (storeCalls.get(String(prop)) ?? 0) + 1);
        if (prop === 'cursorsOf') {
          const deviceId = args[0] as string;
          cursorReads.set(deviceId, (cursorReads.get(deviceId) ?? 0) + 1);
        }
        return v.apply(target, args);
      };
    },
  });
  const node = await startNode({ ...config, dataDir }, { store: counting });
  const t: TestNode = {
    ...node,
    async stop() {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return { t, store, cursorReads, storeCalls };
}

describe('a new chat reaches its connected members live', () => {
  let t: TestNode;
  let cursorReads: Map<string, number>;
  let storeCalls: Map<string, number>;
  let store: SqliteStore;

  before(async () => {
    ({ t, store, cursorReads, storeCalls } = await countingNode());
  });
  after(() => t.stop());

  it('the CREATED update goes out live, without reading all of the member device cursors', async () => {
    const [alice, bob] = [await register(t), await register(t)];
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    await caughtUp(t, b, bob.deviceId);
    const before = cursorReads.get(bob.deviceId) ?? 0;
    storeCalls.clear();
    const chatId = await group(a, [bob.userId]);
    const frame = await b.waitFor(
      (f) => f.body.case === 'deliver' && f.body.value.messages.some((m) => m.chatId === chatId),
    );
    assert.deepEqual(
      Object.fromEntries(storeCalls),
      {},
      'the creator node neither reads the new chat nor its first message back',
    );
    const created = frame.body.case === 'deliver' ? frame.body.value.messages[0] : undefined;
    assert.deepEqual([created?.body.case, created?.seq], ['chatUpdate', 1n]);
    const sent = await a.call<{ seq: bigint }>({
      case: 'send',
      value: { chatId, clientMessageId: 'after-create', payload: text('hi') },
    });
    const [hi] = await b.waitForMessages(1, chatId);
    assert.deepEqual([sent.seq, hi?.seq], [2n, 2n]);
    assert.equal(cursorReads.get(bob.deviceId) ?? 0, before, 'no backlog read for a chat just created');
    await Promise.all([a.close(), b.close()]);
  });

  it('a message in a chat that was caught up at connect goes out live, without another read', async () => {
    const [alice, bob] = [await register(t), await register(t)];
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    await sendMany(a, chatId, 2, 'before');
    let b = await RawClient.connect(t, bob);
    await b.waitForMessages(2, chatId); // after CREATED, acked by the client
    await b.close();
    // Reconnected, bob's device reads its cursors once: the chat is caught up there.
    b = await RawClient.connect(t, bob);
    await caughtUp(t, b, bob.deviceId);
    const reads = cursorReads.get(bob.deviceId);
    const cursors = await store.cursorsOf(bob.deviceId as DeviceId);
    assert.equal(caughtUpSeq(cursors.caughtUp, chatId as ChatId), 3, 'acked through seq 3');
    storeCalls.clear();
    await sendMany(a, chatId, 1, 'live');
    const [live] = await b.waitForMessages(1, chatId);
    assert.equal(live?.seq, 4n);
    assert.equal(cursorReads.get(bob.deviceId), reads, 'no second read of the cursors');
    assert.equal(storeCalls.get('messagesRead'), undefined, 'the message went out live');
    await Promise.all([a.close(), b.close()]);
  });

  it("a device's own messages at the end of a chat are settled by its next drain", async () => {
    const [alice, bob] = [await register(t), await register(t)];
    let a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    await sendMany(a, chatId, 3, 'own');
    await a.close();
    const before = cursorList(await store.cursorsOf(alice.deviceId as DeviceId)).find(
      (c) => c.chatId === chatId,
    );
    assert.deepEqual(
      [before?.ackedSeq, before?.lastSeq],
      [1, 4],
      'nothing acked after her own CREATED update: the messages are her own',
    );
    a = await RawClient.connect(t, alice);
    await caughtUp(t, a, alice.deviceId);
    // The settling ack is written by the ack flusher, within its interval.
    const deadline = Date.now() + 10_000;
    let cursors = await store.cursorsOf(alice.deviceId as DeviceId);
    while (caughtUpSeq(cursors.caughtUp, chatId as ChatId) === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      cursors = await store.cursorsOf(alice.deviceId as DeviceId);
    }
    assert.equal(caughtUpSeq(cursors.caughtUp, chatId as ChatId), 4, 'caught up at the chat end');
    assert.equal(cursors.chatIds.includes(chatId as ChatId), false);
    await a.close();
  });
});
