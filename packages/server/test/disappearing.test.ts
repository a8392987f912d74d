import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Chat, ChatUpdateKind, type Message } from '@parley/protocol';
import { ManualClock } from '../src/ports/clock.js';
import {
  answerCode,
  type Creds,
  createGroup,
  RawClient,
  register,
  startNode,
  type TestNode,
  text,
} from './harness.js';

const code = answerCode;
const DAY = 86_400_000;

describe('disappearing messages and view once', () => {
  let t: TestNode;
  const clock = new ManualClock(1_800_000_000_000);
  let alice: Creds;
  let bob: Creds;
  let carol: Creds;

  before(async () => {
    t = await startNode({ ackFlushMs: 0 }, { clock });
    [alice, bob, carol] = [await register(t), await register(t), await register(t)];
  });
  after(() => t.stop());

  const group = (c: RawClient, members: string[]) => createGroup(c, members, 'd');

  it('a member sets a 24 h timer; new messages carry their expiry and are removed from the server when it passes', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = await group(a, [bob.userId]);
    await a.call({ case: 'send', value: { chatId, clientMessageId: 'before', payload: text('stays') } });
    assert.equal(
      code(await b.request({ case: 'updateChat', value: { chatId, disappearingSeconds: 3600 } })),
      'INVALID_ARGUMENT',
    );
    const set = await b.call<{ chat: Chat }>({
      case: 'updateChat',
      value: { chatId, disappearingSeconds: 86_400 },
    });
    assert.equal(set.chat.disappearingSeconds, 86_400);
    await a.waitFor(
      (f) =>
        f.body.case === 'deliver' &&
        f.body.value.messages.some(
          (m) => m.body.case === 'chatUpdate' && m.body.value.kind === ChatUpdateKind.DISAPPEARING_CHANGED,
        ),
    );
    const sent = await a.call<{ serverTime: bigint }>({
      case: 'send',
      value: { chatId, clientMessageId: 'vanishing', payload: text('gone tomorrow') },
    });
    const [live] = (await b.waitForMessages(2, chatId)).filter((m) => m.clientMessageId === 'vanishing');
    assert.equal(live!.expiresAt, sent.serverTime + 86_400_000n);
    clock.advance(DAY + 1000);
    await t.node.runRetention();
    const hist = await a.call<{ messages: Message[] }>({ case: 'history', value: { chatId, limit: 100 } });
    const ids = hist.messages.map((m) => m.clientMessageId);
    assert.ok(ids.includes('before'), 'messages from before the timer stay');
    assert.ok(!ids.includes('vanishing'), 'the expired message is gone');
    await Promise.all([a.close(), b.close()]);
  });

  it('with "only admins can edit info", only admins may change the timer', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = await group(a, [bob.userId]);
    await a.call({ case: 'updateChat', value: { chatId, onlyAdminsEditInfo: true } });
    assert.equal(
      code(await b.request({ case: 'updateChat', value: { chatId, disappearingSeconds: 604_800 } })),
      'PERMISSION_DENIED',
    );
    assert.equal(
      code(await a.request({ case: 'updateChat', value: { chatId, disappearingSeconds: 604_800 } })),
      'chatResult',
    );
    await Promise.all([a.close(), b.close()]);
  });

  it('a view-once payload is dropped by the server once the first recipient device has acked it', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId, carol.userId]);
    await a.call({
      case: 'send',
      value: { chatId, clientMessageId: 'once', payload: text('look once'), meta: { viewOnce: true } },
    });
    const b = await RawClient.connect(t, bob);
    const [first] = (await b.waitForMessages(1, chatId)).filter((m) => m.clientMessageId === 'once');
    assert.equal(first!.meta?.viewOnce, true);
    await b.call({ case: 'ping', value: {} }); // bob's ack (autoAck) is processed and flushed
    await new Promise((r) => setTimeout(r, 50));
    const c = await RawClient.connect(t, carol);
    await c.waitFor((f) => f.body.case === 'deliver' && !f.body.value.backlog);
    assert.equal(
      c.messages.find((m) => m.clientMessageId === 'once'),
      undefined,
      'nothing left to deliver',
    );
    const hist = await a.call<{ messages: Message[] }>({ case: 'history', value: { chatId, limit: 100 } });
    const kept = hist.messages.find((m) => m.clientMessageId === 'once')!;
    assert.equal((kept.body.value as Uint8Array).length, 0, 'history keeps the message, without its content');
    await Promise.all([a.close(), b.close(), c.close()]);
  });
});
