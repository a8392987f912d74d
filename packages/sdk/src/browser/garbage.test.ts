import assert from 'node:assert/strict';
import { test } from 'node:test';
import { E2eError } from '../crypto/errors.js';
import { MemoryKeyValueStore } from '../crypto/memory-store.js';
import { LibsignalProtocol } from '../node/libsignal-protocol.js';
import { BrowserE2eProtocol } from './browser-protocol.js';
import { BrowserSenderKeys } from './sender-keys.js';

test('garbage and truncated ciphertexts fail with an E2eError, never another error', async () => {
  const node = new LibsignalProtocol({ store: new MemoryKeyValueStore(), deviceId: 'node-g' });
  const upload = await node.initKeys(1);
  const web = new BrowserE2eProtocol({ store: new MemoryKeyValueStore(), deviceId: 'web' });
  await web.initKeys(1);
  await web.startSession({
    userId: 'n',
    deviceId: 'node-g',
    ...upload,
    oneTimePreKey: upload.oneTimePreKeys[0]!,
  });
  await node.decrypt('web-g', await web.encrypt('node-g', new TextEncoder().encode('hi')));
  const real = await node.encrypt('web-g', new TextEncoder().encode('real'));
  const group = new BrowserSenderKeys(new MemoryKeyValueStore(), 'web-g');
  await group.processSenderKeyDistribution('node-g', await node.senderKeyDistribution('c'));
  const groupReal = await node.groupEncrypt('c', new TextEncoder().encode('real'));
  const inputs: Uint8Array[] = [new Uint8Array(0), Uint8Array.of(2), Uint8Array.of(3), Uint8Array.of(7)];
  for (let n = 1; n < real.length; n += 7) inputs.push(real.slice(0, n));
  for (let n = 1; n < groupReal.length; n += 7) inputs.push(groupReal.slice(0, n));
  for (let i = 0; i < 200; i++) {
    const junk = globalThis.crypto.getRandomValues(new Uint8Array(1 + (i % 120)));
    junk[0] = [2, 3, 7][i % 3]!;
    inputs.push(junk);
  }
  for (const input of inputs) {
    await assert.rejects(
      web.decrypt('node-g', input),
      (e) => e instanceof E2eError,
      `session, ${input.length} bytes`,
    );
    await assert.rejects(
      group.groupDecrypt('node-g', input),
      (e) => e instanceof E2eError,
      `group, ${input.length} bytes`,
    );
  }
  assert.equal(new TextDecoder().decode(await web.decrypt('node-g', real)), 'real');
  assert.equal(new TextDecoder().decode(await group.groupDecrypt('node-g', groupReal)), 'real');
});

test('a message whose ratchet key is a low-order point fails with an E2eError', async () => {
  const { encodeSignalMessage } = await import('./signal-wire.js');
  const web = new BrowserE2eProtocol({ store: new MemoryKeyValueStore(), deviceId: 'web' });
  const node = new LibsignalProtocol({ store: new MemoryKeyValueStore(), deviceId: 'node-h' });
  const upload = await node.initKeys(0);
  await web.initKeys(0);
  await web.startSession({ userId: 'n', deviceId: 'node-h', ...upload });
  const lowOrder = new Uint8Array(33);
  lowOrder[0] = 5;
  const fields = {
    ratchetKey: lowOrder,
    counter: 0,
    previousCounter: 0,
    ciphertext: new Uint8Array(16),
    pqRatchet: Uint8Array.of(1, 1, 1, 0),
  };
  const body = await encodeSignalMessage(fields, new Uint8Array(32), new Uint8Array(33), new Uint8Array(33));
  await assert.rejects(web.decrypt('node-h', Uint8Array.of(2, ...body)), (e) => e instanceof E2eError);
});
