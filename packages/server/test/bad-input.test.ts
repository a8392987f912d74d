/**
 * Malformed, oversized and disallowed input on a real socket. Every test checks the error a
 * client gets AND that the connection (or, after a close, the server) keeps working.
 * Small limits (frames 4 KiB, payloads 1 KiB, groups of 3) keep the frames small.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ChatKind,
  CloseCodes,
  type Frame,
  type FrameInit,
  MessageType,
  type Error as WireError,
} from '@parley/protocol';
import {
  type Creds,
  linkDevice,
  nextPhone,
  RawClient,
  register,
  startNode,
  type TestNode,
  text,
  untext,
} from './harness.js';

const MAX_FRAME = 4096;
const MAX_PAYLOAD = 1024;

/** The error body of an answer; fails if the answer is not an error with this code. */
function expectError(f: Frame, code: string): WireError {
  assert.equal(f.body.case, 'error', `expected ${code}, got ${f.body.case}`);
  const e = f.body.value as WireError;
  assert.equal(e.code, code, e.message);
  return e;
}

/** Proves the connection still answers requests. */
async function stillWorks(c: RawClient): Promise<void> {
  const f = await c.request({ case: 'ping', value: {} });
  assert.equal(f.body.case, 'pong');
  assert.equal(c.closeCode, undefined);
}

/** Runs `act` and returns the next id-0 error frame it causes. */
async function nextUnaddressedError(c: RawClient, act: () => void): Promise<WireError> {
  const start = c.frames.length;
  act();
  const f = await c.waitFor((x) => x.id === 0 && x.body.case === 'error' && c.frames.indexOf(x) >= start);
  return f.body.value as WireError;
}

type SendInit = Extract<FrameInit['body'], { case: 'send' }>['value'];
const send = (c: RawClient, value: SendInit) => c.request({ case: 'send', value });
const phoneHash = (phone: string) => createHash('sha256').update(phone, 'utf8').digest();

describe('bad input on a real socket', () => {
  let t: TestNode;
  let alice: Creds & { phone: string };
  let alice2: Creds;
  let bob: Creds & { phone: string };
  let bob2: Creds;
  let carol: Creds;
  let dave: Creds;

  before(async () => {
    t = await startNode({ maxFrameBytes: MAX_FRAME, maxPayloadBytes: MAX_PAYLOAD, maxGroupMembers: 3 });
    alice = await register(t);
    alice2 = await linkDevice(t, alice);
    bob = await register(t);
    bob2 = await linkDevice(t, bob);
    carol = await register(t);
    dave = await register(t);
  });
  after(() => t.stop());

  const group = async (c: RawClient, members: string[]) =>
    (
      await c.call<{ chat: { id: string } }>({
        case: 'createChat',
        value: { kind: ChatKind.GROUP, memberUserIds: members, name: 'g' },
      })
    ).chat.id;

  // -- frames that do not decode ------------------------------------------------------------

  it('answers a binary frame of garbage on the proto subprotocol with BAD_FRAME (id 0)', async () => {
    const c = await RawClient.connect(t, alice, { encoding: 'proto' });
    const e = await nextUnaddressedError(c, () =>
      c.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), true),
    );
    assert.equal(e.code, 'BAD_FRAME');
    await stillWorks(c);
    await c.close();
  });

  it('answers invalid JSON on the json subprotocol with BAD_FRAME (id 0)', async () => {
    const c = await RawClient.connect(t, alice);
    const e = await nextUnaddressedError(c, () => c.sendRaw('{"id": 1, "ping": ', false));
    assert.equal(e.code, 'BAD_FRAME');
    await stillWorks(c);
    await c.close();
  });

  it('answers an unknown JSON key (a misspelled body) with BAD_FRAME', async () => {
    const c = await RawClient.connect(t, alice);
    const e = await nextUnaddressedError(c, () => c.sendRaw('{"id": 3, "sned": {}}', false));
    assert.equal(e.code, 'BAD_FRAME');
    await stillWorks(c);
    await c.close();
  });

  it('answers a text frame on the proto subprotocol with BAD_FRAME', async () => {
    const c = await RawClient.connect(t, alice, { encoding: 'proto' });
    const e = await nextUnaddressedError(c, () => c.sendRaw('{"id": 1, "ping": {}}', false));
    assert.equal(e.code, 'BAD_FRAME');
    await stillWorks(c);
    await c.close();
  });

  it('reads a binary message on the json subprotocol as UTF-8 JSON', async () => {
    const c = await RawClient.connect(t, alice);
    c.sendRaw(Buffer.from('{"id": 77, "ping": {}}', 'utf8'), true);
    const f = await c.waitFor((x) => x.id === 77);
    assert.equal(f.body.case, 'pong');
    await stillWorks(c);
    await c.close();
  });

  // -- frames that decode but are not requests ------------------------------------------------

  it('answers a frame with no body with UNKNOWN_TYPE on its id', async () => {
    const c = await RawClient.connect(t, alice);
    c.sendRaw('{"id": 7}', false);
    expectError(await c.waitFor((x) => x.id === 7), 'UNKNOWN_TYPE');
    const p = await RawClient.connect(t, alice2, { encoding: 'proto' });
    expectError(await p.request({ case: undefined }), 'UNKNOWN_TYPE');
    await stillWorks(c);
    await stillWorks(p);
    await c.close();
    await p.close();
  });

  it('answers a result or push body sent by the client with UNKNOWN_TYPE', async () => {
    const c = await RawClient.connect(t, alice, { encoding: 'proto' });
    expectError(await c.request({ case: 'pong', value: { serverTime: 1n } }), 'UNKNOWN_TYPE');
    expectError(await c.request({ case: 'welcome', value: {} }), 'UNKNOWN_TYPE');
    expectError(await c.request({ case: 'deliver', value: { messages: [] } }), 'UNKNOWN_TYPE');
    expectError(await c.request({ case: 'error', value: { code: 'X' } }), 'UNKNOWN_TYPE');
    await stillWorks(c);
    await c.close();
  });

  it('answers a request with id 0 (other than ack) with an id-0 error and does not execute it', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    const e = await nextUnaddressedError(a, () =>
      a.sendFrame({
        id: 0,
        body: { case: 'send', value: { chatId, clientMessageId: 'id-zero', payload: text('x') } },
      }),
    );
    assert.equal(e.code, 'INVALID_ARGUMENT');
    const chat = await a.call<{ chat: { lastSeq: bigint } }>({ case: 'getChat', value: { chatId } });
    assert.equal(chat.chat.lastSeq, 1n, 'nothing was stored');
    // The same clientMessageId is still free.
    const ok = await send(a, { chatId, clientMessageId: 'id-zero', payload: text('x') });
    assert.equal((ok.body.value as { seq: bigint }).seq, 2n);
    await a.close();
  });

  // -- sizes -------------------------------------------------------------------------------------

  it('answers a frame over maxFrameBytes with FRAME_TOO_LARGE (id 0) without decoding it; the socket stays open', async () => {
    const c = await RawClient.connect(t, alice);
    // Not even JSON: the size check comes first.
    const e = await nextUnaddressedError(c, () => c.sendRaw('x'.repeat(MAX_FRAME + 1), false));
    assert.equal(e.code, 'FRAME_TOO_LARGE');
    const p = await RawClient.connect(t, alice2, { encoding: 'proto' });
    const e2 = await nextUnaddressedError(p, () => p.sendRaw(Buffer.alloc(3 * MAX_FRAME, 0xff), true));
    assert.equal(e2.code, 'FRAME_TOO_LARGE');
    await stillWorks(c);
    await stillWorks(p);
    await c.close();
    await p.close();
  });

  it('closes the socket with 1009 on a frame over 4 x maxFrameBytes; the device can reconnect', async () => {
    const c = await RawClient.connect(t, alice, { encoding: 'proto' });
    c.sendRaw(Buffer.alloc(4 * MAX_FRAME + 1, 0x01), true);
    assert.equal(await c.closed, CloseCodes.TOO_BIG);
    const again = await RawClient.connect(t, alice, { encoding: 'proto' });
    await stillWorks(again);
    await again.close();
  });

  it('refuses a payload over maxPayloadBytes with PAYLOAD_TOO_LARGE and stores nothing', async () => {
    const a = await RawClient.connect(t, alice, { encoding: 'proto' });
    const chatId = await group(a, [carol.userId]);
    expectError(
      await send(a, { chatId, clientMessageId: 'big', payload: new Uint8Array(MAX_PAYLOAD + 1) }),
      'PAYLOAD_TOO_LARGE',
    );
    const devices = [alice2.deviceId, carol.deviceId];
    expectError(
      await send(a, {
        chatId,
        clientMessageId: 'big-per-device',
        devicePayloads: devices.map((deviceId, i) => ({
          deviceId,
          payload: i === 0 ? text('fine') : new Uint8Array(MAX_PAYLOAD + 1),
        })),
      }),
      'PAYLOAD_TOO_LARGE',
    );
    await stillWorks(a);
    const ok = await send(a, {
      chatId,
      clientMessageId: 'fits',
      payload: new Uint8Array(MAX_PAYLOAD).fill(7),
    });
    assert.equal((ok.body.value as { seq: bigint }).seq, 2n);
    await send(a, { chatId, clientMessageId: 'after', payload: text('after') });
    const c = await RawClient.connect(t, carol);
    const got = await c.waitForMessages(2, chatId);
    assert.deepEqual(
      got.map((m) => [m.seq, m.clientMessageId]),
      [
        [2n, 'fits'],
        [3n, 'after'],
      ],
    );
    assert.equal((got[0]!.body.value as Uint8Array).length, MAX_PAYLOAD);
    await a.close();
    await c.close();
  });

  // -- send fields -------------------------------------------------------------------------------

  it('answers both or neither of payload and devicePayloads, or an empty device payload, with INVALID_ARGUMENT', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [carol.userId]);
    const devicePayloads = [
      { deviceId: alice2.deviceId, payload: text('a2') },
      { deviceId: carol.deviceId, payload: text('c') },
    ];
    expectError(
      await send(a, { chatId, clientMessageId: 'both', payload: text('x'), devicePayloads }),
      'INVALID_ARGUMENT',
    );
    expectError(await send(a, { chatId, clientMessageId: 'neither' }), 'INVALID_ARGUMENT');
    expectError(
      await send(a, { chatId, clientMessageId: 'empty-shared', payload: new Uint8Array() }),
      'INVALID_ARGUMENT',
    );
    expectError(
      await send(a, {
        chatId,
        clientMessageId: 'empty-device',
        devicePayloads: [devicePayloads[0]!, { deviceId: carol.deviceId, payload: new Uint8Array() }],
      }),
      'INVALID_ARGUMENT',
    );
    expectError(
      await send(a, {
        chatId,
        clientMessageId: 'twice',
        devicePayloads: [...devicePayloads, devicePayloads[1]!],
      }),
      'INVALID_ARGUMENT',
    );
    await stillWorks(a);
    const ok = await send(a, { chatId, clientMessageId: 'both', devicePayloads });
    assert.equal(ok.body.case, 'sendResult');
    await a.close();
  });

  it('answers bad push previews (too large, empty, named twice, bad id, on a reaction) on both encodings', async () => {
    for (const encoding of ['json', 'proto'] as const) {
      const a = await RawClient.connect(t, alice, { encoding });
      const chatId = await group(a, [carol.userId]);
      const ok = { deviceId: carol.deviceId, payload: new Uint8Array(1024).fill(7) };
      const sendWith = (
        clientMessageId: string,
        pushPreviews: Array<typeof ok>,
        extra: { payload?: Uint8Array; meta?: { type: MessageType; refSeq: bigint; reaction: string } } = {},
      ) => send(a, { chatId, clientMessageId, payload: text('x'), pushPreviews, ...extra });
      const tooBig = expectError(
        await sendWith('big', [{ deviceId: carol.deviceId, payload: new Uint8Array(1025) }]),
        'PAYLOAD_TOO_LARGE',
      );
      assert.equal(tooBig.message, 'each push preview must be 1..1024 bytes');
      expectError(
        await sendWith('empty', [{ deviceId: carol.deviceId, payload: new Uint8Array() }]),
        'PAYLOAD_TOO_LARGE',
      );
      expectError(await sendWith('twice', [ok, ok]), 'INVALID_ARGUMENT');
      expectError(await sendWith('bad-id', [{ ...ok, deviceId: '' }]), 'INVALID_ARGUMENT');
      const sent = await send(a, { chatId, clientMessageId: 'target', payload: text('y') });
      assert.equal(sent.body.case, 'sendResult');
      const seq = (sent.body.value as { seq: bigint }).seq;
      const onReaction = expectError(
        await sendWith('react', [ok], {
          payload: new Uint8Array(),
          meta: { type: MessageType.REACTION, refSeq: seq, reaction: '👍' },
        }),
        'INVALID_ARGUMENT',
      );
      assert.equal(onReaction.message, 'pushPreviews go with new messages only');
      await stillWorks(a);
      // One preview per device, each up to the cap, for any device (not a recipient: ignored).
      const fine = await sendWith('fine', [ok, { deviceId: 'not-a-recipient', payload: text('p') }]);
      assert.equal(fine.body.case, 'sendResult');
      await a.close();
    }
  });

  it('answers a bad clientMessageId (empty, 65 characters, non-ASCII) with INVALID_ARGUMENT', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [carol.userId]);
    for (const clientMessageId of ['', 'x'.repeat(65), 'héllo', 'tab\there', '😀']) {
      expectError(await send(a, { chatId, clientMessageId, payload: text('x') }), 'INVALID_ARGUMENT');
    }
    await stillWorks(a);
    const ok = await send(a, { chatId, clientMessageId: 'x'.repeat(64), payload: text('x') });
    assert.equal((ok.body.value as { seq: bigint }).seq, 2n, 'none of the bad sends was stored');
    await a.close();
  });

  it('answers a send to a chat the caller is not in with NOT_A_MEMBER', async () => {
    const b = await RawClient.connect(t, bob);
    const chatId = await group(b, [carol.userId]);
    const a = await RawClient.connect(t, alice);
    expectError(await send(a, { chatId, clientMessageId: 'intruder', payload: text('x') }), 'NOT_A_MEMBER');
    await stillWorks(a);
    const chat = await b.call<{ chat: { lastSeq: bigint } }>({ case: 'getChat', value: { chatId } });
    assert.equal(chat.chat.lastSeq, 1n);
    await a.close();
    await b.close();
  });

  it('answers a send to an unknown chat with CHAT_NOT_FOUND', async () => {
    const a = await RawClient.connect(t, alice);
    expectError(
      await send(a, { chatId: 'c_doesnotexist', clientMessageId: 'lost', payload: text('x') }),
      'CHAT_NOT_FOUND',
    );
    expectError(
      await send(a, { chatId: '', clientMessageId: 'lost', payload: text('x') }),
      'INVALID_ARGUMENT',
    );
    await stillWorks(a);
    await a.close();
  });

  // -- per-device payloads ------------------------------------------------------------------------

  it('answers devicePayloads naming the wrong devices with DEVICE_MISMATCH and the current devices', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    const f = await send(a, {
      chatId,
      clientMessageId: 'mismatch',
      devicePayloads: [
        { deviceId: bob.deviceId, payload: text('b') },
        { deviceId: 'd_gone', payload: text('?') },
      ],
    });
    const e = expectError(f, 'DEVICE_MISMATCH');
    const m = e.deviceMismatch!;
    assert.ok(m, 'deviceMismatch is set');
    assert.deepEqual([...m.missingDeviceIds].sort(), [alice2.deviceId, bob2.deviceId].sort());
    assert.deepEqual(m.extraDeviceIds, ['d_gone']);
    const current = new Map(m.current.map((u) => [u.userId, [...u.deviceIds].sort()]));
    assert.deepEqual(current.get(bob.userId), [bob.deviceId, bob2.deviceId].sort());
    assert.ok(current.get(alice.userId)?.includes(alice2.deviceId), 'the sender’s other devices are listed');
    await stillWorks(a);
    const chat = await a.call<{ chat: { lastSeq: bigint } }>({ case: 'getChat', value: { chatId } });
    assert.equal(chat.chat.lastSeq, 1n, 'nothing was stored');
    await a.close();
  });

  it('leaves the sending device out of DEVICE_MISMATCH current', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    const e = expectError(
      await send(a, {
        chatId,
        clientMessageId: 'mismatch-self',
        devicePayloads: [{ deviceId: bob.deviceId, payload: text('b') }],
      }),
      'DEVICE_MISMATCH',
    );
    const mine = e.deviceMismatch!.current.find((u) => u.userId === alice.userId);
    assert.deepEqual(mine?.deviceIds, [alice2.deviceId]);
    await stillWorks(a);
    await a.close();
  });

  it('delivers devicePayloads naming exactly the right devices, each device getting its own payload', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    const targets = [alice2, bob, bob2];
    const f = await send(a, {
      chatId,
      clientMessageId: 'per-device',
      devicePayloads: targets.map((d) => ({ deviceId: d.deviceId, payload: text(`for ${d.deviceId}`) })),
    });
    assert.equal(f.body.case, 'sendResult');
    for (const d of targets) {
      const c = await RawClient.connect(t, d);
      const [m] = await c.waitForMessages(1, chatId);
      assert.equal(untext(m!.body.value as Uint8Array), `for ${d.deviceId}`);
      assert.equal(m!.clientMessageId, 'per-device');
      await c.close();
    }
    await a.close();
  });

  // -- abuse ----------------------------------------------------------------------------------

  it('closes the socket with 1008 after more than 20 bad frames in a minute; the device can reconnect', async () => {
    const c = await RawClient.connect(t, bob);
    const badErrors = () => c.frames.filter((f) => f.id === 0 && f.body.case === 'error').length;
    for (let i = 0; i < 20; i++) c.sendRaw('not json', false);
    await stillWorks(c);
    assert.equal(badErrors(), 20, 'each bad frame is answered');
    c.sendRaw('not json', false);
    assert.equal(await c.closed, CloseCodes.POLICY);
    const again = await RawClient.connect(t, bob);
    await stillWorks(again);
    await again.close();
  });

  // -- chats ---------------------------------------------------------------------------------------

  it('answers createChat DIRECT with 0 or 2 other users with INVALID_ARGUMENT', async () => {
    const a = await RawClient.connect(t, alice);
    for (const memberUserIds of [[], [bob.userId, carol.userId]]) {
      expectError(
        await a.request({ case: 'createChat', value: { kind: ChatKind.DIRECT, memberUserIds } }),
        'INVALID_ARGUMENT',
      );
    }
    expectError(
      await a.request({
        case: 'createChat',
        value: { kind: ChatKind.UNSPECIFIED, memberUserIds: [bob.userId] },
      }),
      'INVALID_ARGUMENT',
    );
    await stillWorks(a);
    const ok = await a.request({
      case: 'createChat',
      value: { kind: ChatKind.DIRECT, memberUserIds: [bob.userId] },
    });
    assert.equal(ok.body.case, 'chatResult');
    await a.close();
  });

  it('answers createChat listing the caller among memberUserIds with INVALID_ARGUMENT', async () => {
    const a = await RawClient.connect(t, alice);
    expectError(
      await a.request({
        case: 'createChat',
        value: { kind: ChatKind.GROUP, memberUserIds: [alice.userId, bob.userId], name: 'self' },
      }),
      'INVALID_ARGUMENT',
    );
    await stillWorks(a);
    await a.close();
  });

  it('answers an ack with two cursors for one chat with INVALID_ARGUMENT and applies neither', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    await a.call({
      case: 'send',
      value: { chatId, clientMessageId: 'dup-cursor', payload: new Uint8Array([1]) },
    });
    const b = await RawClient.connect(t, bob, { autoAck: false });
    const [m] = await b.waitForMessages(1, chatId);
    const cursor = { chatId, seq: m!.seq };
    expectError(await b.request({ case: 'ack', value: { cursors: [cursor, cursor] } }), 'INVALID_ARGUMENT');
    await b.close();
    const again = await RawClient.connect(t, bob);
    const redelivered = await again.waitForMessages(1, chatId);
    assert.equal(redelivered[0]!.clientMessageId, 'dup-cursor');
    await Promise.all([a.close(), again.close()]);
  });

  it('answers createChat with an unknown user with USER_NOT_FOUND', async () => {
    const a = await RawClient.connect(t, alice);
    expectError(
      await a.request({
        case: 'createChat',
        value: { kind: ChatKind.GROUP, memberUserIds: [bob.userId, 'u_nobody'], name: 'x' },
      }),
      'USER_NOT_FOUND',
    );
    expectError(
      await a.request({ case: 'createChat', value: { kind: ChatKind.DIRECT, memberUserIds: ['u_nobody'] } }),
      'USER_NOT_FOUND',
    );
    // Asked together, the creations share one commit: only the one with the unknown user fails.
    const [ghost, real] = await Promise.all([
      a.request({ case: 'createChat', value: { kind: ChatKind.DIRECT, memberUserIds: ['u_nobody2'] } }),
      a.request({ case: 'createChat', value: { kind: ChatKind.DIRECT, memberUserIds: [carol.userId] } }),
    ]);
    expectError(ghost, 'USER_NOT_FOUND');
    assert.equal(real.body.case, 'chatResult');
    await stillWorks(a);
    await a.close();
  });

  it('answers addMembers and removeMember by a plain member with PERMISSION_DENIED', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId, carol.userId]);
    const b = await RawClient.connect(t, bob);
    expectError(
      await b.request({ case: 'addMembers', value: { chatId, userIds: [dave.userId] } }),
      'PERMISSION_DENIED',
    );
    expectError(
      await b.request({ case: 'removeMember', value: { chatId, userId: carol.userId } }),
      'PERMISSION_DENIED',
    );
    await stillWorks(b);
    const chat = await b.call<{ chat: { lastSeq: bigint; members: Array<{ userId: string }> } }>({
      case: 'getChat',
      value: { chatId },
    });
    assert.equal(chat.chat.lastSeq, 1n);
    assert.deepEqual(
      chat.chat.members.map((m) => m.userId).sort(),
      [alice.userId, bob.userId, carol.userId].sort(),
    );
    await a.close();
    await b.close();
  });

  it('answers a group over maxGroupMembers with GROUP_FULL', async () => {
    const a = await RawClient.connect(t, alice);
    expectError(
      await a.request({
        case: 'createChat',
        value: { kind: ChatKind.GROUP, memberUserIds: [bob.userId, carol.userId, dave.userId], name: 'x' },
      }),
      'GROUP_FULL',
    );
    const chatId = await group(a, [bob.userId, carol.userId]);
    expectError(
      await a.request({ case: 'addMembers', value: { chatId, userIds: [dave.userId] } }),
      'GROUP_FULL',
    );
    await stillWorks(a);
    const chat = await a.call<{ chat: { members: unknown[] } }>({ case: 'getChat', value: { chatId } });
    assert.equal(chat.chat.members.length, 3);
    await a.close();
  });

  it('answers history with limit 101 with INVALID_ARGUMENT', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    expectError(await a.request({ case: 'history', value: { chatId, limit: 101 } }), 'INVALID_ARGUMENT');
    await stillWorks(a);
    const page = await a.call<{ messages: unknown[] }>({ case: 'history', value: { chatId, limit: 100 } });
    assert.equal(page.messages.length, 1);
    await a.close();
  });

  it('answers an ack with seq 0 with INVALID_ARGUMENT', async () => {
    const a = await RawClient.connect(t, alice);
    const chatId = await group(a, [bob.userId]);
    expectError(
      await a.request({ case: 'ack', value: { cursors: [{ chatId, seq: 0n }] } }),
      'INVALID_ARGUMENT',
    );
    expectError(await a.request({ case: 'ack', value: { cursors: [] } }), 'INVALID_ARGUMENT');
    await stillWorks(a);
    await a.close();
  });

  // -- directory -------------------------------------------------------------------------------

  it('answers discover with a 31-byte hash, or no hashes, with INVALID_ARGUMENT', async () => {
    const a = await RawClient.connect(t, alice);
    expectError(
      await a.request({
        case: 'discover',
        value: { phoneHashes: [phoneHash(bob.phone), phoneHash(bob.phone).subarray(0, 31)] },
      }),
      'INVALID_ARGUMENT',
    );
    expectError(await a.request({ case: 'discover', value: { phoneHashes: [] } }), 'INVALID_ARGUMENT');
    await stillWorks(a);
    await a.close();
  });

  it('discover returns only the hashes of registered numbers, with their user ids', async () => {
    const a = await RawClient.connect(t, alice);
    const unknown = nextPhone(); // never registered
    const r = await a.call<{ matches: Array<{ phoneHash: Uint8Array; userId: string }> }>({
      case: 'discover',
      value: { phoneHashes: [phoneHash(bob.phone), phoneHash(unknown), phoneHash(alice.phone)] },
    });
    assert.deepEqual(
      r.matches.map((m) => [Buffer.from(m.phoneHash).toString('hex'), m.userId]).sort(),
      [
        [phoneHash(bob.phone).toString('hex'), bob.userId],
        [phoneHash(alice.phone).toString('hex'), alice.userId],
      ].sort(),
    );
    await a.close();
  });

  it('answers listDevices with no user ids with INVALID_ARGUMENT', async () => {
    const a = await RawClient.connect(t, alice);
    expectError(await a.request({ case: 'listDevices', value: { userIds: [] } }), 'INVALID_ARGUMENT');
    await stillWorks(a);
    const r = await a.call<{ users: Array<{ userId: string; deviceIds: string[] }> }>({
      case: 'listDevices',
      value: { userIds: [bob.userId] },
    });
    assert.deepEqual(
      r.users.map((u) => [u.userId, [...u.deviceIds].sort()]),
      [[bob.userId, [bob.deviceId, bob2.deviceId].sort()]],
    );
    await a.close();
  });
});
