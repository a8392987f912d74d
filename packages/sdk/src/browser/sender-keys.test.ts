import assert from 'node:assert/strict';
import { test } from 'node:test';
import { E2eError } from '../crypto/errors.js';
import { MemoryKeyValueStore } from '../crypto/memory-store.js';
import { LibsignalProtocol } from '../node/libsignal-protocol.js';
import { BrowserSenderKeys } from './sender-keys.js';

const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array) => new TextDecoder().decode(b);

async function nodeDevice(deviceId: string): Promise<LibsignalProtocol> {
  const protocol = new LibsignalProtocol({ store: new MemoryKeyValueStore(), deviceId });
  await protocol.initKeys(0);
  return protocol;
}

test('a Node (libsignal) sender key decrypts in the browser suite, in and out of order', async () => {
  const node = await nodeDevice('node-phone');
  const browser = new BrowserSenderKeys(new MemoryKeyValueStore(), 'web-1');
  await browser.processSenderKeyDistribution('node-phone', await node.senderKeyDistribution('chat-1'));
  const sent = [];
  for (let i = 0; i < 5; i++) sent.push(await node.groupEncrypt('chat-1', text(`group ${i}`)));
  for (const i of [0, 3, 1, 4, 2])
    assert.equal(read(await browser.groupDecrypt('node-phone', sent[i]!)), `group ${i}`);
  await assert.rejects(
    browser.groupDecrypt('node-phone', sent[1]!),
    (e) => e instanceof E2eError && e.code === 'DUPLICATE_MESSAGE',
  );
  const forged = sent[0]!.slice();
  forged[forged.length - 70]! ^= 1;
  await assert.rejects(browser.groupDecrypt('node-phone', forged), (e) => e instanceof E2eError);
});

test('a browser sender key decrypts in the Node SDK (libsignal), in and out of order', async () => {
  const node = await nodeDevice('node-laptop');
  const browser = new BrowserSenderKeys(new MemoryKeyValueStore(), 'web-2');
  await node.processSenderKeyDistribution('web-2', await browser.senderKeyDistribution('chat-2'));
  const sent = [];
  for (let i = 0; i < 5; i++) sent.push(await browser.groupEncrypt('chat-2', text(`from the browser ${i}`)));
  for (const i of [1, 0, 4, 2, 3])
    assert.equal(read(await node.groupDecrypt('web-2', sent[i]!)), `from the browser ${i}`);
  await assert.rejects(
    node.groupDecrypt('web-2', sent[2]!),
    (e) => e instanceof E2eError && e.code === 'DUPLICATE_MESSAGE',
  );
});

test('three members: two Node devices and a browser read each other in one group', async () => {
  const [a, b] = [await nodeDevice('node-a'), await nodeDevice('node-b')];
  const web = new BrowserSenderKeys(new MemoryKeyValueStore(), 'web-c');
  const skdmA = await a.senderKeyDistribution('g');
  const skdmB = await b.senderKeyDistribution('g');
  const skdmWeb = await web.senderKeyDistribution('g');
  await b.processSenderKeyDistribution('node-a', skdmA);
  await web.processSenderKeyDistribution('node-a', skdmA);
  await a.processSenderKeyDistribution('node-b', skdmB);
  await web.processSenderKeyDistribution('node-b', skdmB);
  await a.processSenderKeyDistribution('web-c', skdmWeb);
  await b.processSenderKeyDistribution('web-c', skdmWeb);
  const fromWeb = await web.groupEncrypt('g', text('hi all'));
  assert.equal(read(await a.groupDecrypt('web-c', fromWeb)), 'hi all');
  assert.equal(read(await b.groupDecrypt('web-c', fromWeb)), 'hi all');
  const fromA = await a.groupEncrypt('g', text('hi web'));
  assert.equal(read(await web.groupDecrypt('node-a', fromA)), 'hi web');
  assert.equal(read(await b.groupDecrypt('node-a', fromA)), 'hi web');
  // After the Node member rotates, its new distribution message is needed again.
  await a.rotateSenderKey('g');
  const newSkdm = await a.senderKeyDistribution('g');
  const rotated = await a.groupEncrypt('g', text('new key'));
  await assert.rejects(
    web.groupDecrypt('node-a', rotated),
    (e) => e instanceof E2eError && e.code === 'NO_SENDER_KEY',
  );
  await web.processSenderKeyDistribution('node-a', newSkdm);
  assert.equal(read(await web.groupDecrypt('node-a', rotated)), 'new key');
});
