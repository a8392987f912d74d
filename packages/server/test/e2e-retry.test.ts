/**
 * Retry after a failed decrypt through a real node, with real libsignal sessions and SQLite
 * key stores: a device that lost its session (or a group's sender key) asks the sending
 * device, which encrypts the message again over a fresh session; a sender that was offline
 * answers once it is back and the asking device asks again. The recovered message arrives
 * with `resent: true`, later messages decrypt again, and nothing is asked twice once done.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ChatKind, type Credentials, type SecureMessagingOptions } from '@parley/sdk';
import { ManualTimers } from '@parley/sdk/testing';
import { startNode, type TestNode } from './harness.js';
import { newUser, until } from './sdk-helpers.js';
import { type SecureDevice as Device, SecureDevices } from './secure-devices.js';

const devices = new SecureDevices();
const device = (creds: Credentials, options: SecureMessagingOptions = {}) => devices.device(creds, options);
const close = (d: Device) => devices.close(d);

/** Deletes every key of `ns` in the device's store that names `deviceId` (a lost session). */
async function forget(d: Device, ns: string, deviceId: string): Promise<number> {
  let n = 0;
  for (const k of await d.kv.keys(ns)) {
    if (k.includes(deviceId)) {
      await d.kv.delete(ns, k);
      n++;
    }
  }
  return n;
}

const texts = (d: Device, chatId: string) =>
  d.received
    .filter((m) => m.chatId === chatId)
    .map((m) => `${m.seq}:${m.content.text}${m.resent ? ' (resent)' : ''}`);

describe('retry after a failed decrypt, through a real node', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  afterEach(() => devices.closeAll());
  after(async () => {
    await t.stop();
    await devices.dispose();
  });

  it('a device that lost its session gets the message again over a fresh one', async () => {
    const alice = await device(await newUser(t));
    const bob = await device(await newUser(t));
    const chat = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bob.creds.userId] });
    const first = await alice.secure.send(chat.id, { text: 'first' });
    await until(() => texts(bob, chat.id).length === 1, 'bob reads the first message');

    // Bob's copy of the session with Alice's device is lost; Alice's side still uses it.
    assert.equal(await forget(bob, 'session', alice.creds.deviceId), 1);
    const second = await alice.secure.send(chat.id, { text: 'second' });
    await until(() => texts(bob, chat.id).length === 2, 'bob gets the second message again');
    assert.deepEqual(texts(bob, chat.id), [`${first.seq}:first`, `${second.seq}:second (resent)`]);
    assert.equal(bob.failures.length, 1);
    assert.deepEqual(
      [bob.failures[0]!.seq, bob.failures[0]!.retrying, bob.failures[0]!.senderDeviceId],
      [second.seq, true, alice.creds.deviceId],
    );

    // The fresh session carries on both ways.
    const third = await alice.secure.send(chat.id, { text: 'third' });
    await until(() => texts(bob, chat.id).length === 3, 'bob reads the third message');
    const reply = await bob.secure.send(chat.id, { text: 'reply' });
    await until(() => texts(alice, chat.id).some((x) => x.endsWith('reply')), 'alice reads the reply');
    assert.deepEqual(texts(bob, chat.id).at(-1), `${third.seq}:third`);
    assert.deepEqual(texts(alice, chat.id).at(-1), `${reply.seq}:reply`);
    assert.deepEqual([bob.failures.length, bob.errors, alice.errors], [1, [], []]);
  });

  it('a group member without the sender key gets the message and the key, and reads what follows', async () => {
    const alice = await device(await newUser(t));
    const bob = await device(await newUser(t));
    const carol = await device(await newUser(t));
    const chat = await alice.client.createChat({
      kind: ChatKind.GROUP,
      name: 'g',
      memberUserIds: [bob.creds.userId, carol.creds.userId],
    });
    await alice.secure.send(chat.id, { text: 'one' }); // pairwise, carrying the sender key
    await until(
      () => texts(bob, chat.id).length === 1 && texts(carol, chat.id).length === 1,
      'both read one',
    );

    assert.ok((await forget(bob, 'sender-key', alice.creds.deviceId)) >= 1, 'bob loses alice’s sender key');
    const two = await alice.secure.send(chat.id, { text: 'two' }); // one group ciphertext
    await until(() => texts(bob, chat.id).length === 2, 'bob gets two again');
    assert.deepEqual(texts(bob, chat.id).at(-1), `${two.seq}:two (resent)`);
    const three = await alice.secure.send(chat.id, { text: 'three' });
    await until(() => texts(bob, chat.id).length === 3, 'bob reads three with the key he got back');
    assert.deepEqual(texts(bob, chat.id).at(-1), `${three.seq}:three`);
    assert.deepEqual(
      texts(carol, chat.id).map((x) => x.split(':')[1]),
      ['one', 'two', 'three'],
    );
    assert.deepEqual([bob.failures.length, carol.failures.length, bob.errors, alice.errors], [1, 0, [], []]);
  });

  it('a sender that was offline answers once back: the asking device asks again', async () => {
    const timers = new ManualTimers(Date.now());
    const aliceCreds = await newUser(t);
    let alice = await device(aliceCreds);
    const bob = await device(await newUser(t), { timers });
    const chat = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bob.creds.userId] });
    await alice.secure.send(chat.id, { text: 'hello' });
    await until(() => texts(bob, chat.id).length === 1, 'bob reads hello');

    await forget(bob, 'session', alice.creds.deviceId);
    const lost = await alice.secure.send(chat.id, { text: 'while you slept' });
    await close(alice); // before bob asks: the request reaches nobody
    await until(() => bob.failures.length === 1, 'bob fails to decrypt');
    assert.equal(texts(bob, chat.id).length, 1);

    alice = await device(aliceCreds);
    // Bob asks again on his timer (every 10 minutes while something is missing).
    timers.advance(10 * 60_000);
    await until(() => texts(bob, chat.id).length === 2, 'the message arrives after the second request');
    assert.deepEqual(texts(bob, chat.id).at(-1), `${lost.seq}:while you slept (resent)`);
    // Nothing is left to ask for: the next pass asks nothing.
    const asked = bob.received.length;
    timers.advance(10 * 60_000);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(bob.received.length, asked);
    assert.deepEqual([bob.errors, alice.errors], [[], []]);
  });
});
