/**
 * A browser device and Node devices in the same chats through a real node: the browser one
 * is built from `@parley/sdk/browser` (the page's WebSocket transport, BrowserE2eProtocol,
 * IndexedDB key and local stores), the others from `@parley/sdk` with libsignal. In Node the
 * page's globals come from the registry: `ws` as WebSocket and fake-indexeddb as IndexedDB.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ChatKind, type Credentials, type SecureMessage } from '@parley/sdk';
import {
  ParleyClient as BrowserClient,
  BrowserE2eProtocol,
  IndexedDbKeyValueStore,
  IndexedDbLocalStore,
  SecureMessaging,
} from '@parley/sdk/browser';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import WebSocket from 'ws';
import { useTestNode } from './testing/node.js';
import { type SecureDevice, secureDevice } from './testing/secure.js';

const idb = { indexedDB, IDBKeyRange };
const page = globalThis as { WebSocket?: unknown };
const hadWebSocket = page.WebSocket !== undefined;
before(() => {
  page.WebSocket ??= WebSocket;
});

interface Device {
  creds: Credentials;
  secure: SecureMessaging;
  received: SecureMessage[];
  failures: unknown[];
  close(): Promise<void>;
}

const open: Device[] = [];
after(async () => {
  for (const d of [...open]) await d.close();
  if (!hadWebSocket) delete page.WebSocket;
});
// After the hook above, so the devices are closed before the node stops.
const t = useTestNode('parley-browser-interop-');

function track(creds: Credentials, secure: SecureMessaging, close: () => Promise<void>): Device {
  const d: Device = { creds, secure, received: [], failures: [], close };
  secure.on('message', (m) => void d.received.push(m));
  secure.on('decryptFailed', (f) => void d.failures.push(f));
  open.push(d);
  return d;
}

/** The browser device: everything it keeps is in IndexedDB databases named after its device. */
async function browserDevice(creds: Credentials): Promise<Device> {
  const keys = await IndexedDbKeyValueStore.open(`parley-keys-${creds.deviceId}`, idb);
  const store = await IndexedDbLocalStore.open(`parley-local-${creds.deviceId}`, idb);
  const client = new BrowserClient({ credentials: creds, store, backoff: { initialMs: 5, maxMs: 50 } });
  const protocol = new BrowserE2eProtocol({ store: keys, deviceId: creds.deviceId });
  const secure = new SecureMessaging(client, protocol, keys);
  await secure.start();
  const d = track(creds, secure, async () => {
    open.splice(open.indexOf(d), 1);
    await secure.close();
    await keys.close();
    store.close();
  });
  return d;
}

async function nodeDevice(creds: Credentials): Promise<Device & { device: SecureDevice }> {
  const device = secureDevice(creds);
  await device.secure.start();
  const d = track(creds, device.secure, async () => {
    open.splice(open.indexOf(d), 1);
    await device.secure.close();
  });
  return Object.assign(d, { device });
}

/** Random bytes as a plain Uint8Array (what a page has; a Buffer would not compare equal). */
function random(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 65_536) globalThis.crypto.getRandomValues(bytes.subarray(i, i + 65_536));
  return bytes;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), `timed out waiting for ${what}`);
}

const texts = (d: Device, chatId: string) =>
  d.received.filter((m) => m.chatId === chatId && m.content.text !== undefined).map((m) => m.content.text);

async function expectTexts(d: Device, chatId: string, want: string[], what: string): Promise<void> {
  await until(() => texts(d, chatId).length >= want.length, what);
  assert.deepEqual(texts(d, chatId), want, what);
}

async function expectFile(d: Device, chatId: string, name: string, bytes: Uint8Array): Promise<void> {
  const find = () => d.received.find((m) => m.chatId === chatId && m.content.attachment?.name === name);
  await until(() => find() !== undefined, `${name} arrives`);
  assert.deepEqual(await d.secure.download(find()!.content.attachment!), bytes, `${name} opens`);
}

test('a browser device and libsignal devices talk 1:1 and in a group, with files, a removal and a browser restart', async () => {
  const webCreds = await t.register('+14155557701', 'browser');
  let web = await browserDevice(webCreds);
  const alice = await nodeDevice(await t.register('+14155557702'));
  const carl = await nodeDevice(await t.register('+14155557703'));
  const webIdentity = await web.secure.protocol.identityKey();

  // 1:1, both ways, a few rounds so the ratchets step; the Node side starts the session.
  const direct = await alice.secure.client.createChat({
    kind: ChatKind.DIRECT,
    memberUserIds: [webCreds.userId],
  });
  const toWeb: string[] = [];
  const toAlice: string[] = [];
  for (let round = 0; round < 3; round++) {
    toWeb.push(`alice ${round}`);
    await alice.secure.send(direct.id, { text: `alice ${round}` });
    await expectTexts(web, direct.id, toWeb, `browser reads alice ${round}`);
    toAlice.push(`web ${round}`);
    await web.secure.send(direct.id, { text: `web ${round}` });
    await expectTexts(alice, direct.id, toAlice, `alice reads the browser ${round}`);
  }
  const photo = random(70_000);
  await web.secure.sendFile(direct.id, photo, { name: 'photo.bin', mime: 'application/octet-stream' });
  await expectFile(alice, direct.id, 'photo.bin', photo);
  const reply = random(5_000);
  await alice.secure.sendFile(direct.id, reply, { name: 'reply.bin' });
  await expectFile(web, direct.id, 'reply.bin', reply);

  // A group with a third (libsignal) member; the browser writes first, so it starts its sessions.
  const group = await alice.secure.client.createChat({
    kind: ChatKind.GROUP,
    name: 'mixed',
    memberUserIds: [webCreds.userId, carl.creds.userId],
  });
  const raw: Uint8Array[] = [];
  alice.device.client.on('message', (m) => {
    if (m.chatId === group.id && m.senderDeviceId === webCreds.deviceId) raw.push(m.payload);
  });
  await web.secure.send(group.id, { text: 'g1 from web' });
  await web.secure.send(group.id, { text: 'g2 from web' });
  await alice.secure.send(group.id, { text: 'g3 from alice' });
  await carl.secure.send(group.id, { text: 'g4 from carl' });
  await expectTexts(web, group.id, ['g3 from alice', 'g4 from carl'], 'the browser reads the group');
  await expectTexts(alice, group.id, ['g1 from web', 'g2 from web', 'g4 from carl'], 'alice reads the group');
  await expectTexts(carl, group.id, ['g1 from web', 'g2 from web', 'g3 from alice'], 'carl reads the group');
  const plan = random(20_000);
  await web.secure.sendFile(group.id, plan, { name: 'plan.bin' });
  await expectFile(carl, group.id, 'plan.bin', plan);
  await expectFile(alice, group.id, 'plan.bin', plan);
  await until(() => raw.length >= 3, 'raw group payloads');
  // The first message carried the browser's sender key pairwise (tag 1), the second used it (tag 2).
  assert.deepEqual(
    raw.slice(0, 2).map((p) => p[0]),
    [1, 2],
  );

  // Carl leaves: the browser's next group message is under a new sender key he never got.
  await alice.secure.client.removeMember(group.id, carl.creds.userId);
  const afterRemoval = raw.length;
  await web.secure.send(group.id, { text: 'g5 without carl' });
  await web.secure.send(group.id, { text: 'g6 without carl' });
  await alice.secure.send(group.id, { text: 'g7 from alice without carl' });
  await expectTexts(
    alice,
    group.id,
    ['g1 from web', 'g2 from web', 'g4 from carl', 'g5 without carl', 'g6 without carl'],
    'alice after the removal',
  );
  await expectTexts(
    web,
    group.id,
    ['g3 from alice', 'g4 from carl', 'g7 from alice without carl'],
    'the browser after the removal',
  );
  await until(() => raw.length >= afterRemoval + 2, 'raw payloads after the removal');
  const rotated = raw.slice(afterRemoval).find((p) => p[0] === 2);
  assert.ok(rotated, 'a sender-key message after the removal');
  await assert.rejects(carl.secure.protocol.groupDecrypt(webCreds.deviceId, rotated.subarray(1)), {
    code: 'NO_SENDER_KEY',
  });
  assert.deepEqual(
    texts(carl, group.id),
    ['g1 from web', 'g2 from web', 'g3 from alice'],
    'carl got nothing new',
  );

  // The browser restarts from what it stored: same identity, sessions and sender keys, no old message again.
  await web.close();
  web = await browserDevice(webCreds);
  assert.deepEqual(await web.secure.protocol.identityKey(), webIdentity);
  await alice.secure.send(direct.id, { text: 'alice after the restart' });
  await alice.secure.send(group.id, { text: 'g8 after the restart' });
  await expectTexts(web, direct.id, ['alice after the restart'], 'the restarted browser reads 1:1');
  await expectTexts(web, group.id, ['g8 after the restart'], 'the restarted browser reads the group');
  await web.secure.send(direct.id, { text: 'web after the restart' });
  await web.secure.send(group.id, { text: 'g9 from the restarted web' });
  await expectTexts(
    alice,
    direct.id,
    [...toAlice, 'web after the restart'],
    'alice reads the restarted browser',
  );
  await until(
    () => texts(alice, group.id).includes('g9 from the restarted web'),
    'alice reads its group message',
  );
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(web.received.length, 2, 'nothing from before the restart came again');
  for (const d of [web, alice, carl]) assert.deepEqual(d.failures, [], 'no message failed to decrypt');
});
