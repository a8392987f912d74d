import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CiphertextMessageType, PreKeySignalMessage, SignalMessage } from '@signalapp/libsignal-client';
import { E2eError } from '../crypto/errors.js';
import { MemoryKeyValueStore } from '../crypto/memory-store.js';
import type { KeyUpload, PreKeyBundle } from '../crypto/types.js';
import { LibsignalProtocol } from '../node/libsignal-protocol.js';
import { BrowserE2eProtocol } from './browser-protocol.js';

const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array) => new TextDecoder().decode(b);
const code = (c: string) => (e: unknown) => e instanceof E2eError && e.code === c;

function bundleOf(deviceId: string, upload: KeyUpload, withOneTime = true): PreKeyBundle {
  const { identityKey, registrationId, signedPreKey, lastResortKey, oneTimePreKeys } = upload;
  return {
    userId: deviceId,
    deviceId,
    registrationId,
    identityKey,
    signedPreKey,
    lastResortKey,
    ...(withOneTime && oneTimePreKeys[0] && { oneTimePreKey: oneTimePreKeys[0] }),
  };
}

async function nodeDevice(deviceId: string, oneTime = 1) {
  const protocol = new LibsignalProtocol({ store: new MemoryKeyValueStore(), deviceId });
  return { protocol, upload: await protocol.initKeys(oneTime) };
}

/** Rounds of messages both ways, so both double ratchets step several times. */
async function converse(web: BrowserE2eProtocol, node: LibsignalProtocol, webId: string, nodeId: string) {
  for (let round = 0; round < 3; round++) {
    const toNode = [];
    for (let i = 0; i < 3; i++) toNode.push(await web.encrypt(nodeId, text(`web ${round}.${i}`)));
    for (const i of [2, 0, 1]) assert.equal(read(await node.decrypt(webId, toNode[i]!)), `web ${round}.${i}`);
    const toWeb = [];
    for (let i = 0; i < 3; i++) toWeb.push(await node.encrypt(webId, text(`node ${round}.${i}`)));
    for (const i of [1, 2, 0]) assert.equal(read(await web.decrypt(nodeId, toWeb[i]!)), `node ${round}.${i}`);
    await assert.rejects(web.decrypt(nodeId, toWeb[0]!), code('DUPLICATE_MESSAGE'));
  }
}

test('a browser starts a session with a Node (libsignal) device from its bundle, and both talk', async () => {
  const node = await nodeDevice('node-1');
  const web = new BrowserE2eProtocol({ store: new MemoryKeyValueStore(), deviceId: 'web' });
  await web.initKeys(1);
  await web.startSession(bundleOf('node-1', node.upload));
  const first = await web.encrypt('node-1', text('hello from the browser'));
  assert.equal(first[0], CiphertextMessageType.PreKey);
  const parsed = PreKeySignalMessage.deserialize(first.slice(1));
  assert.equal(parsed.version(), 4);
  const second = await web.encrypt('node-1', text('and again'));
  assert.equal(read(await node.protocol.decrypt('web-1', second)), 'and again');
  assert.equal(read(await node.protocol.decrypt('web-1', first)), 'hello from the browser');
  const reply = await node.protocol.encrypt('web-1', text('hello browser'));
  assert.equal(reply[0], CiphertextMessageType.Whisper);
  assert.equal(SignalMessage.deserialize(reply.slice(1)).messageVersion(), 4);
  assert.equal(read(await web.decrypt('node-1', reply)), 'hello browser');
  const after = await web.encrypt('node-1', text('now a normal message'));
  assert.equal(after[0], CiphertextMessageType.Whisper);
  assert.equal(read(await node.protocol.decrypt('web-1', after)), 'now a normal message');
  await converse(web, node.protocol, 'web-1', 'node-1');
});

test('a Node (libsignal) device starts a session with a browser from the browser bundle', async () => {
  const node = await nodeDevice('node-2');
  const web = new BrowserE2eProtocol({ store: new MemoryKeyValueStore(), deviceId: 'web' });
  const upload = await web.initKeys(2);
  await node.protocol.startSession(bundleOf('web-2', upload));
  const first = await node.protocol.encrypt('web-2', text('hello from node'));
  assert.equal(first[0], CiphertextMessageType.PreKey);
  assert.equal(read(await web.decrypt('node-2', first)), 'hello from node');
  const reply = await web.encrypt('node-2', text('hello node'));
  assert.equal(reply[0], CiphertextMessageType.Whisper);
  assert.equal(read(await node.protocol.decrypt('web-2', reply)), 'hello node');
  await converse(web, node.protocol, 'web-2', 'node-2');
  // The one-time prekey is gone: replaying the first message to a fresh state fails.
  const tampered = first.slice();
  tampered[tampered.length - 3]! ^= 1;
  await assert.rejects(web.decrypt('node-2', tampered), (e) => e instanceof E2eError);
});

test('sessions without a one-time prekey, both ways (Kyber last-resort key only)', async () => {
  const node = await nodeDevice('node-3', 0);
  const web = new BrowserE2eProtocol({ store: new MemoryKeyValueStore(), deviceId: 'web' });
  const upload = await web.initKeys(0);
  await web.startSession(bundleOf('node-3', node.upload, false));
  assert.equal(read(await node.protocol.decrypt('web-3', await web.encrypt('node-3', text('a')))), 'a');
  const other = await nodeDevice('node-4', 0);
  await other.protocol.startSession(bundleOf('web-3', upload, false));
  assert.equal(read(await web.decrypt('node-4', await other.protocol.encrypt('web-3', text('b')))), 'b');
  assert.equal(read(await other.protocol.decrypt('web-3', await web.encrypt('node-4', text('c')))), 'c');
});

test('a tampered message fails without harming the session; a long session keeps working', async () => {
  const node = await nodeDevice('node-5');
  const web = new BrowserE2eProtocol({ store: new MemoryKeyValueStore(), deviceId: 'web' });
  const upload = await web.initKeys(1);
  await node.protocol.startSession(bundleOf('web-5', upload));
  assert.equal(
    read(await web.decrypt('node-5', await node.protocol.encrypt('web-5', text('first')))),
    'first',
  );
  assert.equal(read(await node.protocol.decrypt('web-5', await web.encrypt('node-5', text('ack')))), 'ack');
  // Once answered, the Node side sends plain SignalMessages, whose every byte the MAC covers.
  const next = await node.protocol.encrypt('web-5', text('second'));
  assert.equal(next[0], CiphertextMessageType.Whisper);
  const tampered = next.slice();
  tampered[tampered.length - 20]! ^= 1;
  await assert.rejects(web.decrypt('node-5', tampered), code('DECRYPT_FAILED'));
  assert.equal(read(await web.decrypt('node-5', next)), 'second');
  // The Node side keeps offering SPQR header chunks the browser never answers; keys still agree.
  for (let i = 0; i < 50; i++) {
    assert.equal(
      read(await web.decrypt('node-5', await node.protocol.encrypt('web-5', text(`n${i}`)))),
      `n${i}`,
    );
    assert.equal(
      read(await node.protocol.decrypt('web-5', await web.encrypt('node-5', text(`w${i}`)))),
      `w${i}`,
    );
  }
});

test('a browser and a Node device that start sessions with each other at once read every message', async () => {
  const node = await nodeDevice('node-6', 2);
  const web = new BrowserE2eProtocol({ store: new MemoryKeyValueStore(), deviceId: 'web' });
  const upload = await web.initKeys(2);
  await node.protocol.startSession(bundleOf('web-6', upload));
  await web.startSession(bundleOf('node-6', node.upload));
  const fromNode = await node.protocol.encrypt('web-6', text('n1'));
  const fromWeb = await web.encrypt('node-6', text('w1'));
  assert.equal(read(await node.protocol.decrypt('web-6', fromWeb)), 'w1');
  assert.equal(read(await web.decrypt('node-6', fromNode)), 'n1');
  for (let i = 2; i < 6; i++) {
    assert.equal(
      read(await web.decrypt('node-6', await node.protocol.encrypt('web-6', text(`n${i}`)))),
      `n${i}`,
    );
    assert.equal(
      read(await node.protocol.decrypt('web-6', await web.encrypt('node-6', text(`w${i}`)))),
      `w${i}`,
    );
  }
});
