/**
 * Calls across nodes sharing a store and an in-process bus (docs/calls.md, "Several nodes"):
 * the caller on one node, the callee's devices on others; answer, signals and end forwarded to
 * the call's home node; a device connecting on a third node while the call rings gets the
 * offer; busy and glare seen across nodes, also when two offers cross at once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CallEndReason, CallState, ChatKind, type Frame } from '@parley/protocol';
import {
  answerCode,
  type Creds,
  linkDevice,
  RawClient,
  register,
  startCluster,
  type TestNode,
  text,
} from './harness.js';

const newCallId = (prefix = 'call') => `${prefix}-${randomBytes(8).toString('hex')}`;

const pushOf = (c: RawClient, kind: Frame['body']['case'], callId: string) =>
  c.waitFor((f) => f.body.case === kind && (f.body.value as { callId: string }).callId === callId);

const has = (c: RawClient, kind: Frame['body']['case'], callId: string) =>
  c.frames.some((f) => f.body.case === kind && (f.body.value as { callId: string }).callId === callId);

const settle = (ms = 200) => new Promise((r) => setTimeout(r, ms));

function offer(callId: string, chatId: string, deviceIds: string[]) {
  return {
    case: 'callOffer' as const,
    value: {
      callId,
      chatId,
      video: false,
      payloads: deviceIds.map((deviceId) => ({ deviceId, payload: text(`offer for ${deviceId}`) })),
    },
  };
}

describe('calls across nodes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-calls-cluster-'));
  let nodes: TestNode[] = [];
  let stop: () => Promise<void>;

  before(async () => {
    ({ nodes, stop } = await startCluster(dir, ['n1', 'n2', 'n3'], { callSweepMs: 20 }));
  });
  after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A direct chat between the two, in which both wrote (so calls ring both ways). */
  async function chat(a: RawClient, b: RawClient, bUser: Creds): Promise<string> {
    const r = await a.call<{ chat: { id: string } }>({
      case: 'createChat',
      value: { kind: ChatKind.DIRECT, memberUserIds: [bUser.userId] },
    });
    for (const [i, x] of [a, b].entries())
      await x.call({
        case: 'send',
        value: { clientMessageId: `hi-${i}-${r.chat.id}`, chatId: r.chat.id, payload: text('hi') },
      });
    return r.chat.id;
  }

  it('rings on other nodes, a late device on a third node gets the offer, answer, signals and end cross', async () => {
    const alice = await register(nodes[0]!);
    const bob = await register(nodes[0]!);
    const bobTablet = await linkDevice(nodes[0]!, bob);
    const a = await RawClient.connect(nodes[0]!, alice);
    const b = await RawClient.connect(nodes[1]!, bob);
    const chatId = await chat(a, b, bob);
    const callId = newCallId();
    await a.call(offer(callId, chatId, [bob.deviceId, bobTablet.deviceId]));
    await pushOf(b, 'callOffered', callId);

    const late = await RawClient.connect(nodes[2]!, bobTablet);
    const again = (await pushOf(late, 'callOffered', callId)).body.value as { payload: Uint8Array };
    assert.equal(Buffer.from(again.payload).toString(), `offer for ${bobTablet.deviceId}`);

    const answered = await b.call<{ state: CallState }>({
      case: 'callAnswer',
      value: { callId, payload: text('ans') },
    });
    assert.equal(answered.state, CallState.CONNECTED);
    const atAlice = (await pushOf(a, 'callAnswered', callId)).body.value as {
      deviceId: string;
      payload: Uint8Array;
    };
    assert.deepEqual([atAlice.deviceId, Buffer.from(atAlice.payload).toString()], [bob.deviceId, 'ans']);
    assert.equal(
      ((await pushOf(late, 'callAnswered', callId)).body.value as { elsewhere: boolean }).elsewhere,
      true,
    );

    await b.call({
      case: 'callSignal',
      value: { callId, deviceId: alice.deviceId, payload: text('cand b') },
    });
    await a.call({ case: 'callSignal', value: { callId, deviceId: bob.deviceId, payload: text('cand a') } });
    await pushOf(a, 'callSignalEvent', callId);
    await pushOf(b, 'callSignalEvent', callId);
    assert.equal(
      answerCode(
        await late.request({
          case: 'callSignal',
          value: { callId, deviceId: alice.deviceId, payload: text('x') },
        }),
      ),
      'PERMISSION_DENIED',
      'checked on the home node',
    );

    const ended = await b.call<{ reason: CallEndReason }>({
      case: 'callEnd',
      value: { callId, reason: CallEndReason.HANGUP },
    });
    assert.equal(ended.reason, CallEndReason.HANGUP);
    await pushOf(a, 'callEnded', callId);
    await b.waitFor(
      (f) =>
        f.body.case === 'deliver' &&
        f.body.value.messages.some((m) => m.body.case === 'chatUpdate' && m.body.value.callId === callId),
    );
    assert.equal(
      answerCode(await b.request({ case: 'callEnd', value: { callId, reason: CallEndReason.HANGUP } })),
      'NOT_FOUND',
    );
    await Promise.all([a, b, late].map((x) => x.close()));
  });

  it('a callee in a call homed on another node is busy; a caller in one cannot call', async () => {
    const [alice, bob, carol] = [
      await register(nodes[0]!),
      await register(nodes[0]!),
      await register(nodes[0]!),
    ];
    const a = await RawClient.connect(nodes[0]!, alice);
    const b = await RawClient.connect(nodes[1]!, bob);
    const c = await RawClient.connect(nodes[2]!, carol);
    const ab = await chat(a, b, bob);
    const cb = await chat(c, b, bob);
    const ca = await chat(c, a, alice);
    const callId = newCallId();
    await a.call(offer(callId, ab, [bob.deviceId]));
    await b.call({ case: 'callAnswer', value: { callId, payload: text('ans') } });
    await settle();
    const busy = await c.call<{ state: CallState; reason: CallEndReason }>(
      offer(newCallId(), cb, [bob.deviceId]),
    );
    assert.deepEqual([busy.state, busy.reason], [CallState.ENDED, CallEndReason.BUSY]);
    // Alice, in the call homed on node 1, calls from node 1 (local) — and carol calls her from node 3.
    const toAlice = await c.call<{ state: CallState; reason: CallEndReason }>(
      offer(newCallId(), ca, [alice.deviceId]),
    );
    assert.equal(toAlice.reason, CallEndReason.BUSY);
    await a.call({ case: 'callEnd', value: { callId, reason: CallEndReason.HANGUP } });
    await Promise.all([a, b, c].map((x) => x.close()));
  });

  it('glare across nodes: the lower call id wins, in order and when both offers cross at once', async () => {
    for (const together of [false, true]) {
      const alice = await register(nodes[0]!);
      const bob = await register(nodes[0]!);
      const a = await RawClient.connect(nodes[0]!, alice);
      const b = await RawClient.connect(nodes[1]!, bob);
      const chatId = await chat(a, b, bob);
      const suffix = randomBytes(6).toString('hex');
      const high = `call-b-${suffix}`;
      const low = `call-a-${suffix}`;
      if (together) {
        await Promise.all([
          a.call(offer(high, chatId, [bob.deviceId])),
          b.call(offer(low, chatId, [alice.deviceId])),
        ]);
      } else {
        await a.call(offer(high, chatId, [bob.deviceId]));
        await settle();
        const r = await b.call<{ state: CallState }>(offer(low, chatId, [alice.deviceId]));
        assert.equal(r.state, CallState.RINGING, 'the lower id rings');
      }
      // Alice's call (the higher id) ends as glare on both sides; bob's rings at alice's.
      for (const x of [a, b]) {
        const v = (await pushOf(x, 'callEnded', high)).body.value as { reason: CallEndReason };
        assert.equal(v.reason, CallEndReason.GLARE);
      }
      await pushOf(a, 'callOffered', low);
      await a.call({ case: 'callAnswer', value: { callId: low, payload: text('ans') } });
      await pushOf(b, 'callAnswered', low);
      await settle();
      assert.equal(has(a, 'callEnded', low) || has(b, 'callEnded', low), false, 'the winner goes on');
      await a.call({ case: 'callEnd', value: { callId: low, reason: CallEndReason.HANGUP } });
      await Promise.all([a, b].map((x) => x.close()));
    }
  });
});
