import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ChatUpdateKind, encodeChatUpdate, encodeFrame, makeFrame } from '@parley/protocol';
import fc from 'fast-check';
import { encodeDeliver } from '../node.js';
import type { ChatId, DeviceId, StoredMessage, UserId } from '../ports/types.js';
import {
  encodeDeliverBinary,
  encodeReceiptBatchBinary,
  encodeReceiptBinary,
  encodeSendResultBinary,
  encodeWelcomeBinary,
} from './fast-codec.js';
import { toWireMessage } from './wire.js';

const seqArb = fc.oneof(fc.constant(0), fc.nat(200), fc.maxSafeNat());
const str = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);

const messageArb: fc.Arbitrary<StoredMessage> = fc
  .record({
    chatId: str.map((s) => s as ChatId),
    seq: seqArb,
    senderUserId: str.map((s) => s as UserId),
    senderDeviceId: str.map((s) => s as DeviceId),
    clientMessageId: str,
    serverTime: seqArb,
    kind: fc.constantFrom('payload' as const, 'update' as const),
    body: fc.uint8Array({ maxLength: 300 }),
    meta: fc.option(
      fc.record({
        type: fc.constantFrom('message' as const, 'edit' as const, 'delete' as const, 'reaction' as const),
        refSeq: seqArb,
        reaction: str,
        mentions: fc.array(str, { maxLength: 3 }).map((xs) => xs as UserId[]),
        forwardCount: fc.nat(20),
        viewOnce: fc.boolean(),
      }),
      { nil: undefined },
    ),
    deleted: fc.boolean(),
    expiresAt: fc.oneof(fc.constant(0), seqArb),
  })
  .map((m) =>
    m.kind === 'update'
      ? { ...m, body: encodeChatUpdate({ kind: ChatUpdateKind.MEMBERS_ADDED, userIds: [m.chatId, 'u_x'] }) }
      : m,
  );

it('deliver frames are byte-identical to the protobuf-es encoding', () => {
  fc.assert(
    fc.property(fc.array(messageArb, { maxLength: 5 }), fc.boolean(), (messages, backlog) => {
      const reference = encodeFrame(
        makeFrame({
          id: 0,
          body: { case: 'deliver', value: { messages: messages.map(toWireMessage), backlog } },
        }),
        'proto',
      );
      assert.deepEqual(new Uint8Array(encodeDeliverBinary(messages, backlog)), reference);
      assert.deepEqual(new Uint8Array(encodeDeliver(messages, backlog, 'proto') as Uint8Array), reference);
    }),
  );
});

it('sendResult frames are byte-identical to the protobuf-es encoding', () => {
  fc.assert(
    fc.property(
      fc.nat(2 ** 32 - 1),
      str,
      str,
      seqArb,
      seqArb,
      (id, clientMessageId, chatId, seq, serverTime) => {
        const reference = encodeFrame(
          makeFrame({
            id,
            body: {
              case: 'sendResult',
              value: { clientMessageId, chatId, seq: BigInt(seq), serverTime: BigInt(serverTime) },
            },
          }),
          'proto',
        );
        assert.deepEqual(
          new Uint8Array(encodeSendResultBinary(id, clientMessageId, chatId, seq, serverTime)),
          reference,
        );
      },
    ),
  );
});

const receiptArb = fc.record({
  chatId: str,
  userId: str,
  deliveredSeq: seqArb.map(BigInt),
  readSeq: seqArb.map(BigInt),
  at: seqArb.map(BigInt),
});

it('receipt and receipt batch pushes are byte-identical to the protobuf-es encoding', () => {
  fc.assert(
    fc.property(fc.array(receiptArb, { maxLength: 5 }), (events) => {
      const batch = encodeFrame(
        makeFrame({ id: 0, body: { case: 'receipts', value: { receipts: events } } }),
        'proto',
      );
      assert.deepEqual(new Uint8Array(encodeReceiptBatchBinary(events)), batch);
      for (const value of events) {
        const one = encodeFrame(makeFrame({ id: 0, body: { case: 'receipt', value } }), 'proto');
        assert.deepEqual(new Uint8Array(encodeReceiptBinary(value)), one);
      }
    }),
  );
});

it('welcome frames are byte-identical to the protobuf-es encoding', () => {
  const u32 = fc.oneof(fc.constant(0), fc.nat(300), fc.nat(2 ** 32 - 1));
  fc.assert(
    fc.property(
      fc.record({
        protocolVersion: u32,
        supportedVersions: fc.array(u32, { maxLength: 4 }),
        serverVersion: str,
        userId: str,
        deviceId: str,
        maxPayloadBytes: u32,
        deliveryWindow: u32,
        heartbeatIntervalMs: u32,
        serverTime: seqArb.map(BigInt),
      }),
      (value) => {
        const reference = encodeFrame(makeFrame({ id: 0, body: { case: 'welcome', value } }), 'proto');
        assert.deepEqual(new Uint8Array(encodeWelcomeBinary(value)), reference);
      },
    ),
  );
});
