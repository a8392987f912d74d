import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatUpdateKind, decodeFrame, encodeFrame, type FrameInit, makeFrame } from '@parley/protocol';
import { readFastFrame, writeAckFrame, writeSendFrame } from './fast-frames.js';

const encode = (init: FrameInit) => encodeFrame(makeFrame(init), 'proto') as Uint8Array;

test('a deliver frame reads as the codec reads it, payload bytes and large numbers included', () => {
  const payload = new Uint8Array(300).map((_, i) => i % 256);
  const bytes = encode({
    id: 0,
    body: {
      case: 'deliver',
      value: {
        backlog: true,
        messages: [
          {
            chatId: 'c_5mr8tz1vbn',
            seq: 2n ** 40n + 3n,
            senderUserId: 'u_1',
            senderDeviceId: 'd_1',
            clientMessageId: 'm-1',
            serverTime: 1_768_388_460_123n,
            body: { case: 'payload', value: payload },
            meta: { mentions: ['u_2'] },
            expiresAt: 5n,
          },
          { chatId: 'c_other', seq: 1n, serverTime: 7n, deleted: true },
        ],
      },
    },
  });
  const f = readFastFrame(bytes);
  assert.equal(f?.case, 'deliver');
  assert.ok(f?.case === 'deliver');
  assert.equal(f.messages.length, 2);
  assert.deepEqual(
    { ...f.messages[0], payload: Buffer.from(f.messages[0]!.payload!) },
    {
      chatId: 'c_5mr8tz1vbn',
      seq: 2 ** 40 + 3,
      serverTime: 1_768_388_460_123,
      payload: Buffer.from(payload),
    },
  );
  assert.deepEqual(f.messages[1], { chatId: 'c_other', seq: 1, serverTime: 7, payload: undefined });
});

test('results and receipts keep their id and count; everything else falls back', () => {
  const sent = readFastFrame(
    encode({ id: 300, body: { case: 'sendResult', value: { chatId: 'c', seq: 4n, serverTime: 9n } } }),
  );
  assert.deepEqual(sent, { case: 'sendResult', id: 300 });
  assert.deepEqual(readFastFrame(encode({ id: 7, body: { case: 'ackResult', value: { chats: 2 } } })), {
    case: 'ackResult',
    id: 7,
  });
  const one = { chatId: 'c', userId: 'u', deliveredSeq: 3n, readSeq: 0n, at: 1n };
  assert.deepEqual(readFastFrame(encode({ id: 0, body: { case: 'receipt', value: one } })), {
    case: 'receipts',
    id: 0,
    count: 1,
  });
  assert.deepEqual(
    readFastFrame(encode({ id: 0, body: { case: 'receipts', value: { receipts: [one, one, one] } } })),
    { case: 'receipts', id: 0, count: 3 },
  );
  // A chat update, a welcome and a truncated frame take the full codec.
  const update = encode({
    id: 0,
    body: {
      case: 'deliver',
      value: {
        messages: [
          { chatId: 'c', seq: 1n, body: { case: 'chatUpdate', value: { kind: ChatUpdateKind.CREATED } } },
        ],
      },
    },
  });
  assert.equal(readFastFrame(update), undefined);
  assert.equal(
    readFastFrame(encode({ id: 0, body: { case: 'welcome', value: { protocolVersion: 2 } } })),
    undefined,
  );
  assert.equal(readFastFrame(update.subarray(0, update.length - 2)), undefined);
});

test('send and ack frames are byte for byte what the codec writes', () => {
  const payload = new Uint8Array(200).fill(0x5a);
  const send = writeSendFrame(129, 'c_5mr8tz1vbn', 'bench-1-42', payload)!;
  const viaCodec = encode({
    id: 129,
    body: { case: 'send', value: { chatId: 'c_5mr8tz1vbn', clientMessageId: 'bench-1-42', payload } },
  });
  assert.deepEqual(Buffer.from(send), Buffer.from(viaCodec));
  const cursors: Array<[string, number]> = [
    ['c_5mr8tz1vbn', 300],
    ['c_x', 2 ** 35],
  ];
  for (const id of [0, 5, 70_000]) {
    const ack = writeAckFrame(id, cursors)!;
    const viaCodec = encode({
      id,
      body: {
        case: 'ack',
        value: { cursors: cursors.map(([chatId, seq]) => ({ chatId, seq: BigInt(seq) })) },
      },
    });
    assert.deepEqual(Buffer.from(ack), Buffer.from(viaCodec), `id ${id}`);
    const back = decodeFrame(ack, 'proto');
    assert.equal(back.body.case, 'ack');
  }
  assert.equal(writeSendFrame(1, 'c_é', 'm', payload), undefined, 'non-ASCII ids take the codec');
});
