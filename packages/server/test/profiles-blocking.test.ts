/**
 * Profiles and blocking together, through a real node on SQLite and (with
 * PARLEY_TEST_POSTGRES_URL) PostgreSQL, with SDK devices holding real libsignal sessions:
 * once Alice blocks Bob, the server tells Bob's devices nothing about Alice's profile and
 * hands them none of it, while Carol still gets every version; the device that blocked
 * rotates the profile key once, so even the ciphertext (read straight from the store) of
 * Alice's next version does not open with the key Bob holds; Alice's other device follows the
 * block list and never gives Bob the new key, even when it writes the profile and messages a
 * group Bob is in; after an unblock Bob gets the key again and reads the current and the next
 * version.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { ChatKind, type Credentials, createLinkCode, linkDevice, openProfile } from '@parley/sdk';
import type { Store } from '../src/ports/store.js';
import type { UserId } from '../src/ports/types.js';
import { startNode, type TestNode } from './harness.js';
import { freshPostgresStore } from './postgres-fixture.js';
import { newUser } from './sdk-helpers.js';
import { type SecureDevice, SecureDevices } from './secure-devices.js';

const pgUrl = process.env.PARLEY_TEST_POSTGRES_URL;

const backends: Array<{
  name: string;
  skip?: string;
  open: () => Promise<{ store?: Store; done?: () => Promise<void> }>;
}> = [
  { name: 'SQLite', open: async () => ({}) },
  {
    name: 'PostgreSQL',
    ...(pgUrl === undefined && { skip: 'PARLEY_TEST_POSTGRES_URL is not set' }),
    open: () => freshPostgresStore(pgUrl!),
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The `profileChanged` notices a device's client heard, as `userId@version`. */
function notices(d: SecureDevice): string[] {
  const seen: string[] = [];
  d.client.on('profileChanged', (n) => void seen.push(`${n.userId}@${n.version}`));
  return seen;
}

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a !== undefined && b !== undefined && Buffer.from(a).equals(Buffer.from(b));

for (const backend of backends) {
  describe(`profiles and blocking (${backend.name})`, { ...(backend.skip && { skip: backend.skip }) }, () => {
    let t: TestNode;
    let done: (() => Promise<void>) | undefined;
    const devices = new SecureDevices();

    before(async () => {
      if (backend.skip) return;
      const opened = await backend.open();
      done = opened.done;
      t = await startNode({}, opened.store ? { store: opened.store } : {});
    });
    afterEach(() => devices.closeAll());
    after(async () => {
      await devices.dispose();
      await t?.stop();
      await done?.();
    });

    const linked = async (primary: Credentials, name: string) => {
      const { code } = await createLinkCode(primary);
      return linkDevice(t.url, { code, deviceName: name });
    };
    const nameOn = async (d: SecureDevice, userId: string) => (await d.secure.profile(userId))?.name;
    const expectName = (d: SecureDevice, userId: string, name: string, what: string) =>
      eventually(async () => (await nameOn(d, userId)) === name, `${what} to read ${name}`);

    it('a blocked user gets no profile of the blocker and cannot read its versions after the rotation; an unblock shares the key again', async () => {
      const tag = randomBytes(4).toString('hex');
      const [n1, n2, n3, n4] = ['before', 'laptop', 'after', 'again'].map((s) => `Alice ${s} ${tag}`) as [
        string,
        string,
        string,
        string,
      ];
      const aliceCreds = await newUser(t);
      const bobCreds = await newUser(t);
      const carolCreds = await newUser(t);
      const aliceLaptopCreds = await linked(aliceCreds, 'laptop');
      const bobTabletCreds = await linked(bobCreds, 'tablet');
      const alice = await devices.device(aliceCreds);
      const aliceLaptop = await devices.device(aliceLaptopCreds);
      const bob = await devices.device(bobCreds);
      const bobTablet = await devices.device(bobTabletCreds);
      const carol = await devices.device(carolCreds);
      const A = aliceCreds.userId;
      const B = bobCreds.userId;
      const [bobHeard, bobTabletHeard, carolHeard] = [bob, bobTablet, carol].map(notices) as [
        string[],
        string[],
        string[],
      ];
      const direct = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [B] });
      const group = await alice.client.createChat({
        kind: ChatKind.GROUP,
        memberUserIds: [B, carolCreds.userId],
        name: 'garden',
      });

      await carol.secure.setProfile({ name: `Carol ${tag}` });
      await alice.secure.setProfile({ name: n1 });
      for (const [d, what] of [
        [bob, 'bob'],
        [bobTablet, 'bob tablet'],
        [carol, 'carol'],
        [aliceLaptop, 'alice laptop'],
      ] as const)
        await expectName(d, A, n1, what);
      const oldKey = await bob.kv.get('profile-keys', A);
      assert.ok(oldKey, 'bob holds the first key');
      const carolOldKey = await carol.kv.get('profile-keys', A);

      // The block, on Alice's phone: the key is rotated there, once.
      await alice.client.block(B);
      await alice.secure.blocksSettled();
      const afterBlock = await t.node.store.profilesGet(A as UserId, [A as UserId]);
      assert.equal(afterBlock[0]?.version, 2, 'the blocking device stored the profile again under a new key');
      const newKey = await alice.kv.get('profile-own', 'key');
      assert.ok(newKey && !sameBytes(newKey, oldKey), 'the key is new');
      assert.deepEqual(await alice.secure.profileWithheldFrom(), [B]);
      // Carol gets the new key and version; the laptop gets the key and learns the block.
      await eventually(
        async () => sameBytes(await carol.kv.get('profile-keys', A), newKey),
        'carol to get the new key',
      );
      assert.ok(!sameBytes(carolOldKey, newKey));
      await eventually(
        async () => sameBytes(await aliceLaptop.kv.get('profile-own', 'key'), newKey),
        "alice's laptop to get the new key",
      );
      await eventually(
        async () => (await aliceLaptop.secure.profileWithheldFrom()).includes(B),
        "alice's laptop to learn the block",
      );
      assert.deepEqual(await aliceLaptop.secure.profileWithheldFrom(), [B]);

      // Alice's laptop writes the next version and messages the group Bob is in.
      const v3 = await aliceLaptop.secure.setProfile({ name: n2 });
      assert.equal(v3.version, 3, 'the laptop did not rotate again: one block, one new version');
      await aliceLaptop.secure.send(group.id, { text: `from the laptop ${tag}` });
      await expectName(carol, A, n2, 'carol');
      await eventually(
        async () => bob.received.some((m) => m.content.text === `from the laptop ${tag}`),
        'bob to get the group message (groups are not affected by a block)',
      );
      await eventually(
        async () => bobTablet.received.some((m) => m.content.text === `from the laptop ${tag}`),
        "bob's tablet to get the group message",
      );
      await sleep(200); // room for a notice that must not come
      assert.ok(carolHeard.includes(`${A}@2`) && carolHeard.includes(`${A}@3`), 'carol heard both versions');
      for (const [heard, what] of [
        [bobHeard, 'bob'],
        [bobTabletHeard, 'bob tablet'],
      ] as const)
        assert.deepEqual(
          heard.filter((n) => n.startsWith(`${A}@`)),
          [`${A}@1`],
          `${what} heard of no version after the block`,
        );
      for (const d of [bob, bobTablet]) {
        assert.deepEqual(await d.client.getProfiles([A]), [], 'getProfiles leaves the blocker out');
        const changes = await d.client.profileChanges(0);
        assert.equal(
          changes.profiles.some((p) => p.userId === A),
          false,
          'profileChanges leaves the blocker out',
        );
        assert.ok(
          changes.profiles.some((p) => p.userId === carolCreds.userId),
          'and still lists the profiles the caller may read',
        );
        assert.ok(sameBytes(await d.kv.get('profile-keys', A), oldKey), 'bob never got the new key');
        assert.equal(await nameOn(d, A), n1, 'bob keeps the version he read before the block');
      }
      const [forCarol] = await carol.client.getProfiles([A]);
      assert.equal(forCarol?.version, 3, 'carol, not blocked, still fetches the profile');
      assert.ok(
        (await carol.client.profileChanges(0)).profiles.some((p) => p.userId === A && p.version === 3),
      );

      // Even with the ciphertext (read from the store directly), Bob's key does not open it.
      const [sealed] = await t.node.store.profilesGet(A as UserId, [A as UserId]);
      assert.equal(sealed?.version, 3);
      await assert.rejects(openProfile(oldKey, A, sealed!.version, sealed!.ciphertext), {
        code: 'INVALID_ARGUMENT',
      });
      assert.equal((await openProfile(newKey, A, sealed!.version, sealed!.ciphertext)).name, n2);

      // Unblocking on the laptop: it sends the key to Bob at once; he reads the current version.
      await aliceLaptop.client.unblock(B);
      await aliceLaptop.secure.blocksSettled();
      await expectName(bob, A, n2, 'bob after the unblock');
      await expectName(bobTablet, A, n2, 'bob tablet after the unblock');
      await eventually(
        async () => (await alice.secure.profileWithheldFrom()).length === 0,
        "alice's phone to follow the unblock",
      );
      assert.deepEqual(await aliceLaptop.secure.profileWithheldFrom(), []);
      assert.equal((await bob.client.getProfiles([A]))[0]?.version, 3, 'the profile is visible to bob again');

      // The next version from the phone reaches Bob as a notice and decrypts.
      await alice.secure.setProfile({ name: n3 });
      await expectName(bob, A, n3, 'bob');
      await expectName(bobTablet, A, n3, 'bob tablet');
      assert.ok(bobHeard.includes(`${A}@4`), 'bob heard the new version');

      // Blocked again from the laptop (it rotates this time), and unblocked from the phone.
      await aliceLaptop.client.block(B);
      await aliceLaptop.secure.blocksSettled();
      const rotatedAgain = await aliceLaptop.kv.get('profile-own', 'key');
      assert.ok(!sameBytes(rotatedAgain, newKey), 'the laptop, which made this block, rotated');
      await eventually(
        async () => sameBytes(await alice.kv.get('profile-own', 'key'), rotatedAgain),
        "alice's phone to get the key",
      );
      await eventually(
        async () => (await alice.secure.profileWithheldFrom()).includes(B),
        "alice's phone to learn the block",
      );
      assert.equal((await t.node.store.profilesGet(A as UserId, [A as UserId]))[0]?.version, 5);
      assert.ok(!sameBytes(await bob.kv.get('profile-keys', A), rotatedAgain));
      await alice.client.unblock(B);
      await alice.secure.blocksSettled();
      await alice.secure.setProfile({ name: n4 });
      await expectName(bob, A, n4, 'bob after the second unblock');
      assert.ok(sameBytes(await bob.kv.get('profile-keys', A), rotatedAgain));

      for (const d of [alice, aliceLaptop, bob, bobTablet, carol]) {
        assert.deepEqual(d.failures, [], 'nothing failed to decrypt');
        assert.deepEqual(d.errors, [], 'no SDK errors');
      }
      assert.equal(direct.kind, ChatKind.DIRECT);
    });
  });
}
