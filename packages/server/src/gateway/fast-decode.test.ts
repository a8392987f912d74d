import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decodeFrame, encodeFrame, makeFrame } from '@parley/protocol';
import fc from 'fast-check';
import { decodeHotFrame } from './fast-decode.js';

const str = fc.string({ unit: 'grapheme', maxLength: 30 });
const bytes = fc.uint8Array({ maxLength: 200 });
const seq = fc.oneof(fc.nat(300), fc.nat(2 ** 53 - 1)).map(BigInt);

const sendArb = fc.record({
  clientMessageId: str,
  chatId: str,
  payload: bytes,
  devicePayloads: fc.array(fc.record({ deviceId: str, payload: bytes }), { maxLength: 4 }),
  pushPreviews: fc.array(fc.record({ deviceId: str, payload: bytes }), { maxLength: 3 }),
  // Media ids as the SDK sends them (64 hex) and anything else a client could put there.
  mediaIds: fc.array(
    fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), str),
    { maxLength: 17 },
  ),
});
const ackArb = fc.record({ cursors: fc.array(fc.record({ chatId: str, seq }), { maxLength: 5 }) });
const createChatArb = fc.record({
  // The kinds there are, and any other int32 a client could send.
  kind: fc.oneof(fc.constantFrom(0, 1, 2), fc.nat(2 ** 31 - 1)),
  memberUserIds: fc.array(str, { maxLength: 12 }),
  name: str,
  description: fc.string({ maxLength: 300 }),
});

function plain(frame: ReturnType<typeof decodeFrame>) {
  const v = frame.body.value as Record<string, unknown>;
  const copy = JSON.parse(
    JSON.stringify({ id: frame.id, case: frame.body.case, value: v }, (k, x) =>
      k === '$typeName' ? undefined : typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? [...x] : x,
    ),
  );
  return copy;
}

it('decodes send (with push previews and media ids), ack and createChat frames exactly as protobuf-es does', () => {
  fc.assert(
    fc.property(
      fc.nat(2 ** 32 - 1),
      fc.oneof(
        sendArb.map((value) => ({ case: 'send' as const, value })),
        ackArb.map((value) => ({ case: 'ack' as const, value })),
        createChatArb.map((value) => ({ case: 'createChat' as const, value })),
      ),
      (id, body) => {
        const bin = Buffer.from(encodeFrame(makeFrame({ id, body }), 'proto') as Uint8Array);
        const fast = decodeHotFrame(bin);
        assert.ok(fast, 'a hot frame is decoded by the fast path');
        assert.deepEqual(plain(fast), plain(decodeFrame(bin, 'proto')));
      },
    ),
  );
});

it('leaves every other frame, and truncated input, to the full decoder', () => {
  const ping = Buffer.from(
    encodeFrame(makeFrame({ id: 3, body: { case: 'ping', value: {} } }), 'proto') as Uint8Array,
  );
  assert.equal(decodeHotFrame(ping), undefined);
  const send = Buffer.from(
    encodeFrame(
      makeFrame({ id: 3, body: { case: 'send', value: { chatId: 'c', payload: new Uint8Array(50) } } }),
      'proto',
    ) as Uint8Array,
  );
  for (let cut = 1; cut < send.length; cut++) {
    const r = decodeHotFrame(send.subarray(0, cut));
    if (r) assert.equal(r.body.case, 'send'); // a prefix can be a valid shorter frame, never garbage
  }
  assert.equal(decodeHotFrame(Buffer.from([0xff, 0xff, 0xff])), undefined);
  // createChat with kind = -1 (an int32 written as ten bytes): protobuf-es's rules apply.
  const negativeKind = Buffer.from([0x08, 0x01, 0x62, 0x0b, 0x08, ...Array(9).fill(0xff), 0x01]);
  assert.equal(decodeHotFrame(negativeKind), undefined);
  assert.equal(decodeFrame(negativeKind, 'proto').body.case, 'createChat');
  const withMeta = Buffer.from(
    encodeFrame(
      makeFrame({
        id: 4,
        body: { case: 'send', value: { chatId: 'c', clientMessageId: 'm', meta: { refSeq: 3n } } },
      }),
      'proto',
    ) as Uint8Array,
  );
  assert.equal(decodeHotFrame(withMeta), undefined, 'a send with meta goes to the full decoder');
  assert.equal(decodeFrame(withMeta, 'proto').body.case, 'send');
});
