import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatUpdateKind, type FrameInit, type Message, makeFrame } from '@parley/protocol';
import fc from 'fast-check';
import { type AckSender, Delivery } from './delivery.js';
import { type ChatCursor, MemoryLocalStore } from './local-store.js';
import type { ClientStats } from './types.js';

type MessageInit = Extract<NonNullable<FrameInit['body']>, { case: 'deliver' }>['value']['messages'];

/** Builds wire messages through the codec's own constructors. */
function wire(init: NonNullable<MessageInit>[number]): Message {
  const frame = makeFrame({ body: { case: 'deliver', value: { messages: [init] } } });
  if (frame.body.case !== 'deliver') throw new Error('unreachable');
  return frame.body.value.messages[0]!;
}

function msg(chatId: string, seq: number, text = `m${seq}`): Message {
  return wire({
    chatId,
    seq: BigInt(seq),
    senderUserId: 'u2',
    body: { case: 'payload', value: new TextEncoder().encode(text) },
  });
}

function setup(store = new MemoryLocalStore()) {
  const stats: ClientStats = { received: 0, duplicates: 0, sent: 0, acked: 0 };
  const events: string[] = [];
  const acks: ChatCursor[][] = [];
  const delivery = new Delivery(
    store,
    {
      message: async (m) => {
        events.push(`${m.chatId}:${m.seq}`);
      },
      chatUpdate: async (u) => {
        events.push(`${u.chatId}:${u.seq}:update`);
      },
      error: (err) => events.push(`error ${(err as Error).message}`),
    },
    stats,
  );
  const ack: AckSender = (cursors, n) => {
    acks.push(cursors);
    stats.acked += n;
  };
  return { delivery, stats, events, acks, ack, store };
}

test('new messages are handed over in order and acked with the highest seq per chat', async () => {
  const s = setup();
  await s.delivery.enqueue([msg('a', 1), msg('b', 5), msg('a', 2)], s.ack);
  assert.deepEqual(s.events, ['a:1', 'b:5', 'a:2']);
  assert.deepEqual(s.acks, [
    [
      { chatId: 'a', seq: 2 },
      { chatId: 'b', seq: 5 },
    ],
  ]);
  assert.equal(await s.store.getCursor('a'), 2);
  assert.deepEqual(s.stats, { received: 3, duplicates: 0, sent: 0, acked: 3 });
});

test('messages at or below the cursor are duplicates: not handed over, but acked', async () => {
  const store = new MemoryLocalStore();
  await store.setCursors([{ chatId: 'a', seq: 3 }]);
  const s = setup(store);
  await s.delivery.enqueue([msg('a', 2), msg('a', 3), msg('a', 4)], s.ack);
  await s.delivery.enqueue([msg('a', 4)], s.ack);
  assert.deepEqual(s.events, ['a:4']);
  assert.equal(s.stats.duplicates, 3);
  assert.deepEqual(s.acks, [[{ chatId: 'a', seq: 4 }], [{ chatId: 'a', seq: 4 }]]);
});

test('chat updates are handed over as updates and advance the cursor', async () => {
  const s = setup();
  const update = wire({
    chatId: 'g',
    seq: 1n,
    body: { case: 'chatUpdate', value: { kind: ChatUpdateKind.CREATED, name: 'Family' } },
  });
  await s.delivery.enqueue([update, msg('g', 2)], s.ack);
  assert.deepEqual(s.events, ['g:1:update', 'g:2']);
});

test('the ack waits until the cursor is persisted; a failed persist sends no ack', async () => {
  const store = new MemoryLocalStore();
  let release: () => void = () => {};
  let fail = false;
  store.setCursors = async () => {
    await new Promise<void>((r) => {
      release = r;
    });
    if (fail) throw new Error('disk full');
  };
  const s = setup(store);
  const done = s.delivery.enqueue([msg('a', 1)], s.ack);
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(s.acks, [], 'no ack before the store resolved');
  release();
  await done;
  assert.equal(s.acks.length, 1);
  fail = true;
  const failed = s.delivery.enqueue([msg('a', 2)], s.ack);
  await new Promise((r) => setTimeout(r, 5));
  release();
  await failed;
  assert.equal(s.acks.length, 1);
  assert.deepEqual(s.events.slice(-1), ['error disk full']);
});

test('property: whatever redelivery happens, each seq reaches the app once and in order', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 1, max: 30 })), { maxLength: 60 }),
      async (deliveries) => {
        const s = setup();
        // Each frame replays a chat from some seq onward, as a server resending after a drop would.
        for (const [chat, from] of deliveries) {
          await s.delivery.enqueue([msg(chat, from), msg(chat, from + 1)], s.ack);
        }
        for (const chat of ['a', 'b']) {
          const seqs = s.events.filter((e) => e.startsWith(`${chat}:`)).map((e) => Number(e.split(':')[1]));
          assert.deepEqual(
            seqs,
            [...new Set(seqs)].sort((x, y) => x - y),
          );
        }
        assert.equal(s.stats.received + s.stats.duplicates, deliveries.length * 2);
      },
    ),
  );
});
