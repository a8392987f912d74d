/**
 * End-to-end encryption through a real node: SDK devices with real libsignal sessions and
 * SQLite key stores exchange 1:1, group and media messages; the server's files and logs are
 * then searched for the plaintext.
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
  type SecureMessagingOptions,
} from '@parley/sdk';
import pino from 'pino';
import type { DeviceId } from '../src/ports/types.js';
import { filesUnder } from './db-scan.js';
import { startNode, type TestNode } from './harness.js';
import { newUser, until } from './sdk-helpers.js';
import { type SecureDevice as Device, SecureDevices } from './secure-devices.js';

const devices = new SecureDevices();
const open = devices.open;
const device = (creds: Credentials, options: SecureMessagingOptions = {}) => devices.device(creds, options);
const close = (d: Device) => devices.close(d);

async function linked(t: TestNode, primary: Credentials, name: string): Promise<Credentials> {
  const { code } = await createLinkCode(primary);
  return linkDevice(t.url, { code, deviceName: name });
}

const texts = (d: Device, chatId: string) =>
  d.received.filter((m) => m.chatId === chatId && m.content.text !== undefined).map((m) => m.content.text);

async function expectTexts(d: Device, chatId: string, want: string[], what: string): Promise<void> {
  await until(() => texts(d, chatId).length >= want.length, what, 10_000);
  assert.deepEqual(texts(d, chatId), want, what);
}

describe('end-to-end encryption through a real node', () => {
  let t: TestNode;
  let logFile: string;
  before(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-node-'));
    logFile = join(dataDir, 'node.log');
    const log = pino({ level: 'debug' }, pino.destination({ dest: logFile, sync: true }));
    t = await startNode({ dataDir, oneTimePreKeysLowWater: 5 }, { log });
  });
  afterEach(() => devices.closeAll());
  after(async () => {
    await devices.dispose();
    await t.stop();
    rmSync(t.dataDir, { recursive: true, force: true });
  });

  it('two users with two devices each exchange 1:1 messages and media; nothing in clear on the server', async () => {
    const aliceCreds = await newUser(t);
    const bobCreds = await newUser(t);
    const alice = await device(aliceCreds);
    const aliceLaptop = await device(await linked(t, aliceCreds, 'laptop'));
    const bob = await device(bobCreds);
    const bobTablet = await device(await linked(t, bobCreds, 'tablet'));

    const chat = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bobCreds.userId] });
    const secret1 = `the eagle lands at dawn ${randomBytes(6).toString('hex')}`;
    const secret2 = `bring the blue folder ${randomBytes(6).toString('hex')}`;
    await alice.secure.send(chat.id, { text: secret1 });
    await bob.secure.send(chat.id, { text: secret2 });
    await expectTexts(bob, chat.id, [secret1], 'bob phone reads alice');
    await expectTexts(
      bobTablet,
      chat.id,
      [secret1, secret2],
      'bob tablet reads both (its own user sent one)',
    );
    await expectTexts(
      aliceLaptop,
      chat.id,
      [secret1, secret2],
      'alice laptop gets a copy of what alice sent',
    );
    await expectTexts(alice, chat.id, [secret2], 'alice phone reads bob');

    // Media: encrypted before upload, key inside the message.
    const marker = `PLAINTEXT-MEDIA-MARKER-${randomBytes(8).toString('hex')}`;
    const file = Buffer.concat([Buffer.from(marker), randomBytes(200_000), Buffer.from(marker)]);
    const sentFile = await alice.secure.sendFile(chat.id, file, {
      mime: 'application/octet-stream',
      name: 'plan.bin',
    });
    assert.deepEqual(
      Buffer.from(await alice.secure.download(sentFile.attachment)),
      file,
      'the sender can open it too',
    );
    await until(() => bobTablet.received.some((m) => m.content.attachment), 'attachment arrives', 10_000);
    const pointer = bobTablet.received.find((m) => m.content.attachment)!.content.attachment!;
    assert.equal(pointer.name, 'plan.bin');
    assert.equal(pointer.size, file.length);
    assert.deepEqual(Buffer.from(await bobTablet.secure.download(pointer)), file);

    // A "photo" that is not one is refused by the receiver's SDK before any app renders it.
    const fake = await alice.secure.sendFile(chat.id, new TextEncoder().encode('<svg onload=alert(1)>'), {
      mime: 'image/png',
      name: 'cat.png',
    });
    await assert.rejects(bob.secure.download(fake.attachment), { code: 'MEDIA_TYPE_MISMATCH' });
    for (const d of [alice, aliceLaptop, bob, bobTablet]) assert.deepEqual(d.failures, []);

    // The server's data directory (database, WAL, media) and its log hold none of it.
    await t.node.stop();
    const files = filesUnder(t.dataDir);
    assert.ok(files.some((f) => f.endsWith('parley.db')));
    assert.ok(
      files.some((f) => f.includes(`${join('media', '')}`)),
      'media stored',
    );
    assert.ok(readFileSync(logFile).length > 0, 'the node logged');
    // The search does read what the server stores: user ids are there in clear.
    assert.ok(
      files.some((f) => readFileSync(f).includes(Buffer.from(bobCreds.userId))),
      'the scan sees stored ids',
    );
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const needle of [secret1, secret2, marker, 'plan.bin']) {
        assert.equal(bytes.includes(Buffer.from(needle)), false, `${needle} found in ${f}`);
      }
    }
    t = await startNode(
      { dataDir: t.dataDir, oneTimePreKeysLowWater: 5 },
      { log: pino({ level: 'silent' }) },
    );
  });

  it('groups use sender keys; a removed member cannot read later messages', async () => {
    const [aliceCreds, bobCreds, carolCreds] = [await newUser(t), await newUser(t), await newUser(t)];
    const alice = await device(aliceCreds);
    const aliceLaptop = await device(await linked(t, aliceCreds, 'laptop'));
    const bob = await device(bobCreds);
    const bobTablet = await device(await linked(t, bobCreds, 'tablet'));
    const carol = await device(carolCreds);
    const raw: Array<{ seq: number; payload: Uint8Array }> = [];
    bob.client.on('message', (m) => {
      raw.push({ seq: m.seq, payload: m.payload });
    });
    const group = await alice.client.createChat({
      kind: ChatKind.GROUP,
      name: 'plans',
      memberUserIds: [bobCreds.userId, carolCreds.userId],
    });
    await alice.secure.send(group.id, { text: 'g1' });
    await alice.secure.send(group.id, { text: 'g2' });
    await carol.secure.send(group.id, { text: 'g3 from carol' });
    for (const d of [bob, bobTablet])
      await expectTexts(d, group.id, ['g1', 'g2', 'g3 from carol'], 'bob reads the group');
    await expectTexts(carol, group.id, ['g1', 'g2'], 'carol reads alice');
    await expectTexts(alice, group.id, ['g3 from carol'], 'alice reads carol');
    await expectTexts(aliceLaptop, group.id, ['g1', 'g2', 'g3 from carol'], "alice's other device reads all");
    await until(() => raw.length >= 3, 'raw payloads');
    // The first message carried alice's sender key pairwise; the second was encrypted once for all.
    assert.deepEqual(
      raw.slice(0, 3).map((r) => r.payload[0]),
      [1, 2, 1],
    );

    await alice.client.removeMember(group.id, carolCreds.userId);
    const afterRemoval = raw.length;
    await alice.secure.send(group.id, { text: 'g4 without carol' });
    await alice.secure.send(group.id, { text: 'g5 without carol' });
    const all = ['g1', 'g2', 'g3 from carol', 'g4 without carol', 'g5 without carol'];
    for (const d of [bob, bobTablet, aliceLaptop]) await expectTexts(d, group.id, all, 'after the removal');
    await until(() => raw.length >= afterRemoval + 2, 'raw payloads after removal');
    // Carol still holds alice's old sender key; the new messages were sent under a new one.
    const fresh = raw.slice(afterRemoval).find((r) => r.payload[0] === 2);
    assert.ok(fresh, 'a sender-key message after the removal');
    await assert.rejects(carol.secure.protocol.groupDecrypt(aliceCreds.deviceId, fresh.payload.subarray(1)));
    assert.deepEqual(texts(carol, group.id), ['g1', 'g2'], 'carol got nothing new');
  });

  it('a device linked later receives new messages; contacts see the security code change', async () => {
    const aliceCreds = await newUser(t);
    const bobCreds = await newUser(t);
    const alice = await device(aliceCreds);
    const bob = await device(bobCreds);
    const chat = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bobCreds.userId] });
    await alice.secure.send(chat.id, { text: 'before' });
    await expectTexts(bob, chat.id, ['before'], 'bob reads');
    const before = await alice.secure.safetyNumber(bobCreds.userId);
    assert.equal(
      (await bob.secure.safetyNumber(aliceCreds.userId)).digits,
      before.digits,
      'same on both sides',
    );
    assert.match(before.digits, /^(\d{5} ){11}\d{5}$/);

    const bobDesktop = await device(await linked(t, bobCreds, 'desktop'));
    // Alice's device list is stale: the send meets DEVICE_MISMATCH or a new list, and heals.
    await alice.secure.send(chat.id, { text: 'after' });
    await expectTexts(bobDesktop, chat.id, ['after'], 'the new device reads new messages');
    await expectTexts(bob, chat.id, ['before', 'after'], 'bob phone too');
    assert.deepEqual(alice.codeChanges, [bobCreds.userId]);
    assert.notEqual((await alice.secure.safetyNumber(bobCreds.userId)).digits, before.digits);
  });

  it('edits and forwards are encrypted for each chat', async () => {
    const [aliceCreds, bobCreds, carolCreds] = [await newUser(t), await newUser(t), await newUser(t)];
    const alice = await device(aliceCreds);
    const bob = await device(bobCreds);
    const carol = await device(carolCreds);
    const withBob = await alice.client.createChat({
      kind: ChatKind.DIRECT,
      memberUserIds: [bobCreds.userId],
    });
    const withCarol = await alice.client.createChat({
      kind: ChatKind.DIRECT,
      memberUserIds: [carolCreds.userId],
    });
    const sent = await alice.secure.send(withBob.id, { text: 'draft' });
    await alice.secure.edit(withBob.id, sent.seq, { text: 'final' });
    await until(() => bob.received.length >= 2, 'bob gets the edit', 10_000);
    assert.deepEqual(
      bob.received.map((m) => [m.meta.type, m.meta.refSeq, m.content.text]),
      [
        ['message', 0, 'draft'],
        ['edit', sent.seq, 'final'],
      ],
    );
    await alice.secure.forward([withCarol.id], { text: 'final' }, 1);
    await expectTexts(carol, withCarol.id, ['final'], 'carol gets the forward');
    assert.equal(carol.received[0]?.meta.forwardCount, 1);
    // A forwarded attachment is declared in the chat it goes to: carol, who is not in the
    // chat it was first sent to, may fetch it there.
    const bytes = randomBytes(5000);
    const file = await alice.secure.sendFile(withBob.id, bytes, { mime: 'application/octet-stream' });
    await alice.secure.forward([withCarol.id], { attachment: file.attachment }, 2);
    await until(() => carol.received.some((m) => m.content.attachment), 'carol gets the file', 10_000);
    const forwarded = carol.received.find((m) => m.content.attachment)!.content.attachment!;
    assert.deepEqual(Buffer.from(await carol.secure.download(forwarded)), bytes);
  });

  it('heals a device-list mismatch the server reports', async () => {
    const aliceCreds = await newUser(t);
    const bobCreds = await newUser(t);
    const alice = await device(aliceCreds);
    const bob = await device(bobCreds);
    const chat = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bobCreds.userId] });
    await alice.secure.send(chat.id, { text: 'one' });
    await expectTexts(bob, chat.id, ['one'], 'bob reads');
    // Bob's tablet appears between alice's device lookup and her send.
    const realList = alice.client.listDevices.bind(alice.client);
    let tabletCreds: Credentials | undefined;
    alice.client.listDevices = async (ids) => {
      const lists = await realList(ids);
      if (!tabletCreds) {
        tabletCreds = await linked(t, bobCreds, 'tablet');
        await device(tabletCreds);
      }
      return lists;
    };
    const mismatches: string[] = [];
    const realSend = alice.client.send.bind(alice.client);
    alice.client.send = async (...args) => {
      try {
        return await realSend(...args);
      } catch (err) {
        mismatches.push((err as { code: string }).code);
        throw err;
      }
    };
    await alice.secure.send(chat.id, { text: 'two' });
    assert.deepEqual(mismatches, ['DEVICE_MISMATCH']);
    const tablet = open.find((d) => d.creds.deviceId === tabletCreds!.deviceId)!;
    await expectTexts(tablet, chat.id, ['two'], 'the tablet reads the retried send');
  });

  it('falls back to the last-resort key without one-time prekeys, replenishes them, and resumes sessions after a restart', async () => {
    const aliceCreds = await newUser(t);
    const bobCreds = await newUser(t);
    const carolCreds = await newUser(t);
    let alice = await device(aliceCreds);
    const bob = await device(bobCreds, { oneTimePreKeys: 0 });
    const carol = await device(carolCreds, { oneTimePreKeys: 6 });
    const chat = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bobCreds.userId] });
    // Bob published no one-time prekeys: alice's session starts from the last-resort Kyber key.
    await alice.secure.send(chat.id, { text: 'via last resort' });
    await expectTexts(bob, chat.id, ['via last resort'], 'bob reads');

    // Carol has 6; fetches by two users leave 4, under the low-water mark of 5: she is told and
    // uploads more. (A user gets a given device's one-time prekey once a day, so two users.)
    const carolDevice = carolCreds.deviceId as DeviceId;
    assert.equal(await t.node.store.keysOneTimeCount(carolDevice), 6);
    for (const asker of [alice, bob]) {
      const [bundle] = await asker.client.preKeyBundles(carolCreds.userId);
      assert.ok(bundle?.oneTimePreKey, 'a one-time prekey was handed out');
    }
    const deadline = Date.now() + 10_000;
    while ((await t.node.store.keysOneTimeCount(carolDevice)) <= 4) {
      assert.ok(Date.now() < deadline, 'carol replenished her one-time prekeys');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await t.node.store.keysOneTimeCount(carolDevice), 100, 'back to the target');
    assert.deepEqual(carol.failures, []);
    // Alice had one of carol's one-time prekeys already: her session starts without one.
    const withCarol = await alice.client.createChat({
      kind: ChatKind.DIRECT,
      memberUserIds: [carolCreds.userId],
    });
    await alice.secure.send(withCarol.id, { text: 'no one-time key for me' });
    await expectTexts(carol, withCarol.id, ['no one-time key for me'], 'carol reads');
    assert.equal(await t.node.store.keysOneTimeCount(carolDevice), 100, 'none was taken');

    // Alice restarts: her SQLite key store keeps the session; bob reads her next message.
    await close(alice);
    alice = await device(aliceCreds);
    const fetched: string[] = [];
    const realBundles = alice.client.preKeyBundles.bind(alice.client);
    alice.client.preKeyBundles = async (u) => {
      fetched.push(u);
      return realBundles(u);
    };
    await alice.secure.send(chat.id, { text: 'after restart' });
    await expectTexts(bob, chat.id, ['via last resort', 'after restart'], 'bob reads after alice restarts');
    assert.deepEqual(fetched, [], 'no new session was needed');
  });
});
