import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type ChatKind, ChatSchema, create, encodeFrame, makeFrame } from '@parley/protocol';
import fc from 'fast-check';
import { encodeChats } from './fast-chat-codec.js';

const str = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);
const u64 = fc.oneof(fc.constant(0n), fc.bigInt(1n, 300n), fc.bigInt(0n, 9007199254740991n));
const small = fc.oneof(fc.constant(0), fc.nat(5), fc.nat(2 ** 31 - 1));

const chatArb = fc
  .record({
    id: str,
    kind: fc.constantFrom(0, 1, 2),
    name: str,
    description: fc.oneof(str, fc.string({ maxLength: 300 })),
    createdAt: u64,
    lastSeq: u64,
    members: fc.array(fc.record({ userId: str, role: fc.constantFrom(0, 1, 2, 3), joinedAt: u64 }), {
      maxLength: 6,
    }),
    unreadCount: small,
    readSeq: u64,
    lastMessage: fc.option(
      fc.record({ seq: u64, senderUserId: str, serverTime: u64, isUpdate: fc.boolean() }),
      { nil: undefined },
    ),
    onlyAdminsSend: fc.boolean(),
    onlyAdminsEditInfo: fc.boolean(),
    disappearingSeconds: small,
    pins: fc.array(fc.record({ seq: u64, pinnedBy: str, expiresAt: u64 }), { maxLength: 3 }),
    unreadMentions: small,
    iconMediaId: fc.oneof(fc.constant(''), fc.stringMatching(/^[0-9a-f]{64}$/), str),
    mutedUntil: u64,
  })
  .map((init) => create(ChatSchema, init));

const reference = (id: number, body: Parameters<typeof makeFrame>[0]['body']) =>
  Buffer.from(encodeFrame(makeFrame({ id, body }), 'proto') as Uint8Array);

it('chatResult and chatList answers are byte-identical to the protobuf-es encoding', () => {
  fc.assert(
    fc.property(fc.nat(2 ** 32 - 1), fc.array(chatArb, { maxLength: 4 }), (id, chats) => {
      const one = { case: 'chatResult' as const, value: { chat: chats[0] } };
      assert.deepEqual(encodeChats(id, one), reference(id, one));
      const list = { case: 'chatList' as const, value: { chats } };
      assert.deepEqual(encodeChats(id, list), reference(id, list));
    }),
  );
});

it('leaves to protobuf-es what it does not write: partial inits, numbers past 2^53, negative enums', () => {
  const partial = { case: 'chatResult' as const, value: { chat: { id: 'c_1' } } };
  assert.equal(encodeChats(1, partial as never), undefined);
  const big = create(ChatSchema, { id: 'c_1', lastSeq: 2n ** 60n });
  assert.equal(encodeChats(1, { case: 'chatResult', value: { chat: big } }), undefined);
  assert.equal(encodeChats(1, { case: 'chatList', value: { chats: [create(ChatSchema), big] } }), undefined);
  const negative = create(ChatSchema, { id: 'c_1', kind: -1 as ChatKind });
  assert.equal(encodeChats(1, { case: 'chatResult', value: { chat: negative } }), undefined);
  // What the fast path declines is still answered exactly as before.
  assert.ok(reference(1, { case: 'chatResult', value: { chat: big } }).length > 0);
});
