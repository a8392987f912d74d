/**
 * 1:1 call signaling over real sockets (docs/calls.md): ringing on every callee device, the
 * answer stopping the others, decline, busy, the ring timeout on a manual clock, glare, hangup
 * from either side, call events in the chat, who may call whom, pending offers, TURN
 * credentials. Payloads here are opaque bytes: the server relays them without reading.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CallEndReason, CallState, ChatKind, type Frame, type Message } from '@parley/protocol';
import pino from 'pino';
import { ManualClock } from '../src/ports/clock.js';
import type { DeviceId } from '../src/ports/types.js';
import { filesUnder } from './db-scan.js';
import {
  answerCode,
  createGroup,
  linkDevice,
  RawClient,
  register,
  startNode,
  type TestNode,
  text,
} from './harness.js';
import { PushRecorder } from './support/push-recorder.js';

const TURN_SECRET = 'turn-secret-for-the-call-tests';

interface Party {
  userId: string;
  devices: RawClient[];
  deviceIds: string[];
}

async function party(t: TestNode, devices = 1): Promise<Party> {
  const primary = await register(t);
  const creds = [primary];
  for (let i = 1; i < devices; i++) creds.push({ ...(await linkDevice(t, primary)), phone: primary.phone });
  return {
    userId: primary.userId,
    devices: await Promise.all(creds.map((c) => RawClient.connect(t, c))),
    deviceIds: creds.map((c) => c.deviceId),
  };
}

/** A direct chat `a` created, in which `b` wrote (so calls to `b` ring). */
async function directChat(a: Party, b: Party): Promise<string> {
  const r = await a.devices[0]!.call<{ chat: { id: string } }>({
    case: 'createChat',
    value: { kind: ChatKind.DIRECT, memberUserIds: [b.userId] },
  });
  await b.devices[0]!.call({
    case: 'send',
    value: {
      clientMessageId: `hi-${randomBytes(4).toString('hex')}`,
      chatId: r.chat.id,
      payload: text('hi'),
    },
  });
  return r.chat.id;
}

const newCallId = () => `call-${randomBytes(8).toString('hex')}`;

function offerBody(callId: string, chatId: string, to: Party, marker = 'offer') {
  return {
    case: 'callOffer' as const,
    value: {
      callId,
      chatId,
      video: true,
      payloads: to.deviceIds.map((deviceId) => ({ deviceId, payload: text(`${marker} for ${deviceId}`) })),
    },
  };
}

const pushOf = (c: RawClient, kind: Frame['body']['case'], callId: string, timeoutMs = 10_000) =>
  c.waitFor((f) => f.body.case === kind && (f.body.value as { callId: string }).callId === callId, timeoutMs);

const has = (c: RawClient, kind: Frame['body']['case'], callId: string) =>
  c.frames.some((f) => f.body.case === kind && (f.body.value as { callId: string }).callId === callId);

/** The call events of `chatId` this client received. */
function callEvents(c: RawClient, chatId: string) {
  return c.messages
    .filter((m: Message) => m.chatId === chatId && m.body.case === 'chatUpdate')
    .map((m) => (m.body.case === 'chatUpdate' ? m.body.value : undefined)!)
    .filter((u) => u.callId !== '');
}

async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const settle = () => new Promise((r) => setTimeout(r, 150));

describe('calls', () => {
  let t: TestNode;
  const clock = new ManualClock(Date.now());
  const logDir = mkdtempSync(join(tmpdir(), 'parley-calls-log-'));
  const logFile = join(logDir, 'node.log');
  before(async () => {
    t = await startNode(
      {
        callSweepMs: 20,
        turnSecret: TURN_SECRET,
        turnUrls: 'stun:127.0.0.1:3478,turn:127.0.0.1:3478',
        turnCredentialsPerHour: 3,
      },
      { clock, log: pino({ level: 'debug' }, pino.destination({ dest: logFile, sync: true })) },
    );
  });
  after(async () => {
    await t.stop();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('rings every callee device; an answer on one stops the others; signals, hangup and the event follow', async () => {
    const alice = await party(t);
    const bob = await party(t, 2);
    const chatId = await directChat(alice, bob);
    const callId = newCallId();
    const res = await alice.devices[0]!.call<{ state: CallState }>(offerBody(callId, chatId, bob));
    assert.equal(res.state, CallState.RINGING);
    for (const [i, d] of bob.devices.entries()) {
      const offered = (await pushOf(d, 'callOffered', callId)).body.value as {
        payload: Uint8Array;
        callerUserId: string;
        video: boolean;
        ringUntil: bigint;
      };
      // Each device gets the ciphertext made for it, nobody else's.
      assert.equal(Buffer.from(offered.payload).toString(), `offer for ${bob.deviceIds[i]}`);
      assert.deepEqual([offered.callerUserId, offered.video], [alice.userId, true]);
      assert.equal(offered.ringUntil, BigInt(clock.now() + 45_000));
    }

    const answered = await bob.devices[1]!.call<{ state: CallState }>({
      case: 'callAnswer',
      value: { callId, payload: text('answer sdp') },
    });
    assert.equal(answered.state, CallState.CONNECTED);
    const atCaller = (await pushOf(alice.devices[0]!, 'callAnswered', callId)).body.value as {
      deviceId: string;
      payload: Uint8Array;
      elsewhere: boolean;
    };
    assert.deepEqual(
      [atCaller.deviceId, Buffer.from(atCaller.payload).toString(), atCaller.elsewhere],
      [bob.deviceIds[1], 'answer sdp', false],
    );
    const atPhone = (await pushOf(bob.devices[0]!, 'callAnswered', callId)).body.value as {
      elsewhere: boolean;
      payload: Uint8Array;
    };
    assert.deepEqual([atPhone.elsewhere, atPhone.payload.length], [true, 0], 'the phone stops ringing');
    assert.equal(
      answerCode(
        await bob.devices[0]!.request({ case: 'callAnswer', value: { callId, payload: text('late') } }),
      ),
      'PERMISSION_DENIED',
    );

    // ICE both ways, between the two active devices only.
    await alice.devices[0]!.call({
      case: 'callSignal',
      value: { callId, deviceId: bob.deviceIds[1]!, payload: text('candidate a') },
    });
    await bob.devices[1]!.call({
      case: 'callSignal',
      value: { callId, deviceId: alice.deviceIds[0]!, payload: text('candidate b') },
    });
    const sig = (await pushOf(bob.devices[1]!, 'callSignalEvent', callId)).body.value as {
      fromDeviceId: string;
      payload: Uint8Array;
    };
    assert.deepEqual(
      [sig.fromDeviceId, Buffer.from(sig.payload).toString()],
      [alice.deviceIds[0], 'candidate a'],
    );
    await pushOf(alice.devices[0]!, 'callSignalEvent', callId);
    assert.equal(
      answerCode(
        await alice.devices[0]!.request({
          case: 'callSignal',
          value: { callId, deviceId: bob.deviceIds[0]!, payload: text('x') },
        }),
      ),
      'PERMISSION_DENIED',
      'not to the device that did not answer',
    );

    clock.advance(65_000);
    const ended = await bob.devices[1]!.call<{ state: CallState; reason: CallEndReason }>({
      case: 'callEnd',
      value: { callId, reason: CallEndReason.HANGUP },
    });
    assert.deepEqual([ended.state, ended.reason], [CallState.ENDED, CallEndReason.HANGUP]);
    const atAlice = (await pushOf(alice.devices[0]!, 'callEnded', callId)).body.value as {
      reason: CallEndReason;
      byUserId: string;
      durationMs: bigint;
    };
    assert.deepEqual(
      [atAlice.reason, atAlice.byUserId, atAlice.durationMs],
      [CallEndReason.HANGUP, bob.userId, 65_000n],
    );

    // Both sides' chat gets the event, on every device.
    for (const d of [...alice.devices, ...bob.devices]) {
      await eventually(() => callEvents(d, chatId).length === 1, 'call event');
      const e = callEvents(d, chatId)[0]!;
      assert.deepEqual(
        [e.callId, e.callReason, e.callDurationMs, e.callVideo, e.userIds],
        [callId, CallEndReason.HANGUP, 65_000n, true, [alice.userId]],
      );
    }
    assert.equal(
      answerCode(
        await alice.devices[0]!.request({ case: 'callEnd', value: { callId, reason: CallEndReason.HANGUP } }),
      ),
      'NOT_FOUND',
      'an ended call is gone',
    );
  });

  it('the caller may hang up, before the answer (cancelled: a missed call) and after it', async () => {
    const alice = await party(t);
    const bob = await party(t);
    const chatId = await directChat(alice, bob);
    const first = newCallId();
    await alice.devices[0]!.call(offerBody(first, chatId, bob));
    await pushOf(bob.devices[0]!, 'callOffered', first);
    const r = await alice.devices[0]!.call<{ reason: CallEndReason }>({
      case: 'callEnd',
      value: { callId: first, reason: CallEndReason.HANGUP },
    });
    assert.equal(r.reason, CallEndReason.CANCELLED);
    assert.equal(
      ((await pushOf(bob.devices[0]!, 'callEnded', first)).body.value as { reason: CallEndReason }).reason,
      CallEndReason.CANCELLED,
    );

    const second = newCallId();
    await alice.devices[0]!.call(offerBody(second, chatId, bob));
    await bob.devices[0]!.call({ case: 'callAnswer', value: { callId: second, payload: text('a') } });
    clock.advance(3000);
    await alice.devices[0]!.call({
      case: 'callEnd',
      value: { callId: second, reason: CallEndReason.HANGUP },
    });
    const atBob = (await pushOf(bob.devices[0]!, 'callEnded', second)).body.value as {
      reason: CallEndReason;
      durationMs: bigint;
    };
    assert.deepEqual([atBob.reason, atBob.durationMs], [CallEndReason.HANGUP, 3000n]);
    await eventually(() => callEvents(bob.devices[0]!, chatId).length === 2, 'two events');
    assert.deepEqual(
      callEvents(bob.devices[0]!, chatId).map((e) => [e.callReason, e.callDurationMs]),
      [
        [CallEndReason.CANCELLED, 0n],
        [CallEndReason.HANGUP, 3000n],
      ],
    );
  });

  it('a decline on one device ends the call for the caller and the other devices', async () => {
    const alice = await party(t);
    const bob = await party(t, 2);
    const chatId = await directChat(alice, bob);
    const callId = newCallId();
    await alice.devices[0]!.call(offerBody(callId, chatId, bob));
    await pushOf(bob.devices[1]!, 'callOffered', callId);
    await bob.devices[0]!.call({ case: 'callEnd', value: { callId, reason: CallEndReason.DECLINED } });
    for (const d of [alice.devices[0]!, bob.devices[1]!]) {
      const v = (await pushOf(d, 'callEnded', callId)).body.value as {
        reason: CallEndReason;
        byUserId: string;
      };
      assert.deepEqual([v.reason, v.byUserId], [CallEndReason.DECLINED, bob.userId]);
    }
    await eventually(() => callEvents(alice.devices[0]!, chatId).length === 1, 'event');
    assert.equal(callEvents(alice.devices[0]!, chatId)[0]!.callReason, CallEndReason.DECLINED);
  });

  it('busy: a device that is busy says so, and a callee in another call is busy at once', async () => {
    const alice = await party(t);
    const bob = await party(t);
    const carol = await party(t);
    const ab = await directChat(alice, bob);
    const cb = await directChat(carol, bob);

    const c1 = newCallId();
    await alice.devices[0]!.call(offerBody(c1, ab, bob));
    await bob.devices[0]!.call({ case: 'callEnd', value: { callId: c1, reason: CallEndReason.BUSY } });
    assert.equal(
      ((await pushOf(alice.devices[0]!, 'callEnded', c1)).body.value as { reason: CallEndReason }).reason,
      CallEndReason.BUSY,
    );

    const c2 = newCallId();
    await alice.devices[0]!.call(offerBody(c2, ab, bob));
    await bob.devices[0]!.call({ case: 'callAnswer', value: { callId: c2, payload: text('a') } });
    const c3 = newCallId();
    const r = await carol.devices[0]!.call<{ state: CallState; reason: CallEndReason }>(
      offerBody(c3, cb, bob),
    );
    assert.deepEqual([r.state, r.reason], [CallState.ENDED, CallEndReason.BUSY]);
    await eventually(() => callEvents(bob.devices[0]!, cb).length === 1, 'busy event');
    assert.equal(callEvents(bob.devices[0]!, cb)[0]!.callReason, CallEndReason.BUSY);
    await settle();
    assert.equal(has(bob.devices[0]!, 'callOffered', c3), false, 'bob is not rung by the second call');
    // Alice, in a call, cannot start another.
    const other = await party(t);
    const ao = await directChat(alice, other);
    assert.equal(
      answerCode(await alice.devices[0]!.request(offerBody(newCallId(), ao, other))),
      'PERMISSION_DENIED',
    );
    await alice.devices[0]!.call({ case: 'callEnd', value: { callId: c2, reason: CallEndReason.HANGUP } });
  });

  it('an unanswered call ends after 45 s on the clock as a missed call', async () => {
    const alice = await party(t);
    const bob = await party(t, 2);
    const chatId = await directChat(alice, bob);
    const callId = newCallId();
    await alice.devices[0]!.call(offerBody(callId, chatId, bob));
    await pushOf(bob.devices[0]!, 'callOffered', callId);
    clock.advance(44_000);
    await settle();
    assert.equal(has(alice.devices[0]!, 'callEnded', callId), false, 'still ringing at 44 s');
    clock.advance(1000);
    for (const d of [alice.devices[0]!, ...bob.devices]) {
      const v = (await pushOf(d, 'callEnded', callId)).body.value as {
        reason: CallEndReason;
        byUserId: string;
      };
      assert.deepEqual([v.reason, v.byUserId], [CallEndReason.UNANSWERED, '']);
    }
    for (const d of [alice.devices[0]!, bob.devices[1]!]) {
      await eventually(() => callEvents(d, chatId).length === 1, 'missed-call event');
      assert.equal(callEvents(d, chatId)[0]!.callReason, CallEndReason.UNANSWERED);
    }
  });

  it('glare: both call at once and the lower call id wins, whichever came first', async () => {
    for (const lowerFirst of [false, true]) {
      const alice = await party(t);
      const bob = await party(t);
      const chatId = await directChat(alice, bob);
      const suffix = randomBytes(6).toString('hex');
      const low = `call-a-${suffix}`;
      const high = `call-b-${suffix}`;
      const [aliceId, bobId] = lowerFirst ? [low, high] : [high, low];
      await alice.devices[0]!.call(offerBody(aliceId, chatId, bob));
      const r = await bob.devices[0]!.call<{ state: CallState; reason: CallEndReason }>(
        offerBody(bobId, chatId, alice),
      );
      if (lowerFirst) {
        // Bob's call lost on arrival; alice's goes on ringing at bob's.
        assert.deepEqual([r.state, r.reason], [CallState.ENDED, CallEndReason.GLARE]);
        await settle();
        assert.equal(has(alice.devices[0]!, 'callOffered', bobId), false);
        await bob.devices[0]!.call({ case: 'callAnswer', value: { callId: aliceId, payload: text('a') } });
        await pushOf(alice.devices[0]!, 'callAnswered', aliceId);
        await bob.devices[0]!.call({
          case: 'callEnd',
          value: { callId: aliceId, reason: CallEndReason.HANGUP },
        });
      } else {
        // Bob's lower id wins: alice's call ends on both sides, bob's rings at alice's.
        assert.equal(r.state, CallState.RINGING);
        for (const d of [alice.devices[0]!, bob.devices[0]!]) {
          const v = (await pushOf(d, 'callEnded', aliceId)).body.value as { reason: CallEndReason };
          assert.equal(v.reason, CallEndReason.GLARE);
        }
        await pushOf(alice.devices[0]!, 'callOffered', bobId);
        await alice.devices[0]!.call({ case: 'callAnswer', value: { callId: bobId, payload: text('a') } });
        await alice.devices[0]!.call({
          case: 'callEnd',
          value: { callId: bobId, reason: CallEndReason.HANGUP },
        });
      }
      // One event: for the call that took place (none for the one that lost).
      await eventually(() => callEvents(alice.devices[0]!, chatId).length === 1, 'one event');
      await settle();
      assert.deepEqual(
        callEvents(alice.devices[0]!, chatId).map((e) => e.callId),
        [low],
      );
    }
  });

  it('offers go only between the members of a direct chat', async () => {
    const alice = await party(t);
    const bob = await party(t);
    const carol = await party(t);
    const chatId = await directChat(alice, bob);
    const group = await createGroup(alice.devices[0]!, [bob.userId]);
    const a = alice.devices[0]!;
    assert.equal(answerCode(await a.request(offerBody(newCallId(), group, bob))), 'INVALID_ARGUMENT');
    assert.equal(
      answerCode(await carol.devices[0]!.request(offerBody(newCallId(), chatId, bob))),
      'NOT_A_MEMBER',
    );
    assert.equal(answerCode(await a.request(offerBody(newCallId(), 'c_nope', bob))), 'CHAT_NOT_FOUND');
    assert.equal(answerCode(await a.request(offerBody('short', chatId, bob))), 'INVALID_ARGUMENT');
    assert.equal(answerCode(await a.request(offerBody(newCallId(), chatId, carol))), 'DEVICE_MISMATCH');
    const empty = offerBody(newCallId(), chatId, bob);
    empty.value.payloads[0]!.payload = new Uint8Array();
    assert.equal(answerCode(await a.request(empty)), 'INVALID_ARGUMENT');

    const callId = newCallId();
    await a.call(offerBody(callId, chatId, bob));
    const c = carol.devices[0]!;
    assert.equal(
      answerCode(await c.request({ case: 'callAnswer', value: { callId, payload: text('x') } })),
      'NOT_FOUND',
    );
    assert.equal(
      answerCode(
        await c.request({
          case: 'callSignal',
          value: { callId, deviceId: bob.deviceIds[0]!, payload: text('x') },
        }),
      ),
      'NOT_FOUND',
    );
    assert.equal(
      answerCode(await c.request({ case: 'callEnd', value: { callId, reason: CallEndReason.HANGUP } })),
      'NOT_FOUND',
    );
    assert.equal(
      answerCode(await a.request({ case: 'callAnswer', value: { callId, payload: text('x') } })),
      'PERMISSION_DENIED',
      'the caller cannot answer its own call',
    );
    await settle();
    assert.equal(
      carol.devices[0]!.frames.some((f) => f.body.case?.startsWith('call') && f.body.case !== 'callResult'),
      false,
    );
    await a.call({ case: 'callEnd', value: { callId, reason: CallEndReason.HANGUP } });
  });

  it('blocks: a blocker cannot call; a blocked caller rings nobody and leaves no event', async () => {
    const alice = await party(t);
    const bob = await party(t);
    const chatId = await directChat(alice, bob);
    await alice.devices[0]!.call({ case: 'block', value: { userId: bob.userId } });
    assert.equal(
      answerCode(await alice.devices[0]!.request(offerBody(newCallId(), chatId, bob))),
      'USER_BLOCKED',
    );

    const callId = newCallId();
    const r = await bob.devices[0]!.call<{ state: CallState }>(offerBody(callId, chatId, alice));
    assert.equal(r.state, CallState.RINGING, 'the blocked caller is not told');
    clock.advance(45_000);
    await pushOf(bob.devices[0]!, 'callEnded', callId);
    await settle();
    assert.equal(has(alice.devices[0]!, 'callOffered', callId), false);
    assert.equal(callEvents(bob.devices[0]!, chatId).length, 0);
  });

  it('a call into a chat the callee never wrote in does not ring: it is a missed call', async () => {
    const alice = await party(t);
    const bob = await party(t);
    const created = await alice.devices[0]!.call<{ chat: { id: string } }>({
      case: 'createChat',
      value: { kind: ChatKind.DIRECT, memberUserIds: [bob.userId] },
    });
    const chatId = created.chat.id;
    const callId = newCallId();
    await alice.devices[0]!.call(offerBody(callId, chatId, bob));
    assert.equal(
      answerCode(
        await bob.devices[0]!.request({ case: 'callAnswer', value: { callId, payload: text('x') } }),
      ),
      'NOT_FOUND',
    );
    clock.advance(45_000);
    await pushOf(alice.devices[0]!, 'callEnded', callId);
    await eventually(() => callEvents(bob.devices[0]!, chatId).length === 1, 'missed-call event');
    assert.equal(callEvents(bob.devices[0]!, chatId)[0]!.callReason, CallEndReason.UNANSWERED);
    assert.equal(has(bob.devices[0]!, 'callOffered', callId), false);
  });

  it('a callee device that connects while the call rings gets the offer', async () => {
    const alice = await party(t);
    const bobPhone = await register(t);
    const bobTablet = await linkDevice(t, bobPhone);
    const bob: Party = {
      userId: bobPhone.userId,
      devices: [await RawClient.connect(t, bobPhone)],
      deviceIds: [bobPhone.deviceId, bobTablet.deviceId],
    };
    const chatId = await directChat(alice, bob);
    const callId = newCallId();
    await alice.devices[0]!.call(offerBody(callId, chatId, bob));
    clock.advance(20_000);
    const late = await RawClient.connect(t, bobTablet);
    const v = (await pushOf(late, 'callOffered', callId)).body.value as { payload: Uint8Array };
    assert.equal(Buffer.from(v.payload).toString(), `offer for ${bobTablet.deviceId}`);
    await late.call({ case: 'callAnswer', value: { callId, payload: text('a') } });
    await pushOf(bob.devices[0]!, 'callAnswered', callId);
    await late.call({ case: 'callEnd', value: { callId, reason: CallEndReason.HANGUP } });
    await late.close();
  });

  it('a connected call whose device stays away past 60 s ends as connection lost', async () => {
    const alice = await party(t);
    const bob = await party(t);
    const chatId = await directChat(alice, bob);
    const callId = newCallId();
    await alice.devices[0]!.call(offerBody(callId, chatId, bob));
    await bob.devices[0]!.call({ case: 'callAnswer', value: { callId, payload: text('a') } });
    clock.advance(10_000);
    await bob.devices[0]!.close();
    await settle(); // the sweep notes the device away
    clock.advance(59_000);
    await settle();
    assert.equal(has(alice.devices[0]!, 'callEnded', callId), false, 'still on at 59 s away');
    clock.advance(1000);
    const v = (await pushOf(alice.devices[0]!, 'callEnded', callId)).body.value as {
      reason: CallEndReason;
      durationMs: bigint;
    };
    assert.equal(v.reason, CallEndReason.CONNECTION_LOST);
    assert.ok(v.durationMs >= 70_000n, `duration ${v.durationMs}`);
    await eventually(() => callEvents(alice.devices[0]!, chatId).length === 1, 'event');
    assert.equal(callEvents(alice.devices[0]!, chatId)[0]!.callReason, CallEndReason.CONNECTION_LOST);
  });

  it('hands out coturn REST-API credentials, checked by recomputing the HMAC, and limits them', async () => {
    const alice = await party(t);
    const d = alice.devices[0]!;
    const c = await d.call<{ username: string; password: string; ttlSeconds: number; urls: string[] }>({
      case: 'getTurnCredentials',
      value: {},
    });
    const [expiry, userId] = c.username.split(':');
    assert.equal(userId, alice.userId);
    assert.equal(Number(expiry), Math.floor(clock.now() / 1000) + 86_400);
    assert.equal(c.password, createHmac('sha1', TURN_SECRET).update(c.username).digest('base64'));
    assert.deepEqual([c.ttlSeconds, c.urls], [86_400, ['stun:127.0.0.1:3478', 'turn:127.0.0.1:3478']]);
    await d.call({ case: 'getTurnCredentials', value: {} });
    await d.call({ case: 'getTurnCredentials', value: {} });
    const limited = await d.request({ case: 'getTurnCredentials', value: {} });
    assert.equal(answerCode(limited), 'RATE_LIMITED');
    assert.ok(limited.body.case === 'error' && limited.body.value.retryAfterMs > 0);
  });

  it('stores no call payload: the database and the log hold none of it', async () => {
    const alice = await party(t);
    const bob = await party(t);
    const chatId = await directChat(alice, bob);
    const marker = `CALL-PAYLOAD-${randomBytes(8).toString('hex')}`;
    const callId = newCallId();
    await alice.devices[0]!.call(offerBody(callId, chatId, bob, marker));
    await bob.devices[0]!.call({ case: 'callAnswer', value: { callId, payload: text(marker) } });
    await alice.devices[0]!.call({
      case: 'callSignal',
      value: { callId, deviceId: bob.deviceIds[0]!, payload: text(marker) },
    });
    await alice.devices[0]!.call({ case: 'callEnd', value: { callId, reason: CallEndReason.HANGUP } });
    await eventually(() => callEvents(bob.devices[0]!, chatId).length === 1, 'event');
    const files = [...filesUnder(t.dataDir), logFile];
    assert.ok(files.some((f) => f.endsWith('parley.db')));
    assert.ok(readFileSync(logFile, 'utf8').includes(callId), 'the log names the call');
    assert.ok(
      files.some((f) => readFileSync(f).includes(Buffer.from(callId))),
      'the scan sees the call event',
    );
    for (const f of files)
      assert.equal(readFileSync(f).includes(Buffer.from(marker)), false, `found in ${f}`);
  });
});

describe('calls: limits and settings', () => {
  it('call offers are rate-limited per user and counted in parley_calls; without turnSecret TURN credentials are UNAVAILABLE', async () => {
    const t = await startNode({ callOffersPerMinute: 2 });
    try {
      const alice = await party(t);
      const bob = await party(t);
      const chatId = await directChat(alice, bob);
      const gauge = async () =>
        (await (await fetch(`${t.url}/metrics`)).text())
          .split('\n')
          .find((l) => l.startsWith('parley_calls '));
      for (let i = 0; i < 2; i++) {
        const callId = newCallId();
        await alice.devices[0]!.call(offerBody(callId, chatId, bob));
        assert.equal(await gauge(), 'parley_calls 1');
        await alice.devices[0]!.call({ case: 'callEnd', value: { callId, reason: CallEndReason.HANGUP } });
        assert.equal(await gauge(), 'parley_calls 0');
      }
      const third = await alice.devices[0]!.request(offerBody(newCallId(), chatId, bob));
      assert.equal(answerCode(third), 'RATE_LIMITED');
      assert.equal(
        answerCode(await alice.devices[0]!.request({ case: 'getTurnCredentials', value: {} })),
        'UNAVAILABLE',
      );
    } finally {
      await t.stop();
    }
  });
});

describe('calls: ring pushes', () => {
  it('a registered callee device connected nowhere gets one call push; none under do-not-disturb', async () => {
    const fcm = new PushRecorder('fcm');
    const t = await startNode({ pushEnabled: false }, { push: { providers: [fcm] } });
    try {
      const alice = await party(t);
      const bob = await party(t, 2);
      const chatId = await directChat(alice, bob);
      const [phone, tablet] = bob.devices;
      for (const [i, d] of [phone!, tablet!].entries())
        await d.call({
          case: 'registerPush',
          value: { target: { case: 'fcm', value: { token: `fcm-call-${i}:APA91b` } } },
        });
      await tablet!.close();
      await eventually(() => !t.node.hub.get(bob.deviceIds[1] as DeviceId), 'the tablet is offline');

      const callId = newCallId();
      await alice.devices[0]!.call(offerBody(callId, chatId, bob));
      await eventually(() => fcm.pushes.length === 1, 'one ring push');
      const p = fcm.pushes[0]!.payload;
      assert.deepEqual(
        [p.kind, p.deviceId, p.userId, p.chatId, p.collapseId, p.alert],
        ['call', bob.deviceIds[1], bob.userId, chatId, callId, true],
      );
      assert.equal(JSON.stringify(p).includes('offer for'), false, 'the push carries no offer');
      await alice.devices[0]!.call({ case: 'callEnd', value: { callId, reason: CallEndReason.HANGUP } });

      // Do-not-disturb: the call still rings on connected devices, but no push goes out.
      await phone!.call({ case: 'setDoNotDisturb', value: { until: 9_007_199_254_740_991n } });
      const quiet = newCallId();
      await alice.devices[0]!.call(offerBody(quiet, chatId, bob));
      await pushOf(phone!, 'callOffered', quiet);
      await settle();
      assert.equal(fcm.pushes.length, 1);
    } finally {
      await t.stop();
    }
  });
});
