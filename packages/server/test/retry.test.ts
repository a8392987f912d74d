/**
 * Retry after a failed decrypt, over real sockets: the device that could not decrypt asks,
 * the sending device is told and answers with a new ciphertext for that device alone; every
 * check on who may ask, who may answer and for which device. (Across nodes: cluster.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Frame } from '@parley/protocol';
import { createGroup, linkDevice, RawClient, register, startNode, type TestNode, text } from './harness.js';
import { makeKeys } from './key-fixtures.js';

const codeOf = (f: Frame) => (f.body.case === 'error' ? f.body.value.code : `no error: ${f.body.case}`);

describe('retry after a failed decrypt', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  it('the asking device reaches the sender, whose new ciphertext reaches that device only', async () => {
    const alice = await register(t);
    const bob = await register(t);
    const bobTablet = await linkDevice(t, bob);
    const [a, b, bt] = await Promise.all([alice, bob, bobTablet].map((c) => RawClient.connect(t, c)));
    const chatId = await createGroup(a!, [bob.userId]);
    const sent = await a!.call<{ seq: bigint }>({
      case: 'send',
      value: { clientMessageId: 'm1', chatId, payload: text('hello') },
    });
    await b!.waitForMessages(1, chatId);

    assert.equal(
      (await b!.request({ case: 'retry', value: { chatId, seq: sent.seq } })).body.case,
      'retryResult',
    );
    const asked = await a!.waitFor((f) => f.body.case === 'retryRequested');
    assert.deepEqual(asked.body.value, {
      $typeName: 'parley.v1.RetryRequested',
      chatId,
      seq: sent.seq,
      userId: bob.userId,
      deviceId: bob.deviceId,
    });

    const payload = text('hello again, for the phone only');
    await a!.call({ case: 'resend', value: { chatId, seq: sent.seq, deviceId: bob.deviceId, payload } });
    const resent = await b!.waitFor((f) => f.body.case === 'resent');
    const v = resent.body.value as {
      chatId: string;
      seq: bigint;
      senderDeviceId: string;
      payload: Uint8Array;
    };
    assert.deepEqual([v.chatId, v.seq, v.senderDeviceId], [chatId, sent.seq, alice.deviceId]);
    assert.deepEqual(Buffer.from(v.payload), Buffer.from(payload));
    // The tablet asked nothing and gets nothing.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(
      bt!.frames.some((f) => f.body.case === 'resent' || f.body.case === 'retryRequested'),
      false,
    );
    await Promise.all([a, b, bt].map((c) => c!.close()));
  });

  it('refuses what does not fit: own messages, updates, strangers, other senders, other devices', async () => {
    const alice = await register(t);
    const bob = await register(t);
    const carol = await register(t);
    const [a, b, c] = await Promise.all([alice, bob, carol].map((x) => RawClient.connect(t, x)));
    const chatId = await createGroup(a!, [bob.userId]);
    const { seq } = await a!.call<{ seq: bigint }>({
      case: 'send',
      value: { clientMessageId: 'm1', chatId, payload: text('hi') },
    });
    const retry = (x: RawClient, s: bigint, chat = chatId) =>
      x.request({ case: 'retry', value: { chatId: chat, seq: s } });
    const resend = (x: RawClient, deviceId: string, payload = text('again')) =>
      x.request({ case: 'resend', value: { chatId, seq, deviceId, payload } });

    assert.equal(codeOf(await retry(a!, seq)), 'INVALID_ARGUMENT', 'alice sent it');
    assert.equal(codeOf(await retry(b!, 1n)), 'NOT_FOUND', 'seq 1 is the chat-created update');
    assert.equal(codeOf(await retry(b!, seq + 5n)), 'NOT_FOUND', 'no such seq');
    assert.equal(codeOf(await retry(b!, 0n)), 'INVALID_ARGUMENT', 'seqs start at 1');
    assert.equal(codeOf(await retry(c!, seq)), 'NOT_A_MEMBER');
    assert.equal(codeOf(await retry(b!, seq, 'c_nope')), 'CHAT_NOT_FOUND');

    assert.equal(codeOf(await resend(b!, alice.deviceId)), 'PERMISSION_DENIED', 'bob did not send it');
    assert.equal(codeOf(await resend(a!, carol.deviceId)), 'NOT_FOUND', 'carol is not a member');
    assert.equal(codeOf(await resend(a!, alice.deviceId)), 'INVALID_ARGUMENT', 'not to itself');
    assert.equal(codeOf(await resend(a!, bob.deviceId, new Uint8Array())), 'INVALID_ARGUMENT');
    assert.equal(codeOf(await resend(a!, bob.deviceId, new Uint8Array(70_000))), 'PAYLOAD_TOO_LARGE');

    // A message deleted for everyone has nothing left to send again.
    await a!.call({
      case: 'send',
      value: { clientMessageId: 'd1', chatId, meta: { type: 2, refSeq: seq } },
    });
    assert.equal(codeOf(await retry(b!, seq)), 'NOT_FOUND');
    await Promise.all([a, b, c].map((x) => x!.close()));
  });

  it('prekey bundles can be limited to some devices, consuming only theirs', async () => {
    const alice = await register(t);
    const bob = await register(t);
    const bobTablet = await linkDevice(t, bob);
    const [a, b, bt] = await Promise.all([alice, bob, bobTablet].map((c) => RawClient.connect(t, c)));
    for (const x of [b!, bt!]) await x.call({ case: 'uploadKeys', value: makeKeys(3).upload });
    const only = await a!.call<{ bundles: Array<{ deviceId: string; oneTimePreKey?: { id: number } }> }>({
      case: 'getPreKeyBundles',
      value: { userId: bob.userId, deviceIds: [bobTablet.deviceId] },
    });
    assert.deepEqual(
      only.bundles.map((x) => [x.deviceId, x.oneTimePreKey?.id]),
      [[bobTablet.deviceId, 1]],
    );
    // Another user's fetch (alice got one of the tablet's keys already, so hers would carry none).
    const c = await RawClient.connect(t, await register(t));
    const all = await c.call<{ bundles: Array<{ deviceId: string; oneTimePreKey?: { id: number } }> }>({
      case: 'getPreKeyBundles',
      value: { userId: bob.userId },
    });
    assert.deepEqual(
      all.bundles.map((x) => x.oneTimePreKey?.id).sort(),
      [1, 2],
      "the phone's first key was not taken by the limited fetch; the tablet's was",
    );
    await Promise.all([a, b, bt, c].map((x) => x!.close()));
  });
});
