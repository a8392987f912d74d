/**
 * ParleyClient against a real in-process node over loopback: the welcome and its limits,
 * concurrent requests, error answers, both encodings end to end, receive: false, and the
 * closes after which the client stops for good (refused handshake, 4001, 4003).
 * Reconnects, crashes and timeouts are in sdk-reconnect.test.ts; the basic send/deliver/
 * resume flow and outbox-before-connect are in packages/cli/src/loopback.test.ts.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  ChatKind,
  type Credentials,
  createLinkCode,
  linkDevice,
  type ParleyError,
  removeDevice,
} from '@parley/sdk';
import { startNode, type TestNode } from './harness.js';
import { closeWatched, newUser, text, unacked, untext, until, watch } from './sdk-helpers.js';

const MAX_PAYLOAD = 1024;

describe('ParleyClient against a real node', () => {
  let t: TestNode;
  let alice: Credentials;
  let bob: Credentials;

  before(async () => {
    t = await startNode({ maxPayloadBytes: MAX_PAYLOAD });
  });
  beforeEach(async () => {
    alice = await newUser(t); // fresh users per test: no backlog from an earlier test
    bob = await newUser(t);
  });
  afterEach(closeWatched);
  after(() => t.stop());

  it('connect resolves on the welcome; concurrent requests get their own answers as plain data', async () => {
    const a = watch(alice);
    const welcome = await a.client.connect();
    assert.equal(a.client.connected, true);
    assert.deepEqual([welcome.userId, welcome.deviceId], [alice.userId, alice.deviceId]);
    assert.equal(welcome.maxPayloadBytes, MAX_PAYLOAD);
    assert.equal(a.client.welcome, welcome);

    const [chat, time, devices] = await Promise.all([
      a.client.createChat({ kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'g', description: 'd' }),
      a.client.ping(),
      a.client.listDevices([bob.userId, alice.userId]),
    ]);
    assert.equal(chat.kind, ChatKind.GROUP);
    assert.deepEqual([chat.name, chat.description, chat.lastSeq], ['g', 'd', 1]);
    assert.deepEqual(chat.members.map((m) => m.userId).sort(), [alice.userId, bob.userId].sort());
    assert.deepEqual(JSON.parse(JSON.stringify(chat)), chat, 'no bigints or class instances');
    assert.ok(Math.abs(time - Date.now()) < 60_000);
    assert.deepEqual(devices, [
      { userId: bob.userId, deviceIds: [bob.deviceId] },
      { userId: alice.userId, deviceIds: [alice.deviceId] },
    ]);
    // getChat adds the caller's view (the newest message); createChat's answer has none.
    const { lastMessage, ...fetched } = await a.client.getChat(chat.id);
    assert.deepEqual(fetched, chat);
    assert.equal(lastMessage?.seq, 1);
    // Payloads over the welcome's limit are refused before they are sent.
    await assert.rejects(a.client.send(chat.id, new Uint8Array(MAX_PAYLOAD + 1)), {
      code: 'PAYLOAD_TOO_LARGE',
    });
    assert.equal(a.client.pendingSends, 0);
  });

  it('an error answer rejects with its ParleyError; DEVICE_MISMATCH carries the device sets', async () => {
    const a = watch(alice);
    const b = watch(bob);
    await Promise.all([a.client.connect(), b.client.connect()]);
    const chat = await a.client.createChat({ kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'm' });
    await assert.rejects(a.client.getChat('no-such-chat'), { code: 'CHAT_NOT_FOUND' });

    const wrong = [{ deviceId: 'dx', payload: text('for nobody') }];
    await assert.rejects(a.client.send(chat.id, wrong, { clientMessageId: 'dm-1' }), (err: ParleyError) => {
      assert.equal(err.code, 'DEVICE_MISMATCH');
      const mismatch = err.details?.deviceMismatch as Record<string, unknown>;
      assert.deepEqual(mismatch.missingDeviceIds, [bob.deviceId]);
      assert.deepEqual(mismatch.extraDeviceIds, ['dx']);
      // Every member's current devices, the sending device left out.
      const current = mismatch.current as { userId: string; deviceIds: string[] }[];
      assert.deepEqual(
        new Map(current.map((c) => [c.userId, c.deviceIds])),
        new Map([
          [alice.userId, []],
          [bob.userId, [bob.deviceId]],
        ]),
      );
      return true;
    });
    assert.equal(a.client.pendingSends, 0);
    // Nothing was stored, so the same clientMessageId works once the device set is right.
    const right = [{ deviceId: bob.deviceId, payload: text('for bob') }];
    const result = await a.client.send(chat.id, right, { clientMessageId: 'dm-1' });
    await until(() => b.messages.length === 1, 'bob gets his payload');
    assert.deepEqual(
      [b.messages[0]!.seq, b.messages[0]!.clientMessageId, untext(b.messages[0]!.payload)],
      [result.seq, 'dm-1', 'for bob'],
    );
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  it('the JSON encoding works end to end', async () => {
    const a = watch(alice, { encoding: 'json' });
    const b = watch(bob, { encoding: 'json' });
    await Promise.all([a.client.connect(), b.client.connect()]);
    assert.equal(t.node.hub.get(alice.deviceId as never)?.encoding, 'json');
    assert.equal(t.node.hub.get(bob.deviceId as never)?.encoding, 'json');
    const chat = await a.client.createChat({ kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'j' });
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i); // base64 in JSON: every byte value
    const result = await a.client.send(chat.id, bytes, { clientMessageId: 'json-1' });
    assert.deepEqual(result, {
      clientMessageId: 'json-1',
      chatId: chat.id,
      seq: 2,
      serverTime: result.serverTime,
    });
    await until(() => b.messages.length === 1, 'bob gets the message');
    assert.deepEqual(b.messages[0]!.payload, bytes);
    assert.equal(b.updates.find((u) => u.chatId === chat.id)?.update.name, 'j');
    await until(() => unacked(t, bob.deviceId) === 0, 'bob acks over JSON');
    const page = await b.client.history(chat.id);
    assert.deepEqual(
      page.messages.map((m) => m.seq),
      [1, 2],
    );
    assert.ok((await b.client.ping()) > 0);
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  it('with receive: false deliveries are neither emitted nor acked; a later session gets them', async () => {
    const a = watch(alice);
    await a.client.connect();
    const chat = await a.client.createChat({ kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'q' });
    const quiet = watch(bob, { receive: false });
    await quiet.client.connect();
    await a.client.send(chat.id, text('later'));
    // The chat-created update and the message are on bob's socket...
    await until(() => (unacked(t, bob.deviceId) ?? 0) >= 2, 'both deliveries');
    await quiet.client.ping(); // ...and an ack sent before this pong would have been read by now
    assert.ok(unacked(t, bob.deviceId)! >= 2);
    assert.deepEqual([quiet.messages, quiet.updates], [[], []]);
    assert.deepEqual(quiet.client.stats, { received: 0, duplicates: 0, sent: 0, acked: 0 });
    await quiet.client.close();

    const b = watch(bob);
    await b.client.connect();
    await until(() => b.messages.some((m) => m.chatId === chat.id), 'the message in a later session');
    assert.equal(untext(b.messages.find((m) => m.chatId === chat.id)!.payload), 'later');
  });

  it('a refused handshake (bad token: 401) stops the client with UNAUTHENTICATED', async () => {
    const w = watch({ ...alice, token: `${alice.token}x` });
    const send = assert.rejects(w.client.send('any', text('x')), { code: 'UNAUTHENTICATED' });
    const connect = assert.rejects(w.client.connect(), { code: 'UNAUTHENTICATED' });
    await until(() => w.disconnects.length > 0, 'the refusal');
    assert.equal(w.disconnects[0]!.willReconnect, false);
    assert.equal((w.disconnects[0]!.error as ParleyError).code, 'UNAUTHENTICATED');
    await Promise.all([connect, send]);
    assert.equal(w.disconnects.length, 1);
    await assert.rejects(w.client.connect(), { code: 'UNAUTHENTICATED' });
    assert.equal(w.connects, 0);
  });

  it('after close 4001 (another connection of the device) the client stops for good', async () => {
    // random: 0 makes every backoff delay 0: a wrong reconnect would happen at once.
    const first = watch(alice, { random: () => 0 });
    await first.client.connect();
    const second = watch(alice);
    await second.client.connect();
    await until(() => first.disconnects.length === 1, 'the first client is replaced');
    const info = first.disconnects[0]!;
    assert.deepEqual([info.code, info.willReconnect], [4001, false]);
    assert.equal((info.error as ParleyError).code, 'UNAUTHENTICATED');
    await assert.rejects(first.client.connect(), { code: 'UNAUTHENTICATED' });
    await assert.rejects(first.client.send('any', text('x')), { code: 'UNAUTHENTICATED' });
    // Had the first client reconnected, the second would have been replaced in turn.
    for (let i = 0; i < 5; i++) await second.client.ping();
    assert.deepEqual([second.client.connected, second.disconnects, first.connects], [true, [], 1]);
  });

  it('after close 4003 (device removed over HTTP) the client stops for good', async () => {
    const { code } = await createLinkCode(alice);
    const laptop = await linkDevice(t.url, { code, deviceName: 'laptop' });
    const w = watch(laptop, { random: () => 0 });
    await w.client.connect();
    await removeDevice(alice, laptop.deviceId); // DELETE /v1/devices/:id from the primary
    await until(() => w.disconnects.length === 1, 'the removed device is disconnected');
    const info = w.disconnects[0]!;
    assert.deepEqual([info.code, info.willReconnect], [4003, false]);
    assert.equal((info.error as ParleyError).details?.closeCode, 4003);
    await assert.rejects(w.client.send('any', text('x')), { code: 'UNAUTHENTICATED' });
    await assert.rejects(w.client.connect(), { code: 'UNAUTHENTICATED' });
    assert.equal(w.connects, 1);
    assert.equal(t.node.hub.get(laptop.deviceId as never), undefined);
  });
});
