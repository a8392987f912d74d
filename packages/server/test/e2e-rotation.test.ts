/**
 * Signed-key rotation through a real node: SDK devices on real libsignal sessions and SQLite
 * key stores replace their signed keys when due (at start, on reconnect, on their timer), the
 * server then hands out the new ones, and a first message to a bundle fetched before the
 * rotation decrypts until the grace period is over. Key time runs on ManualTimers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { ChatKind, type Credentials, E2eError, type SecureMessagingOptions } from '@parley/sdk';
import { ManualTimers } from '@parley/sdk/testing';
import { startNode, type TestNode } from './harness.js';
import { newUser, until } from './sdk-helpers.js';
import { type SecureDevice as Device, SecureDevices } from './secure-devices.js';

const DAY = 24 * 60 * 60 * 1000;

const devices = new SecureDevices();
const open = devices.open;
const device = (creds: Credentials, options: SecureMessagingOptions = {}) => devices.device(creds, options);
const close = (d: Device) => devices.close(d);

const texts = (d: Device, chatId: string) =>
  d.received.filter((m) => m.chatId === chatId && m.content.text !== undefined).map((m) => m.content.text);

async function directChat(from: Device, to: Device): Promise<string> {
  const chat = await from.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [to.creds.userId] });
  return chat.id;
}

async function signedKeyIds(d: Device): Promise<number[]> {
  return (await d.kv.keys('signed-prekey')).map(Number).sort((a, b) => a - b);
}

describe('signed-key rotation through a real node', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode({ dataDir: mkdtempSync(join(tmpdir(), 'parley-rotation-node-')) });
  });
  afterEach(() => devices.closeAll());
  after(async () => {
    await t.stop();
    rmSync(t.dataDir, { recursive: true, force: true });
    await devices.dispose();
  });

  it('keys older than the rotation period are replaced on connect; a first message to the bundle fetched before still decrypts', async () => {
    const timers = new ManualTimers(Date.now());
    const bobCreds = await newUser(t);
    let bob = await device(bobCreds, { timers });
    const alice = await device(await newUser(t));
    const made = await bob.secure.protocol.currentSignedKeys();
    assert.ok(made);
    const [oldBundle] = await alice.client.preKeyBundles(bobCreds.userId);
    assert.equal(oldBundle?.signedPreKey.id, made.signedPreKeyId);
    assert.deepEqual(bob.rotations, [], 'new keys are not rotated');

    // Bob's app is closed for eight days; when it starts again, its keys are too old.
    await close(bob);
    timers.advance(8 * DAY);
    bob = await device(bobCreds, { timers });
    const now = await bob.secure.protocol.currentSignedKeys();
    assert.ok(now && now.signedPreKeyId > made.signedPreKeyId && now.lastResortKeyId > made.lastResortKeyId);
    assert.equal(now.createdAt, timers.t);
    assert.deepEqual(bob.rotations, [now.signedPreKeyId]);
    const [fresh] = await alice.client.preKeyBundles(bobCreds.userId);
    assert.equal(fresh?.signedPreKey.id, now.signedPreKeyId, 'the server hands out the new signed prekey');
    assert.equal(fresh?.lastResortKey.id, now.lastResortKeyId);

    // Alice fetched the old bundle before the rotation and starts her session from it.
    await alice.secure.protocol.startSession(oldBundle!);
    const chatId = await directChat(alice, bob);
    await alice.secure.send(chatId, { text: 'to the keys you had' });
    await until(() => bob.received.length + bob.failures.length > 0, 'bob gets the message', 10_000);
    assert.deepEqual(texts(bob, chatId), ['to the keys you had']);
    assert.deepEqual([...bob.failures, ...bob.errors, ...alice.errors], []);
  });

  it('a rotation due while offline is uploaded when the connection is back, with the same keys', async () => {
    const own = await startNode({ dataDir: mkdtempSync(join(tmpdir(), 'parley-rotation-own-')) });
    const port = Number(new URL(own.url).port);
    const timers = new ManualTimers(Date.now());
    const bobCreds = await newUser(own);
    const bob = await device(bobCreds, { timers });
    const made = await bob.secure.protocol.currentSignedKeys();
    let restarted: TestNode | undefined;
    try {
      await own.node.stop();
      await until(() => !bob.client.connected, 'bob is offline');
      // The timer's check finds the keys due; the upload fails and a retry is set.
      timers.advance(7 * DAY);
      await until(() => timers.timers === 1, 'the check ran and set its retry', 10_000);
      assert.deepEqual(bob.rotations, []);
      assert.deepEqual(
        await bob.secure.protocol.currentSignedKeys(),
        made,
        'not current before the server has them',
      );
      const saved = await signedKeyIds(bob);
      assert.equal(saved.length, 2, 'the new private key is saved before the upload');
      const pendingId = saved[1]!;

      restarted = await startNode({ dataDir: own.dataDir, port });
      await until(() => bob.rotations.length === 1, 'the reconnect uploads the keys', 10_000);
      assert.deepEqual(bob.rotations, [pendingId], 'the retry sent the keys made offline');
      assert.deepEqual(await signedKeyIds(bob), saved, 'no key made per attempt');
      const peer = await device(await newUser(restarted));
      const [bundle] = await peer.client.preKeyBundles(bobCreds.userId);
      assert.equal(bundle?.signedPreKey.id, pendingId);
      assert.deepEqual(bob.errors, [], 'being offline is not an error');
    } finally {
      for (const d of [...open]) await close(d);
      await restarted?.node.stop();
      rmSync(own.dataDir, { recursive: true, force: true });
    }
  });

  it('while running, keys rotate on the timer and replaced ones go after the grace period; a first message to them then fails and is sent again', async () => {
    const timers = new ManualTimers(Date.now());
    const bobCreds = await newUser(t);
    const bob = await device(bobCreds, { timers, signedKeyRotationMs: 7 * DAY, retiredKeyGraceMs: 30 * DAY });
    const alice = await device(await newUser(t));
    const carol = await device(await newUser(t));
    const first = await bob.secure.protocol.currentSignedKeys();
    const [firstBundle] = await alice.client.preKeyBundles(bobCreds.userId);

    timers.advance(7 * DAY);
    await until(() => bob.rotations.length === 1, 'the timer rotates the keys', 10_000);
    const [secondBundle] = await carol.client.preKeyBundles(bobCreds.userId);
    assert.equal(secondBundle?.signedPreKey.id, bob.rotations[0]);

    // 30 days after the first rotation: the keys rotate again, and the first ones are deleted.
    timers.advance(30 * DAY);
    await until(() => bob.rotations.length === 2 && timers.timers === 1, 'the next check', 10_000);
    assert.deepEqual(
      await signedKeyIds(bob),
      bob.rotations,
      'the first signed prekey is gone, the second kept',
    );
    assert.ok(first && !bob.rotations.includes(first.signedPreKeyId));

    await alice.secure.protocol.startSession(firstBundle!);
    await carol.secure.protocol.startSession(secondBundle!);
    const withAlice = await directChat(alice, bob);
    const withCarol = await directChat(carol, bob);
    await alice.secure.send(withAlice, { text: 'to pruned keys' });
    await carol.secure.send(withCarol, { text: 'to replaced keys within the grace period' });
    await until(
      () => texts(bob, withCarol).length === 1 && bob.failures.length === 1,
      'carol’s message and the failure of alice’s',
      10_000,
    );
    assert.deepEqual(texts(bob, withCarol), ['to replaced keys within the grace period']);
    const failure = bob.failures[0]!;
    assert.equal(failure.chatId, withAlice);
    assert.ok(
      failure.error instanceof E2eError && failure.error.code === 'UNKNOWN_PREKEY',
      String(failure.error),
    );
    assert.equal(failure.retrying, true);
    // Bob asked alice's device for it again: it comes over a session from his current keys.
    await until(() => texts(bob, withAlice).length === 1, 'alice’s message, sent again', 10_000);
    assert.deepEqual(texts(bob, withAlice), ['to pruned keys']);
    assert.equal(bob.received.find((m) => m.chatId === withAlice)?.resent, true);
    assert.deepEqual(bob.errors, []);
  });
});
