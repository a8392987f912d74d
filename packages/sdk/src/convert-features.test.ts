import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChatKind,
  ChatSchema,
  create,
  MessageSchema,
  MessageType,
  ReceiptEventSchema,
  ReceiptsResultSchema,
} from '@parley/protocol';
import { messageKindToWire, toChat, toMeta, toReceipt, toReceipts, toReceived } from './convert.js';

test('a chat carries unread count, read position, last message and group settings as numbers', () => {
  const wire = create(ChatSchema, {
    id: 'c1',
    kind: ChatKind.GROUP,
    lastSeq: 45n,
    unreadCount: 3,
    readSeq: 42n,
    lastMessage: { seq: 45n, senderUserId: 'u1', serverTime: 1_768_388_400_000n },
    onlyAdminsSend: true,
  });
  const chat = toChat(wire);
  assert.equal(chat.unreadCount, 3);
  assert.equal(chat.readSeq, 42);
  assert.deepEqual(chat.lastMessage, {
    seq: 45,
    senderUserId: 'u1',
    serverTime: 1_768_388_400_000,
    isUpdate: false,
  });
  assert.equal(chat.onlyAdminsSend, true);
  assert.equal(chat.onlyAdminsEditInfo, false);
  // An empty chat has no last message; everything stays JSON-printable.
  const empty = toChat(create(ChatSchema, { id: 'c2', kind: ChatKind.DIRECT }));
  assert.equal(empty.lastMessage, undefined);
  assert.equal(empty.readSeq, 0);
  assert.doesNotThrow(() => JSON.stringify(chat));
});

test('meta maps both ways; no meta is a plain message', () => {
  assert.deepEqual(toMeta(undefined), {
    type: 'message',
    refSeq: 0,
    reaction: '',
    mentions: [],
    forwardCount: 0,
  });
  assert.deepEqual(
    toMeta(create(MessageSchema, { meta: { type: MessageType.REACTION, refSeq: 42n, reaction: '👍' } }).meta),
    { type: 'reaction', refSeq: 42, reaction: '👍', mentions: [], forwardCount: 0 },
  );
  for (const k of ['message', 'edit', 'delete', 'reaction'] as const) {
    assert.equal(toMeta(create(MessageSchema, { meta: { type: messageKindToWire(k) } }).meta).type, k);
  }
});

test('received messages expose meta, forwardedMany and deleted; payload-less deletes and reactions are kept', () => {
  const base = { chatId: 'c1', seq: 49n, senderUserId: 'u1', senderDeviceId: 'd1', clientMessageId: 'm' };
  const fwd = toReceived(
    create(MessageSchema, {
      ...base,
      body: { case: 'payload', value: new Uint8Array([1]) },
      meta: { forwardCount: 7, mentions: ['u2'], refSeq: 3n },
      forwardedMany: true,
    }),
  );
  assert.ok(fwd && 'payload' in fwd);
  assert.equal(fwd.forwardedMany, true);
  assert.deepEqual(fwd.meta, { type: 'message', refSeq: 3, reaction: '', mentions: ['u2'], forwardCount: 7 });

  const reaction = toReceived(
    create(MessageSchema, { ...base, meta: { type: MessageType.REACTION, refSeq: 3n } }),
  );
  assert.ok(reaction && 'payload' in reaction);
  assert.equal(reaction.payload.byteLength, 0);
  assert.equal(reaction.meta.type, 'reaction');

  const deleted = toReceived(create(MessageSchema, { ...base, deleted: true }));
  assert.ok(deleted && 'payload' in deleted);
  assert.equal(deleted.deleted, true);
  // Still unknown: no body, no meta.
  assert.equal(toReceived(create(MessageSchema, base)), undefined);
});

test('receipts become plain numbers', () => {
  assert.deepEqual(
    toReceipt(
      create(ReceiptEventSchema, { chatId: 'c1', userId: 'u2', deliveredSeq: 45n, readSeq: 42n, at: 7n }),
    ),
    { chatId: 'c1', userId: 'u2', deliveredSeq: 45, readSeq: 42, at: 7 },
  );
  assert.deepEqual(
    toReceipts(
      create(ReceiptsResultSchema, {
        members: [
          { userId: 'u2', deliveredAt: 5n, readAt: 6n },
          { userId: 'u3', deliveredAt: 5n },
        ],
        deliveredToAll: true,
      }),
    ),
    {
      members: [
        { userId: 'u2', deliveredAt: 5, readAt: 6 },
        { userId: 'u3', deliveredAt: 5, readAt: 0 },
      ],
      deliveredToAll: true,
      readByAll: false,
    },
  );
});
