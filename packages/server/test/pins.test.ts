import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Chat, ChatKind, ChatUpdateKind, PinDuration } from '@parley/protocol';
import { ManualClock } from '../src/ports/clock.js';
import { answerCode, type Creds, RawClient, register, startNode, type TestNode, text } from './harness.js';

const code = answerCode;
const HOUR = 3_600_000;

describe('pinned messages', () => {
  let t: TestNode;
  const clock = new ManualClock(1_800_000_000_000);
  let alice: Creds;
  let bob: Creds;

  before(async () => {
    t = await startNode({}, { clock });
    [alice, bob] = [await register(t), await register(t)];
  });
  after(() => t.stop());

  it('at most 3 pins in force, each for 24 h / 7 d / 30 d, announced to members and unpinnable', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = (
      await a.call<{ chat: Chat }>({
        case: 'createChat',
        value: { kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'p' },
      })
    ).chat.id;
    const seqs: bigint[] = [];
    for (let i = 0; i < 4; i++) {
      seqs.push(
        (
          await a.call<{ seq: bigint }>({
            case: 'send',
            value: { chatId, clientMessageId: `p${i}`, payload: text('x') },
          })
        ).seq,
      );
    }
    const pin = (c: RawClient, seq: bigint, duration: PinDuration) =>
      c.request({ case: 'pin', value: { chatId, seq, duration } });
    const first = await pin(b, seqs[0]!, PinDuration.PIN_DURATION_24_HOURS);
    const pins = (first.body.value as { chat: Chat }).chat.pins;
    assert.deepEqual(
      pins.map((p) => [p.seq, p.pinnedBy, p.expiresAt]),
      [[seqs[0], bob.userId, BigInt(clock.now() + 24 * HOUR)]],
    );
    await a.waitFor(
      (f) =>
        f.body.case === 'deliver' &&
        f.body.value.messages.some(
          (m) => m.body.case === 'chatUpdate' && m.body.value.kind === ChatUpdateKind.PINNED,
        ),
    );
    assert.equal(code(await pin(a, seqs[1]!, PinDuration.PIN_DURATION_7_DAYS)), 'chatResult');
    assert.equal(code(await pin(a, seqs[2]!, PinDuration.PIN_DURATION_30_DAYS)), 'chatResult');
    assert.equal(code(await pin(a, seqs[3]!, PinDuration.PIN_DURATION_24_HOURS)), 'TOO_MANY_PINS');
    assert.equal(code(await pin(a, 9999n, PinDuration.PIN_DURATION_24_HOURS)), 'NOT_FOUND');
    // The 24-hour pin runs out, which frees a place.
    clock.advance(25 * HOUR);
    assert.equal(code(await pin(a, seqs[3]!, PinDuration.PIN_DURATION_24_HOURS)), 'chatResult');
    const unpinned = await pin(a, seqs[1]!, PinDuration.PIN_DURATION_UNSPECIFIED);
    assert.deepEqual(
      (unpinned.body.value as { chat: Chat }).chat.pins.map((p) => p.seq),
      [seqs[2], seqs[3]],
    );
    assert.equal(code(await pin(a, seqs[1]!, PinDuration.PIN_DURATION_UNSPECIFIED)), 'NOT_FOUND');
    await Promise.all([a.close(), b.close()]);
  });

  it('with "only admins can edit info", only admins may pin', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = (
      await a.call<{ chat: Chat }>({
        case: 'createChat',
        value: { kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'q' },
      })
    ).chat.id;
    const seq = (
      await a.call<{ seq: bigint }>({
        case: 'send',
        value: { chatId, clientMessageId: 'q', payload: text('x') },
      })
    ).seq;
    await a.call({ case: 'updateChat', value: { chatId, onlyAdminsEditInfo: true } });
    assert.equal(
      code(
        await b.request({ case: 'pin', value: { chatId, seq, duration: PinDuration.PIN_DURATION_24_HOURS } }),
      ),
      'PERMISSION_DENIED',
    );
    assert.equal(
      code(
        await a.request({ case: 'pin', value: { chatId, seq, duration: PinDuration.PIN_DURATION_24_HOURS } }),
      ),
      'chatResult',
    );
    await Promise.all([a.close(), b.close()]);
  });
});
