/**
 * The conformance suite of E2eProtocol: every implementation's test calls it with a backend
 * (how to open its stores and make its protocol), so LibsignalProtocol and BrowserE2eProtocol
 * are held to the same behaviour and error codes. A backend that mixes implementations makes
 * every pair of devices here talk across them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualTimers } from '../testing/manual-timers.js';
import {
  type ProtocolBackend,
  publish,
  read,
  type TestDevice,
  TestDevices,
  takeBundle,
  text,
} from './e2e-protocol.fixtures.js';
import { E2eError, type E2eErrorCode } from './errors.js';

/** The first byte of a ciphertext: libsignal's CiphertextMessageType, as both implementations frame. */
const PREKEY_FRAME = 3;
const WHISPER_FRAME = 2;
const DAY = 24 * 60 * 60 * 1000;
const GRACE = 30 * DAY;
const code = (expected: E2eErrorCode) => (err: unknown) => err instanceof E2eError && err.code === expected;

export function e2eProtocolContract(name: string, backend: ProtocolBackend): void {
  const devices = new TestDevices(backend);

  /** A device whose protocol runs on a clock the test moves. */
  async function clocked(userId: string, deviceId: string, oneTimeCount = 2) {
    const clock = new ManualTimers(Date.now());
    const device = await devices.device(userId, deviceId, { now: clock.now, oneTimeCount });
    return { device, clock };
  }

  async function rotate(device: TestDevice) {
    const keys = await device.protocol.rotateSignedKeys();
    await device.protocol.commitSignedKeys(keys);
    publish(device, keys);
    return keys;
  }

  async function firstMessage(from: TestDevice, to: TestDevice, bundle = takeBundle(to), body = 'hello') {
    await from.protocol.startSession(bundle);
    return from.protocol.encrypt(to.deviceId, text(body));
  }

  async function connect(a: TestDevice, b: TestDevice): Promise<void> {
    await a.protocol.startSession(takeBundle(b));
    await b.protocol.decrypt(a.deviceId, await a.protocol.encrypt(b.deviceId, text('hi')));
  }

  /** Sends the sender key over the pairwise session, as the client will. */
  async function distribute(chatId: string, from: TestDevice, to: TestDevice): Promise<void> {
    const sealed = await from.protocol.encrypt(
      to.deviceId,
      await from.protocol.senderKeyDistribution(chatId),
    );
    await to.protocol.processSenderKeyDistribution(
      from.deviceId,
      await to.protocol.decrypt(from.deviceId, sealed),
    );
  }

  test(`${name}: a session from a bundle with a one-time prekey carries messages both ways, out of order`, async () => {
    const alice = await devices.device('alice', 'alice-phone');
    const bob = await devices.device('bob', 'bob-phone');
    const bundle = takeBundle(bob);
    assert.ok(bundle.oneTimePreKey);
    await alice.protocol.startSession(bundle);
    assert.equal(await alice.protocol.hasSession('bob-phone'), true);
    assert.equal(await bob.protocol.hasSession('alice-phone'), false);

    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await alice.protocol.encrypt('bob-phone', text(`hello ${i}`)));
    assert.ok(sent.every((c) => c[0] === PREKEY_FRAME));
    for (const i of [2, 0, 1])
      assert.equal(read(await bob.protocol.decrypt('alice-phone', sent[i]!)), `hello ${i}`);
    // The one-time prekey is consumed once the session exists: a first message to it again fails.
    const eve = await devices.device('eve', 'eve-phone');
    await eve.protocol.startSession(bundle);
    const reused = await eve.protocol.encrypt('bob-phone', text('same one-time key'));
    await assert.rejects(bob.protocol.decrypt('eve-phone', reused), code('UNKNOWN_PREKEY'));

    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await bob.protocol.encrypt('alice-phone', text(`reply ${i}`)));
    assert.ok(replies.every((c) => c[0] === WHISPER_FRAME));
    for (const i of [1, 2, 0])
      assert.equal(read(await alice.protocol.decrypt('bob-phone', replies[i]!)), `reply ${i}`);

    const next = await alice.protocol.encrypt('bob-phone', text('after the reply'));
    assert.equal(next[0], WHISPER_FRAME);
    assert.equal(read(await bob.protocol.decrypt('alice-phone', next)), 'after the reply');
  });

  test(`${name}: a session from a bundle without one-time prekeys uses the last-resort Kyber key`, async () => {
    const alice = await devices.device('alice', 'alice-laptop');
    const bob = await devices.device('bob', 'bob-laptop', { oneTimeCount: 0 });
    const bundle = takeBundle(bob);
    assert.equal(bundle.oneTimePreKey, undefined);
    await alice.protocol.startSession(bundle);
    const first = await alice.protocol.encrypt('bob-laptop', text('no one-time key'));
    const second = await alice.protocol.encrypt('bob-laptop', text('still none'));
    assert.equal(read(await bob.protocol.decrypt('alice-laptop', second)), 'still none');
    assert.equal(read(await bob.protocol.decrypt('alice-laptop', first)), 'no one-time key');
    const reply = await bob.protocol.encrypt('alice-laptop', text('got it'));
    assert.equal(read(await alice.protocol.decrypt('bob-laptop', reply)), 'got it');

    // The last-resort key stays usable for the next device.
    const carol = await devices.device('carol', 'carol-phone');
    await carol.protocol.startSession(takeBundle(bob));
    const fromCarol = await carol.protocol.encrypt('bob-laptop', text('me too'));
    assert.equal(read(await bob.protocol.decrypt('carol-phone', fromCarol)), 'me too');
  });

  test(`${name}: a message decrypted twice is reported as a duplicate`, async () => {
    const alice = await devices.device('alice', 'alice-dup');
    const bob = await devices.device('bob', 'bob-dup');
    await alice.protocol.startSession(takeBundle(bob));
    const first = await alice.protocol.encrypt('bob-dup', text('once'));
    await bob.protocol.decrypt('alice-dup', first);
    await assert.rejects(bob.protocol.decrypt('alice-dup', first), code('DUPLICATE_MESSAGE'));
    const reply = await bob.protocol.encrypt('alice-dup', text('whisper'));
    await alice.protocol.decrypt('bob-dup', reply);
    await assert.rejects(alice.protocol.decrypt('bob-dup', reply), code('DUPLICATE_MESSAGE'));
  });

  test(`${name}: a bundle whose signed prekey or last-resort signature does not verify is refused`, async () => {
    const alice = await devices.device('alice', 'alice-sig');
    const bob = await devices.device('bob', 'bob-sig');
    const good = takeBundle(bob);
    const flip = (bytes: Uint8Array) => {
      const copy = bytes.slice();
      copy[10]! ^= 0x01;
      return copy;
    };
    const badSigned = {
      ...good,
      signedPreKey: { ...good.signedPreKey, signature: flip(good.signedPreKey.signature) },
    };
    await assert.rejects(alice.protocol.startSession(badSigned), code('BAD_BUNDLE'));
    const badKyber = {
      ...good,
      lastResortKey: { ...good.lastResortKey, signature: flip(good.lastResortKey.signature) },
    };
    await assert.rejects(alice.protocol.startSession(badKyber), code('BAD_BUNDLE'));
    const swappedKey = {
      ...good,
      signedPreKey: { ...good.signedPreKey, publicKey: flip(good.signedPreKey.publicKey) },
    };
    await assert.rejects(alice.protocol.startSession(swappedKey), code('BAD_BUNDLE'));
    const otherIdentity = {
      ...good,
      identityKey: (await devices.device('eve', 'eve-sig')).upload.identityKey,
    };
    await assert.rejects(alice.protocol.startSession(otherIdentity), code('BAD_BUNDLE'));
    assert.equal(await alice.protocol.hasSession('bob-sig'), false);
    await alice.protocol.startSession(good);
    assert.equal(await alice.protocol.hasSession('bob-sig'), true);
  });

  test(`${name}: three devices talk pairwise, each pair with its own session`, async () => {
    const all = [
      await devices.device('ann', 'ann-1'),
      await devices.device('ben', 'ben-1'),
      await devices.device('cat', 'cat-1'),
    ];
    for (const from of all) {
      for (const to of all) {
        if (from === to || (await from.protocol.hasSession(to.deviceId))) continue;
        await from.protocol.startSession(takeBundle(to));
      }
    }
    for (let round = 0; round < 2; round++) {
      for (const from of all) {
        for (const to of all) {
          if (from === to) continue;
          const message = `${from.deviceId} to ${to.deviceId} #${round}`;
          const ciphertext = await from.protocol.encrypt(to.deviceId, text(message));
          assert.equal(read(await to.protocol.decrypt(from.deviceId, ciphertext)), message);
        }
      }
    }
    // A message for one device cannot be read by another.
    const forBen = await all[0]!.protocol.encrypt('ben-1', text('for ben only'));
    await assert.rejects(all[2]!.protocol.decrypt('ann-1', forBen), code('DECRYPT_FAILED'));
  });

  test(`${name}: malformed input is refused with a code: no session, bad bytes, bad ids, bad counts`, async () => {
    const alice = await devices.device('alice', 'alice-bad');
    await assert.rejects(alice.protocol.encrypt('nobody', text('x')), code('NO_SESSION'));
    await assert.rejects(alice.protocol.decrypt('nobody', new Uint8Array([2, 1, 2, 3])), code('BAD_MESSAGE'));
    await assert.rejects(alice.protocol.decrypt('nobody', new Uint8Array([9, 1, 2, 3])), code('BAD_MESSAGE'));
    await assert.rejects(alice.protocol.decrypt('nobody', new Uint8Array([3])), code('BAD_MESSAGE'));
    await assert.rejects(alice.protocol.hasSession(''), code('INVALID_ARGUMENT'));
    await assert.rejects(alice.protocol.hasSession('x'.repeat(65)), code('INVALID_ARGUMENT'));
    await assert.rejects(alice.protocol.hasSession('tab\there'), code('INVALID_ARGUMENT'));
    await assert.rejects(alice.protocol.newOneTimePreKeys(-1), code('INVALID_ARGUMENT'));
    await assert.rejects(alice.protocol.newOneTimePreKeys(1.5), code('INVALID_ARGUMENT'));
  });

  test(`${name}: initKeys again keeps the identity and registration id; key ids keep increasing`, async () => {
    const alice = await devices.device('alice', 'alice-keys', { oneTimeCount: 3 });
    const { upload } = alice;
    assert.equal(upload.identityKey.length, 33);
    assert.equal(upload.signedPreKey.publicKey.length, 33);
    assert.equal(upload.lastResortKey.publicKey.length, 1569);
    assert.equal(upload.signedPreKey.signature.length, 64);
    assert.ok(upload.registrationId >= 1 && upload.registrationId <= 16380);
    assert.deepEqual(
      upload.oneTimePreKeys.map((k) => k.id),
      [1, 2, 3],
    );
    assert.deepEqual(await alice.protocol.identityKey(), upload.identityKey);

    const again = await alice.protocol.initKeys(2);
    assert.deepEqual(again.identityKey, upload.identityKey);
    assert.equal(again.registrationId, upload.registrationId);
    assert.ok(again.signedPreKey.id > upload.signedPreKey.id);
    assert.ok(again.lastResortKey.id > upload.lastResortKey.id);
    assert.deepEqual(
      again.oneTimePreKeys.map((k) => k.id),
      [4, 5],
    );
    const more = await alice.protocol.newOneTimePreKeys(2);
    assert.deepEqual(
      more.map((k) => k.id),
      [6, 7],
    );
    assert.deepEqual(await alice.protocol.newOneTimePreKeys(0), []);
  });

  test(`${name}: a replayed first message of a last-resort session is refused even after the session is gone`, async () => {
    const alice = await devices.device('alice', 'alice-replay');
    const bob = await devices.device('bob', 'bob-replay', { oneTimeCount: 0 });
    await alice.protocol.startSession(takeBundle(bob));
    const first = await alice.protocol.encrypt('bob-replay', text('first'));
    assert.equal(read(await bob.protocol.decrypt('alice-replay', first)), 'first');
    await devices.forgetSession(bob, 'alice-replay');
    await assert.rejects(bob.protocol.decrypt('alice-replay', first), code('DECRYPT_FAILED'));
  });

  test(`${name}: group: a sender key given to two members lets both decrypt, in any order`, async () => {
    const ann = await devices.device('ann', 'g-ann');
    const ben = await devices.device('ben', 'g-ben');
    const cat = await devices.device('cat', 'g-cat');
    await connect(ann, ben);
    await connect(ann, cat);
    await assert.rejects(ann.protocol.groupEncrypt('chat-1', text('too early')), code('NO_SENDER_KEY'));
    await distribute('chat-1', ann, ben);
    await distribute('chat-1', ann, cat);
    const first = await ann.protocol.groupEncrypt('chat-1', text('hello group'));
    const second = await ann.protocol.groupEncrypt('chat-1', text('second'));
    assert.equal(read(await ben.protocol.groupDecrypt('g-ann', first)), 'hello group');
    assert.equal(read(await ben.protocol.groupDecrypt('g-ann', second)), 'second');
    assert.equal(read(await cat.protocol.groupDecrypt('g-ann', second)), 'second');
    assert.equal(read(await cat.protocol.groupDecrypt('g-ann', first)), 'hello group');
    await assert.rejects(cat.protocol.groupDecrypt('g-ann', first), code('DUPLICATE_MESSAGE'));
    // The key is per sender: nobody else's messages can be read with it.
    await assert.rejects(cat.protocol.groupDecrypt('g-ben', first), code('NO_SENDER_KEY'));
    // Distributing again hands out the same key, so earlier holders are not disturbed.
    await distribute('chat-1', ann, ben);
    const third = await ann.protocol.groupEncrypt('chat-1', text('third'));
    assert.equal(read(await cat.protocol.groupDecrypt('g-ann', third)), 'third');
  });

  test(`${name}: group: after rotation, a removed member holding the old key cannot read new messages`, async () => {
    const ann = await devices.device('ann', 'r-ann');
    const ben = await devices.device('ben', 'r-ben');
    const cat = await devices.device('cat', 'r-cat');
    await connect(ann, ben);
    await connect(ann, cat);
    await distribute('chat-2', ann, ben);
    await distribute('chat-2', ann, cat);
    const before = await ann.protocol.groupEncrypt('chat-2', text('before removal'));
    assert.equal(read(await cat.protocol.groupDecrypt('r-ann', before)), 'before removal');

    await ann.protocol.rotateSenderKey('chat-2');
    await distribute('chat-2', ann, ben);
    const afterRemoval = await ann.protocol.groupEncrypt('chat-2', text('cat was removed'));
    assert.equal(read(await ben.protocol.groupDecrypt('r-ann', afterRemoval)), 'cat was removed');
    await assert.rejects(cat.protocol.groupDecrypt('r-ann', afterRemoval), code('NO_SENDER_KEY'));
    assert.equal(read(await ben.protocol.groupDecrypt('r-ann', before)), 'before removal');
  });

  test(`${name}: group: a non-group ciphertext or a garbled distribution message is refused`, async () => {
    const ann = await devices.device('ann', 'x-ann');
    const ben = await devices.device('ben', 'x-ben');
    await connect(ann, ben);
    const pairwise = await ann.protocol.encrypt('x-ben', text('pairwise'));
    await assert.rejects(ben.protocol.groupDecrypt('x-ann', pairwise), code('BAD_MESSAGE'));
    await assert.rejects(
      ben.protocol.processSenderKeyDistribution('x-ann', text('garbage')),
      code('BAD_MESSAGE'),
    );
  });

  test(`${name}: persistence: after closing and reopening both stores, the sessions and sender keys continue`, async () => {
    let ann = await devices.device('ann', 'p-ann');
    let ben = await devices.device('ben', 'p-ben');
    await connect(ann, ben);
    await distribute('chat-3', ann, ben);
    const pending = await ann.protocol.encrypt('p-ben', text('sent before the restart'));

    ann = await devices.reopen(ann);
    ben = await devices.reopen(ben);
    assert.deepEqual(await ann.protocol.identityKey(), ann.upload.identityKey);
    assert.equal(await ann.protocol.hasSession('p-ben'), true);
    assert.equal(read(await ben.protocol.decrypt('p-ann', pending)), 'sent before the restart');
    const reply = await ben.protocol.encrypt('p-ann', text('after the restart'));
    assert.equal(read(await ann.protocol.decrypt('p-ben', reply)), 'after the restart');
    const group = await ann.protocol.groupEncrypt('chat-3', text('group after restart'));
    assert.equal(read(await ben.protocol.groupDecrypt('p-ann', group)), 'group after restart');
    const more = await ann.protocol.newOneTimePreKeys(1);
    assert.equal(more[0]!.id, ann.upload.oneTimePreKeys.length + 1);
    await ann.store.close();
    await ben.store.close();
  });

  test(`${name}: identity change: a re-registered device is accepted and reported through onIdentityChange`, async () => {
    const changes: { deviceId: string; oldKey: Uint8Array; newKey: Uint8Array }[] = [];
    const ann = await devices.device('ann', 'i-ann', {
      onIdentityChange: (deviceId, oldKey, newKey) => {
        changes.push({ deviceId, oldKey, newKey });
      },
    });
    const ben = await devices.device('ben', 'i-ben');
    await connect(ann, ben);
    assert.deepEqual(await ann.protocol.remoteIdentity('i-ben'), ben.upload.identityKey);
    assert.equal(await ann.protocol.remoteIdentity('i-nobody'), undefined);
    assert.equal(changes.length, 0);

    // Ben reinstalls: same device id, new keys. Ann learns it from his new bundle.
    const ben2 = await devices.device('ben', 'i-ben');
    await ann.protocol.startSession(takeBundle(ben2));
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.deviceId, 'i-ben');
    assert.deepEqual(changes[0]!.oldKey, ben.upload.identityKey);
    assert.deepEqual(changes[0]!.newKey, ben2.upload.identityKey);
    assert.deepEqual(await ann.protocol.remoteIdentity('i-ben'), ben2.upload.identityKey);
    const hello = await ann.protocol.encrypt('i-ben', text('welcome back'));
    assert.equal(read(await ben2.protocol.decrypt('i-ann', hello)), 'welcome back');

    // Ben reinstalls again and writes first: Ann learns it from his first message.
    const ben3 = await devices.device('ben', 'i-ben');
    await ben3.protocol.startSession(takeBundle(ann));
    const first = await ben3.protocol.encrypt('i-ann', text('new phone'));
    assert.equal(read(await ann.protocol.decrypt('i-ben', first)), 'new phone');
    assert.equal(changes.length, 2);
    assert.deepEqual(changes[1]!.newKey, ben3.upload.identityKey);
  });

  test(`${name}: identity change: a throwing listener does not lose the decrypted message`, async (t) => {
    const logged = t.mock.method(console, 'error', () => {});
    const ann = await devices.device('ann', 'l-ann', {
      onIdentityChange: () => {
        throw new Error('listener bug');
      },
    });
    const ben = await devices.device('ben', 'l-ben');
    await connect(ann, ben);
    const ben2 = await devices.device('ben', 'l-ben');
    await ben2.protocol.startSession(takeBundle(ann));
    const first = await ben2.protocol.encrypt('l-ann', text('still delivered'));
    assert.equal(read(await ann.protocol.decrypt('l-ben', first)), 'still delivered');
    assert.equal(logged.mock.callCount(), 1);
  });

  test(`${name}: after a rotation, a session started from the bundle fetched before it still decrypts`, async () => {
    const { device: bob, clock } = await clocked('bob', 'rot-bob');
    const alice = await devices.device('alice', 'rot-alice');
    const carol = await devices.device('carol', 'rot-carol');
    const oldBundle = takeBundle(bob, false);
    const made = clock.t;

    clock.advance(8 * DAY);
    const keys = await rotate(bob);
    assert.ok(keys.signedPreKey.id > oldBundle.signedPreKey.id);
    assert.ok(keys.lastResortKey.id > oldBundle.lastResortKey.id);
    assert.deepEqual(await bob.protocol.currentSignedKeys(), {
      signedPreKeyId: keys.signedPreKey.id,
      lastResortKeyId: keys.lastResortKey.id,
      createdAt: clock.t,
      oldestRetiredAt: clock.t,
    });
    assert.ok(clock.t > made);

    // Within the grace period the old keys are kept: a late first message to them decrypts.
    clock.advance(GRACE - 1);
    assert.deepEqual(await bob.protocol.pruneRetiredKeys(GRACE), {
      signedPreKeyIds: [],
      lastResortKeyIds: [],
      usedKyberRecords: 0,
    });
    const late = await firstMessage(alice, bob, oldBundle, 'sent to the old bundle');
    assert.equal(read(await bob.protocol.decrypt('rot-alice', late)), 'sent to the old bundle');
    const fresh = await firstMessage(carol, bob, takeBundle(bob), 'sent to the new bundle');
    assert.equal(read(await bob.protocol.decrypt('rot-carol', fresh)), 'sent to the new bundle');
  });

  test(`${name}: after pruning, a first message to a pruned signed prekey fails with UNKNOWN_PREKEY; sessions and new keys work`, async () => {
    const { device: bob, clock } = await clocked('bob', 'prune-bob');
    const alice = await devices.device('alice', 'prune-alice');
    const carol = await devices.device('carol', 'prune-carol');
    const dave = await devices.device('dave', 'prune-dave');
    const oldForAlice = takeBundle(bob, false);
    // Carol's session starts before the rotation and bob reads it; bob never replies, so her
    // later messages still name the old keys (libsignal matches them to the session).
    const carolFirst = await firstMessage(carol, bob, takeBundle(bob, false), 'carol 1');
    assert.equal(read(await bob.protocol.decrypt('prune-carol', carolFirst)), 'carol 1');

    const keys = await rotate(bob);
    clock.advance(GRACE);
    const pruned = await bob.protocol.pruneRetiredKeys(GRACE);
    assert.deepEqual(pruned.signedPreKeyIds, [oldForAlice.signedPreKey.id]);
    assert.deepEqual(pruned.lastResortKeyIds, [oldForAlice.lastResortKey.id]);
    assert.equal((await bob.protocol.currentSignedKeys())?.oldestRetiredAt, undefined);

    const toPruned = await firstMessage(alice, bob, oldForAlice, 'too late');
    await assert.rejects(bob.protocol.decrypt('prune-alice', toPruned), code('UNKNOWN_PREKEY'));

    const carolSecond = await carol.protocol.encrypt('prune-bob', text('carol 2'));
    assert.equal(read(await bob.protocol.decrypt('prune-carol', carolSecond)), 'carol 2');
    const toNew = await firstMessage(dave, bob, takeBundle(bob), 'on the new keys');
    assert.equal(read(await bob.protocol.decrypt('prune-dave', toNew)), 'on the new keys');
    assert.equal((await bob.protocol.currentSignedKeys())?.signedPreKeyId, keys.signedPreKey.id);
  });

  test(`${name}: pruning deletes the used-Kyber records of the keys it deletes and keeps those of kept keys`, async () => {
    const { device: bob, clock } = await clocked('bob', 'used-bob', 0);
    const alice = await devices.device('alice', 'used-alice');
    const carol = await devices.device('carol', 'used-carol');
    const first = await firstMessage(alice, bob);
    await bob.protocol.decrypt('used-alice', first);
    const old = bob.upload;
    const keys = await rotate(bob);
    const second = await firstMessage(carol, bob);
    await bob.protocol.decrypt('used-carol', second);
    assert.equal((await bob.protocol.pruneRetiredKeys(GRACE)).usedKyberRecords, 0, 'both keys are kept');

    clock.advance(GRACE);
    const pruned = await bob.protocol.pruneRetiredKeys(GRACE);
    assert.deepEqual(pruned.lastResortKeyIds, [old.lastResortKey.id]);
    assert.equal(pruned.usedKyberRecords, 1, "the record of alice's start, on the pruned keys");
    assert.ok(keys.lastResortKey.id > old.lastResortKey.id);
    // The kept record still refuses a replay of carol's first message.
    await devices.forgetSession(bob, 'used-carol');
    await assert.rejects(bob.protocol.decrypt('used-carol', second), code('DECRYPT_FAILED'));
  });

  test(`${name}: an unconfirmed rotation returns the same keys until committed, decrypts, and is never pruned`, async () => {
    const { device: bob, clock } = await clocked('bob', 'pend-bob');
    const alice = await devices.device('alice', 'pend-alice');
    const before = await bob.protocol.currentSignedKeys();
    clock.advance(DAY);
    const pendingMade = clock.t;
    const pending = await bob.protocol.rotateSignedKeys();
    assert.deepEqual(await bob.protocol.rotateSignedKeys(), pending, 'a retried upload sends the same keys');
    assert.deepEqual(await bob.protocol.currentSignedKeys(), before, 'not current before the server accepts');

    // The server may have stored them even though the answer was lost: messages to them work.
    clock.advance(GRACE);
    await bob.protocol.pruneRetiredKeys(0);
    const early = await firstMessage(alice, bob, { ...takeBundle(bob), ...pending }, 'to the pending keys');
    assert.equal(read(await bob.protocol.decrypt('pend-alice', early)), 'to the pending keys');

    const wrong = { ...pending, signedPreKey: { ...pending.signedPreKey, id: pending.signedPreKey.id + 7 } };
    await assert.rejects(bob.protocol.commitSignedKeys(wrong), code('INVALID_ARGUMENT'));
    await bob.protocol.commitSignedKeys(pending);
    await bob.protocol.commitSignedKeys(pending);
    const status = await bob.protocol.currentSignedKeys();
    assert.equal(status?.signedPreKeyId, pending.signedPreKey.id);
    assert.equal(status?.createdAt, pendingMade, 'made when rotateSignedKeys made it');
    assert.equal(status?.oldestRetiredAt, clock.t);
    const next = await bob.protocol.rotateSignedKeys();
    assert.ok(next.signedPreKey.id > pending.signedPreKey.id, 'a new rotation after the commit');
  });

  test(`${name}: key ids keep increasing across rotations, pruning and restarts; the key age survives a restart`, async () => {
    const { device, clock } = await clocked('bob', 'ids-bob');
    let bob = device;
    const seen = [bob.upload.signedPreKey.id];
    const seenKyber = [bob.upload.lastResortKey.id];
    for (let i = 0; i < 2; i++) {
      clock.advance(DAY);
      const keys = await rotate(bob);
      seen.push(keys.signedPreKey.id);
      seenKyber.push(keys.lastResortKey.id);
    }
    const pruned = await bob.protocol.pruneRetiredKeys(0);
    assert.deepEqual(pruned.signedPreKeyIds, seen.slice(0, 2));
    assert.deepEqual(pruned.lastResortKeyIds, seenKyber.slice(0, 2));
    const status = await bob.protocol.currentSignedKeys();

    bob = await devices.reopen(bob);
    assert.deepEqual(await bob.protocol.currentSignedKeys(), status);
    const again = await bob.protocol.initKeys(1);
    assert.ok(again.signedPreKey.id > Math.max(...seen));
    assert.ok(again.lastResortKey.id > Math.max(...seenKyber));
    assert.equal(again.oneTimePreKeys[0]?.id, bob.upload.oneTimePreKeys.length + 1);
    const rotated = await bob.protocol.rotateSignedKeys();
    assert.ok(rotated.signedPreKey.id > again.signedPreKey.id);
    assert.ok(seen.every((id) => id < rotated.signedPreKey.id));
    await bob.store.close();
  });

  test(`${name}: rotation before initKeys and a negative pruning age are refused`, async () => {
    const { store, protocol } = await devices.bare('fresh');
    assert.equal(await protocol.currentSignedKeys(), undefined);
    await assert.rejects(protocol.rotateSignedKeys(), code('INVALID_ARGUMENT'));
    await assert.rejects(protocol.pruneRetiredKeys(-1), code('INVALID_ARGUMENT'));
    await assert.rejects(protocol.pruneRetiredKeys(Number.NaN), code('INVALID_ARGUMENT'));
    await protocol.initKeys(0);
    assert.ok(await protocol.currentSignedKeys());
    await store.close();
  });

  test(`${name}: a session never answered for 30 days stops encrypting until a new one starts`, async () => {
    const { device: alice, clock } = await clocked('alice', 'stale-alice');
    const bob = await devices.device('bob', 'stale-bob');
    const early = await firstMessage(alice, bob, takeBundle(bob), 'early');
    clock.advance(29 * DAY);
    assert.equal(await alice.protocol.hasSession('stale-bob'), true);
    clock.advance(2 * DAY);
    assert.equal(await alice.protocol.hasSession('stale-bob'), false);
    await assert.rejects(alice.protocol.encrypt('stale-bob', text('too late')), code('NO_SESSION'));
    // The first message sent in time still reads; a new bundle starts a usable session.
    assert.equal(read(await bob.protocol.decrypt('stale-alice', early)), 'early');
    const fresh = await firstMessage(alice, bob, takeBundle(bob), 'fresh');
    assert.equal(read(await bob.protocol.decrypt('stale-alice', fresh)), 'fresh');
    const reply = await bob.protocol.encrypt('stale-alice', text('answered'));
    assert.equal(read(await alice.protocol.decrypt('stale-bob', reply)), 'answered');
    clock.advance(40 * DAY);
    assert.equal(await alice.protocol.hasSession('stale-bob'), true, 'an answered session does not expire');
  });

  test(`${name}: identityAgree gives both devices the same secret and refuses what is not a public key`, async () => {
    const alice = await devices.device('alice', 'agree-alice');
    const bob = await devices.device('bob', 'agree-bob');
    const fromAlice = await alice.protocol.identityAgree(bob.upload.identityKey);
    assert.equal(fromAlice.length, 32);
    assert.deepEqual(fromAlice, await bob.protocol.identityAgree(alice.upload.identityKey));
    const carol = await devices.device('carol', 'agree-carol');
    assert.notDeepEqual(await alice.protocol.identityAgree(carol.upload.identityKey), fromAlice);
    const key = bob.upload.identityKey;
    const lowOrder = new Uint8Array(33);
    lowOrder[0] = 0x05;
    for (const bad of [
      key.slice(1),
      Uint8Array.of(0x08, ...key.slice(1)),
      new Uint8Array(34).fill(5),
      lowOrder,
    ]) {
      await assert.rejects(alice.protocol.identityAgree(bad), code('INVALID_ARGUMENT'));
    }
    await assert.rejects(
      alice.protocol.identityAgree('key' as unknown as Uint8Array),
      code('INVALID_ARGUMENT'),
    );
  });
}
