import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryKeyValueStore } from '../crypto/memory-store.js';
import type { KeyUpload, KeyValueStore, PreKeyBundle } from '../crypto/types.js';
import { sealPreview } from '../e2e/push-preview.js';
import { BrowserE2eProtocol } from './browser-protocol.js';
import { openStoredPushPreview } from './preview-keys.js';

const text = (s: string) => new TextEncoder().encode(s);
const base64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function bundleOf(deviceId: string, upload: KeyUpload): PreKeyBundle {
  const { identityKey, registrationId, signedPreKey, lastResortKey } = upload;
  return { userId: deviceId, deviceId, registrationId, identityKey, signedPreKey, lastResortKey };
}

/** Every value of a store, to show that opening changed none. */
async function snapshot(kv: MemoryKeyValueStore): Promise<string> {
  const spaces = (kv as unknown as { spaces: Map<string, Map<string, Uint8Array>> }).spaces;
  const out: string[] = [];
  for (const [ns, space] of [...spaces].sort())
    for (const key of await kv.keys(ns)) out.push(`${ns}/${key}=${base64(space.get(key)!)}`);
  return out.join('\n');
}

/** A sender and a browser recipient whose store knows the sender (a session both ways). */
async function pair() {
  const aliceKv = new MemoryKeyValueStore();
  const bobKv = new MemoryKeyValueStore();
  const alice = new BrowserE2eProtocol({ store: aliceKv, deviceId: 'alice-web' });
  const bob = new BrowserE2eProtocol({ store: bobKv, deviceId: 'bob-web' });
  await alice.initKeys(1);
  await alice.startSession(bundleOf('bob-web', await bob.initKeys(1)));
  await bob.decrypt('alice-web', await alice.encrypt('bob-web', text('hi')));
  const seal = async (chatId: string, body: string) =>
    base64(
      await sealPreview(alice, {
        senderDeviceId: 'alice-web',
        chatId,
        recipientIdentity: (await alice.remoteIdentity('bob-web'))!,
        text: body,
      }),
    );
  return { alice, bob, bobKv, seal };
}

test("a push preview opens from the browser device's stored keys, and nothing in the store changes", async () => {
  const { alice, bob, bobKv, seal } = await pair();
  const preview = await seal('chat-1', 'dinner at 8?');
  const before = await snapshot(bobKv);
  assert.deepEqual(await openStoredPushPreview(bobKv, { chatId: 'chat-1', preview }), {
    senderDeviceId: 'alice-web',
    text: 'dinner at 8?',
  });
  assert.equal(await snapshot(bobKv), before, 'the store is as it was');
  // The session still moves on from where it was: the next message decrypts.
  assert.equal(
    new TextDecoder().decode(await bob.decrypt('alice-web', await alice.encrypt('bob-web', text('after')))),
    'after',
  );
});

test('nothing opens in another chat, from a malformed preview, or from a store without an identity', async () => {
  const { bobKv, seal } = await pair();
  const preview = await seal('chat-1', 'secret');
  assert.equal(await openStoredPushPreview(bobKv, { chatId: 'chat-2', preview }), undefined);
  assert.equal(await openStoredPushPreview(bobKv, { chatId: 'chat-1', preview: 'not base64!' }), undefined);
  const empty = new MemoryKeyValueStore();
  assert.equal(await openStoredPushPreview(empty, { chatId: 'chat-1', preview }), undefined);
  assert.equal(await snapshot(empty), '', 'no identity was made');
  // A store that only knows the sender: still no identity of its own to open with, and none made.
  const knowsSender: KeyValueStore = new MemoryKeyValueStore();
  await knowsSender.put(
    'browser.remoteIdentity',
    'alice-web',
    (await bobKv.get('browser.remoteIdentity', 'alice-web'))!,
  );
  assert.equal(await openStoredPushPreview(knowsSender, { chatId: 'chat-1', preview }), undefined);
  assert.equal(await knowsSender.get('browser.identity', 'self'), undefined);
});
