/**
 * End-to-end encrypted profiles through a real node, on SQLite and (with
 * PARLEY_TEST_POSTGRES_URL) PostgreSQL: SDK devices with real libsignal sessions set, share,
 * fetch and rotate profiles; a name change reaches every device of a contact (one of them
 * offline at the time); a contact the key is withheld from cannot read later versions; a
 * stranger sees nothing. The server's database, files and log are then searched for the
 * profile plaintext.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  ChatKind,
  type Credentials,
  createLinkCode,
  linkDevice,
  openProfile,
  type UserProfile,
} from '@parley/sdk';
import pino from 'pino';
import { PostgresStore } from '../src/adapters/store/postgres/postgres-store.js';
import { dropSchema, freshSchema } from '../src/adapters/store/postgres/testing.js';
import type { UserId } from '../src/ports/types.js';
import { filesUnder, type Hit, scanPostgres, scanSqlite } from './db-scan.js';
import { startNode, type TestNode } from './harness.js';
import { newUser, until } from './sdk-helpers.js';
import { type SecureDevice, SecureDevices } from './secure-devices.js';

const url = process.env.PARLEY_TEST_POSTGRES_URL;

interface Backend {
  name: string;
  skip?: string;
  start(
    log: pino.Logger,
  ): Promise<{ t: TestNode; scan: (needles: Uint8Array[]) => Promise<Hit[]>; done(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    start: async (log) => {
      const t = await startNode({}, { log });
      return {
        t,
        scan: async (needles) => scanSqlite(join(t.dataDir, 'parley.db'), needles),
        done: () => t.stop(),
      };
    },
  },
  {
    name: 'PostgreSQL',
    ...(url === undefined && { skip: 'PARLEY_TEST_POSTGRES_URL is not set' }),
    start: async (log) => {
      const schema = freshSchema();
      const store = await PostgresStore.open(url!, { schema, poolSize: 8 });
      const t = await startNode({}, { store, log });
      return {
        t,
        scan: (needles) => scanPostgres(url!, schema, needles),
        done: async () => {
          await t.stop();
          await dropSchema(url!, schema);
        },
      };
    },
  },
];

/** Records every profileChanged event of a device. */
function profilesSeen(d: SecureDevice): UserProfile[] {
  const seen: UserProfile[] = [];
  d.secure.on('profileChanged', (p) => void seen.push(p));
  return seen;
}

async function nameOf(d: SecureDevice, userId: string): Promise<string | undefined> {
  return (await d.secure.profile(userId))?.name;
}

async function expectName(d: SecureDevice, userId: string, name: string, what: string): Promise<void> {
  let last: string | undefined;
  for (let i = 0; i < 250; i++) {
    last = await nameOf(d, userId);
    if (last === name) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${what}: expected ${name}, have ${last}`);
}

for (const backend of backends) {
  describe(`end-to-end encrypted profiles (${backend.name})`, {
    ...(backend.skip && { skip: backend.skip }),
  }, () => {
    let t: TestNode;
    let scan: (needles: Uint8Array[]) => Promise<Hit[]>;
    let done: () => Promise<void>;
    let logDir: string;
    let logFile: string;
    const devices = new SecureDevices();

    before(async () => {
      if (backend.skip) return;
      logDir = mkdtempSync(join(tmpdir(), 'parley-profiles-log-'));
      logFile = join(logDir, 'node.log');
      const log = pino({ level: 'trace' }, pino.destination({ dest: logFile, sync: true }));
      ({ t, scan, done } = await backend.start(log));
    });
    afterEach(() => devices.closeAll());
    after(async () => {
      await devices.dispose();
      await done?.();
      if (logDir) rmSync(logDir, { recursive: true, force: true });
    });

    const linked = async (primary: Credentials, name: string) => {
      const { code } = await createLinkCode(primary);
      return linkDevice(t.url, { code, deviceName: name });
    };

    it('a profile set, changed and rotated reaches contacts on all their devices; the server holds no plaintext', async () => {
      const tag = randomBytes(5).toString('hex');
      const names = [`Alice Liddell ${tag}`, `Alice Pleasance ${tag}`, `Alice after rotation ${tag}`];
      const about = `down the rabbit hole ${tag}`;
      const avatarMarker = `AVATAR-PIXELS-${tag}`;

      const aliceCreds = await newUser(t);
      const bobCreds = await newUser(t);
      const carolCreds = await newUser(t);
      const daveCreds = await newUser(t);
      const bobTabletCreds = await linked(bobCreds, 'tablet');
      const alice = await devices.device(aliceCreds);
      const bob = await devices.device(bobCreds);
      let bobTablet = await devices.device(bobTabletCreds);
      const carol = await devices.device(carolCreds);
      const dave = await devices.device(daveCreds);
      const bobSeen = profilesSeen(bob);
      const carolSeen = profilesSeen(carol);
      const direct = await alice.client.createChat({
        kind: ChatKind.DIRECT,
        memberUserIds: [bobCreds.userId],
      });
      const group = await alice.client.createChat({
        kind: ChatKind.GROUP,
        memberUserIds: [bobCreds.userId, carolCreds.userId],
        name: 'tea party',
      });

      // The first profile makes the key; control messages take it to both chats' members.
      // PNG's signature first: the receiving SDK checks that an image is what it says.
      const avatar = await alice.secure.uploadAvatar(
        Buffer.concat([
          Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
          Buffer.from(`${avatarMarker}${'x'.repeat(500)}`),
        ]),
        'image/png',
      );
      const v1 = await alice.secure.setProfile({ name: names[0], about, avatar });
      assert.equal(v1.version, 1);
      await expectName(bob, aliceCreds.userId, names[0]!, 'bob phone');
      await expectName(bobTablet, aliceCreds.userId, names[0]!, 'bob tablet');
      await expectName(carol, aliceCreds.userId, names[0]!, 'carol (a group member only)');
      const onBob = await bob.secure.profile(aliceCreds.userId);
      assert.equal(onBob?.about, about);
      assert.equal(onBob?.avatar?.mediaId, avatar.mediaId);
      const avatarBytes = new TextDecoder().decode(await bob.secure.download(onBob!.avatar!));
      assert.ok(avatarBytes.includes(avatarMarker), 'the avatar decrypts on a contact device');
      assert.ok(
        bobSeen.some((p) => p.userId === aliceCreds.userId && p.name === names[0]),
        'bob got the event',
      );
      assert.deepEqual(
        [...bob.received, ...bobTablet.received, ...carol.received].filter(
          (m) => m.senderUserId === aliceCreds.userId,
        ),
        [],
        'the key travels in control messages that are not shown as messages',
      );

      // A name change while bob's tablet is away: the phone hears at once, the tablet on reconnect.
      await devices.close(bobTablet);
      await alice.secure.setProfile({ name: names[1] });
      await expectName(bob, aliceCreds.userId, names[1]!, 'bob phone after the change');
      await expectName(carol, aliceCreds.userId, names[1]!, 'carol after the change');
      assert.equal((await bob.secure.profile(aliceCreds.userId))?.about, about, 'fields left out are kept');
      bobTablet = await devices.device(bobTabletCreds);
      await expectName(bobTablet, aliceCreds.userId, names[1]!, 'bob tablet caught up after reconnecting');

      // A stranger gets nothing, however asked.
      assert.deepEqual(await dave.client.getProfiles([aliceCreds.userId]), []);
      assert.equal(
        (await dave.client.profileChanges(0)).profiles.some((p) => p.userId === aliceCreds.userId),
        false,
      );

      // Rotation withholding the key from carol: bob reads the new version, carol cannot.
      const carolKey = await carol.kv.get('profile-keys', aliceCreds.userId);
      assert.ok(carolKey, 'carol holds the first key');
      const rotated = await alice.secure.rotateProfileKey({ exclude: [carolCreds.userId] });
      assert.equal(rotated?.version, 3);
      await alice.secure.setProfile({ name: names[2] });
      await expectName(bob, aliceCreds.userId, names[2]!, 'bob reads the version under the new key');
      await expectName(bobTablet, aliceCreds.userId, names[2]!, 'bob tablet too');
      // A group message after the rotation carries the new key to bob only.
      await alice.secure.send(group.id, { text: `hello ${tag}` });
      await until(
        () => carol.received.some((m) => m.content.text === `hello ${tag}`),
        'carol gets the message',
        10_000,
      );
      assert.deepEqual(
        await carol.kv.get('profile-keys', aliceCreds.userId),
        carolKey,
        'carol never got the new key',
      );
      const [sealed] = await carol.client.getProfiles([aliceCreds.userId]);
      assert.equal(sealed?.version, 4, 'carol may still fetch the ciphertext (they share a chat)');
      await assert.rejects(openProfile(carolKey, aliceCreds.userId, sealed!.version, sealed!.ciphertext), {
        code: 'INVALID_ARGUMENT',
      });
      assert.equal(
        (await carol.secure.profile(aliceCreds.userId, { refresh: true }))?.name,
        names[1],
        'carol keeps the last version she could read',
      );
      assert.equal(
        carolSeen.some((p) => p.name === names[2]),
        false,
      );
      assert.deepEqual(await alice.secure.profileWithheldFrom(), [carolCreds.userId]);

      // Sharing again (an unblock): the next message to carol carries the current key.
      await alice.secure.shareProfileWith([carolCreds.userId]);
      assert.deepEqual(await alice.secure.profileWithheldFrom(), []);
      await alice.secure.send(group.id, { text: `welcome back ${tag}` });
      await expectName(carol, aliceCreds.userId, names[2]!, 'carol reads the latest version again');
      for (const d of [alice, bob, bobTablet, carol])
        assert.deepEqual(d.failures, [], 'nothing failed to decrypt');
      for (const d of [alice, bob, bobTablet, carol]) assert.deepEqual(d.errors, [], 'no SDK errors');
      assert.equal(direct.kind, ChatKind.DIRECT);

      // The server holds ciphertext and versions only: no name, about text or avatar bytes in
      // its database, files or log.
      const held = await t.node.store.profilesGet(aliceCreds.userId as UserId, [aliceCreds.userId as UserId]);
      assert.equal(held[0]?.version, 4, 'the profile is stored (as ciphertext)');
      assert.ok(held[0]!.ciphertext.length % 1024 === 1 + 12 + 16, 'padded to a multiple of 1 KiB');
      const needles = [...names, about, avatarMarker, 'rabbit'].map((s) => new TextEncoder().encode(s));
      assert.deepEqual(await scan(needles), [], 'no table holds profile plaintext');
      const idHits = await scan([new TextEncoder().encode(aliceCreds.userId)]);
      assert.ok(
        idHits.some((h) => h.table === 'profiles'),
        'the scan reads the profiles table',
      );
      const files = filesUnder(t.dataDir);
      files.push(logFile);
      assert.ok(readFileSync(logFile).length > 0, 'the node logged');
      for (const f of files) {
        const bytes = readFileSync(f);
        for (const n of needles)
          assert.equal(bytes.includes(Buffer.from(n)), false, `profile plaintext in ${f}`);
      }
    });
  });
}
