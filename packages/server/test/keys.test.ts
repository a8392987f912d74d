import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Frame, PreKeyBundlesResult } from '@parley/protocol';
import { ManualClock } from '../src/ports/clock.js';
import type { DeviceId } from '../src/ports/types.js';
import { linkDevice, RawClient, register, startNode, type TestNode } from './harness.js';
import { makeKeys } from './key-fixtures.js';

const errorCode = (f: Frame) => (f.body.case === 'error' ? f.body.value.code : `no error: ${f.body.case}`);

describe('key directory', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode({ oneTimePreKeysLowWater: 3, oneTimePreKeysTarget: 10, preKeyBundlesPerMinute: 20 });
  });
  after(() => t.stop());

  it('uploads keys, hands out one bundle per device and each one-time prekey once, then the last-resort key', async () => {
    const alice = await register(t);
    const bob = await register(t);
    const bobTablet = await linkDevice(t, bob);
    const [a, b, bt] = await Promise.all([alice, bob, bobTablet].map((c) => RawClient.connect(t, c)));
    const bk = makeKeys(4);
    const btk = makeKeys(1, 100);
    assert.equal(
      (await b!.call<{ oneTimeCount: number }>({ case: 'uploadKeys', value: bk.upload })).oneTimeCount,
      4,
    );
    assert.equal(
      (await bt!.call<{ oneTimeCount: number }>({ case: 'uploadKeys', value: btk.upload })).oneTimeCount,
      1,
    );

    const first = await a!.call<PreKeyBundlesResult>({
      case: 'getPreKeyBundles',
      value: { userId: bob.userId },
    });
    assert.deepEqual(
      first.bundles.map((x) => [x.deviceId, x.oneTimePreKey?.id]),
      [
        [bob.deviceId, 1],
        [bobTablet.deviceId, 100],
      ],
    );
    assert.deepEqual(Buffer.from(first.bundles[0]!.identityKey), Buffer.from(bk.upload.identityKey));
    assert.equal(first.bundles[0]!.registrationId, bk.upload.registrationId);
    // The tablet has none left: it is told to upload more (target 10). (It may also have been told
    // on connect, with 1 left, if its upload landed before the connect-time check.)
    const isLow = (n: number) => (f: Frame) =>
      f.body.case === 'keysLow' && (f.body.value as { oneTimeCount: number }).oneTimeCount === n;
    const low = await bt!.waitFor(isLow(0));
    const lowBody = low.body.value as { oneTimeCount: number; target: number };
    assert.deepEqual([lowBody.oneTimeCount, lowBody.target], [0, 10]);

    // Alice already had a one-time prekey of each: a second fetch is somebody else's (see below).
    const c = await RawClient.connect(t, await register(t));
    const second = await c.call<PreKeyBundlesResult>({
      case: 'getPreKeyBundles',
      value: { userId: bob.userId },
    });
    assert.equal(second.bundles[0]!.oneTimePreKey?.id, 2);
    assert.equal(second.bundles[1]!.oneTimePreKey, undefined, 'no one-time key left: last-resort key only');
    assert.deepEqual(
      Buffer.from(second.bundles[1]!.lastResortKey!.publicKey),
      Buffer.from(btk.upload.lastResortKey.publicKey),
    );
    // Bob's phone dropped below 3 one-time keys with the second fetch (2 left).
    await b!.waitFor(isLow(2));
    assert.equal(
      b!.frames.filter((f) => f.body.case === 'keysLow').length,
      1,
      'the phone uploaded 4 keys, so the connect-time check never reported it low',
    );

    // Replenishing adds keys under the same identity (the identity may be omitted).
    const refill = await bt!.call<{ oneTimeCount: number }>({
      case: 'uploadKeys',
      value: { oneTimePreKeys: makeKeys(5, 200).upload.oneTimePreKeys },
    });
    assert.equal(refill.oneTimeCount, 5);
    const ids = await a!.call<{ keys: Array<{ deviceId: string; identityKey: Uint8Array }> }>({
      case: 'getIdentityKeys',
      value: { userIds: [bob.userId] },
    });
    assert.deepEqual(ids.keys.map((k) => k.deviceId).sort(), [bob.deviceId, bobTablet.deviceId].sort());
    await Promise.all([a, b, bt, c].map((x) => x!.close()));
  });

  it('on connect, devices low on one-time prekeys are told, checked together; devices without keys are not', async () => {
    const low = await register(t);
    const lowLaptop = await linkDevice(t, low);
    const enough = await register(t);
    const none = await register(t);
    const first = await Promise.all([low, lowLaptop, enough].map((c) => RawClient.connect(t, c)));
    await first[0]!.call({ case: 'uploadKeys', value: makeKeys(2).upload });
    await first[1]!.call({ case: 'uploadKeys', value: makeKeys(0, 300).upload });
    await first[2]!.call({ case: 'uploadKeys', value: makeKeys(5, 500).upload });
    await Promise.all(first.map((c) => c.close()));
    await new Promise((r) => setTimeout(r, 300)); // the first connects' own check has run
    let reads = 0;
    const counts = t.node.store.keysOneTimeCounts.bind(t.node.store);
    t.node.store.keysOneTimeCounts = (ids) => {
      reads++;
      return counts(ids);
    };
    try {
      const again = await Promise.all([low, lowLaptop, enough, none].map((c) => RawClient.connect(t, c)));
      const lowOf = (c: RawClient) => c.waitFor((f) => f.body.case === 'keysLow');
      const [phoneLow, laptopLow] = await Promise.all([lowOf(again[0]!), lowOf(again[1]!)]);
      assert.deepEqual(
        [phoneLow, laptopLow].map((f) => (f.body.value as { oneTimeCount: number }).oneTimeCount),
        [2, 0],
      );
      await again[2]!.call({ case: 'ping', value: {} });
      await new Promise((r) => setTimeout(r, 300));
      for (const c of again.slice(2)) {
        assert.equal(
          c.frames.filter((f) => f.body.case === 'keysLow').length,
          0,
          'enough keys, or none uploaded',
        );
      }
      assert.ok(reads >= 1 && reads < again.length, `four connects checked in ${reads} store reads`);
      await Promise.all(again.map((c) => c.close()));
    } finally {
      t.node.store.keysOneTimeCounts = counts;
    }
  });

  it('rejects bad signatures, a changed identity, malformed keys and unknown users', async () => {
    const alice = await register(t);
    const a = await RawClient.connect(t, alice);
    const k = makeKeys(2);
    const other = makeKeys(0);
    // Signed with another identity.
    const forged = {
      ...k.upload,
      signedPreKey: {
        ...k.upload.signedPreKey,
        signature: other.identity.privateKey.sign(k.upload.signedPreKey.publicKey),
      },
    };
    assert.equal(errorCode(await a.request({ case: 'uploadKeys', value: forged })), 'BAD_SIGNATURE');
    const forgedKyber = {
      ...k.upload,
      lastResortKey: { ...k.upload.lastResortKey, signature: new Uint8Array(64) },
    };
    assert.equal(errorCode(await a.request({ case: 'uploadKeys', value: forgedKyber })), 'BAD_SIGNATURE');
    assert.equal(
      errorCode(
        await a.request({ case: 'uploadKeys', value: { ...k.upload, identityKey: new Uint8Array(12) } }),
      ),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      errorCode(await a.request({ case: 'uploadKeys', value: { oneTimePreKeys: k.upload.oneTimePreKeys } })),
      'INVALID_ARGUMENT',
      'a first upload without the identity',
    );
    assert.equal(
      (await a!.call<{ oneTimeCount: number }>({ case: 'uploadKeys', value: k.upload })).oneTimeCount,
      2,
    );
    assert.equal(
      errorCode(await a.request({ case: 'uploadKeys', value: { ...other.upload, oneTimePreKeys: [] } })),
      'IDENTITY_KEY_MISMATCH',
    );
    assert.equal(
      errorCode(await a.request({ case: 'getPreKeyBundles', value: { userId: 'nobody' } })),
      'USER_NOT_FOUND',
    );
    assert.equal(
      errorCode(
        await a.request({
          case: 'uploadKeys',
          value: { oneTimePreKeys: makeKeys(101).upload.oneTimePreKeys },
        }),
      ),
      'INVALID_ARGUMENT',
    );
    await a.close();
  });

  it('rate limits bundle fetches', async () => {
    const alice = await register(t);
    const bob = await register(t);
    const a = await RawClient.connect(t, alice);
    let limited: Frame | undefined;
    for (let i = 0; i < 25 && !limited; i++) {
      const f = await a.request({ case: 'getPreKeyBundles', value: { userId: bob.userId } });
      if (f.body.case === 'error') limited = f;
    }
    assert.equal(limited && errorCode(limited), 'RATE_LIMITED');
    assert.ok((limited!.body.value as { retryAfterMs: number }).retryAfterMs > 0);
    await a.close();
  });
});

describe('prekey exhaustion', () => {
  const BUDGET = 5;
  const clock = new ManualClock(1_800_000_000_000);
  let t: TestNode;
  before(async () => {
    t = await startNode(
      { oneTimePreKeysPerDevicePerHour: BUDGET, codeRequestsPerHour: 1000, authAttemptsPerMinute: 1000 },
      { clock },
    );
  });
  after(() => t.stop());

  /** A user whose phone and tablet each uploaded `n` one-time prekeys. */
  async function target(n: number) {
    const user = await register(t);
    const tablet = await linkDevice(t, user);
    for (const [creds, firstId] of [
      [user, 1],
      [tablet, 1000],
    ] as const) {
      const c = await RawClient.connect(t, creds);
      await c.call({ case: 'uploadKeys', value: makeKeys(n, firstId).upload });
      await c.close();
    }
    const left = () =>
      Promise.all([user, tablet].map((d) => t.node.store.keysOneTimeCount(d.deviceId as DeviceId)));
    return { user, left };
  }

  const fetchBundles = (c: RawClient, userId: string) =>
    c.call<PreKeyBundlesResult>({ case: 'getPreKeyBundles', value: { userId } });

  it('a stranger asking 110 times takes one one-time prekey per device; the rest are valid bundles without', async () => {
    const bob = await target(30);
    const s = await RawClient.connect(t, await register(t));
    let withOneTime = 0;
    for (let i = 0; i < 110; i++) {
      const { bundles } = await fetchBundles(s, bob.user.userId);
      assert.equal(bundles.length, 2);
      for (const b of bundles) {
        assert.ok(b.signedPreKey?.publicKey.length && b.lastResortKey?.publicKey.length);
        if (b.oneTimePreKey) withOneTime++;
      }
    }
    assert.equal(withOneTime, 2);
    assert.deepEqual(await bob.left(), [29, 29]);
    await s.close();
  });

  it('many strangers together take at most the hourly budget of each device, and each at most one a day', async () => {
    const dave = await target(30);
    const strangers = await Promise.all(
      Array.from({ length: 8 }, async () => RawClient.connect(t, await register(t))),
    );
    const rounds = async () => {
      await Promise.all(
        strangers.map(async (s) => {
          for (let i = 0; i < 15; i++) await fetchBundles(s, dave.user.userId);
        }),
      );
    };
    await rounds();
    assert.deepEqual(await dave.left(), [30 - BUDGET, 30 - BUDGET]);
    clock.advance(61 * 60_000);
    await rounds();
    // The three strangers the budget left out get theirs now; the other five had one today.
    assert.deepEqual(await dave.left(), [30 - 8, 30 - 8], 'each stranger one per device per day');
    const late = await RawClient.connect(t, await register(t));
    const { bundles } = await fetchBundles(late, dave.user.userId);
    assert.deepEqual(
      bundles.map((b) => b.oneTimePreKey !== undefined),
      [true, true],
      'the new hour\u2019s budget has room for a new requester',
    );
    await Promise.all([...strangers, late].map((c) => c.close()));
  });
});
