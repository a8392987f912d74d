import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { ownBytes } from '../crypto/bytes.js';
import { e2eProtocolContract } from '../crypto/e2e-protocol.contract.js';
import type { ProtocolBackend } from '../crypto/e2e-protocol.fixtures.js';
import { E2eError } from '../crypto/errors.js';
import { MemoryKeyValueStore } from '../crypto/memory-store.js';
import type { KeyValueStore } from '../crypto/types.js';
import { LibsignalProtocol } from '../node/libsignal-protocol.js';
import { Namespaces } from '../node/libsignal-stores.js';
import { BrowserE2eProtocol } from './browser-protocol.js';
import { IndexedDbKeyValueStore } from './indexeddb-key-store.js';
import { KeyNamespaces } from './local-keys.js';

const env = { indexedDB, IDBKeyRange };
let run = 0;

/** Every device on IndexedDB; `pick` chooses each storage slot's implementation once. */
function indexedDbBackend(pick: (slot: string) => 'browser' | 'libsignal'): ProtocolBackend {
  const prefix = `contract-${run++}`;
  const kinds = new WeakMap<KeyValueStore, 'browser' | 'libsignal'>();
  return {
    async openStore(slot) {
      const store = await IndexedDbKeyValueStore.open(`${prefix}-${slot}`, env);
      kinds.set(store, pick(slot));
      return store;
    },
    newProtocol: (options) =>
      kinds.get(options.store) === 'libsignal'
        ? new LibsignalProtocol(options)
        : new BrowserE2eProtocol(options),
    async forgetSession(store, remoteDeviceId) {
      await store.delete(KeyNamespaces.session, remoteDeviceId);
      await store.delete(Namespaces.session, remoteDeviceId);
    },
  };
}

e2eProtocolContract(
  'BrowserE2eProtocol',
  indexedDbBackend(() => 'browser'),
);

// Every other device is a libsignal one, so most pairs in the suite talk across implementations.
const mixed = new Map<string, 'browser' | 'libsignal'>();
e2eProtocolContract(
  'BrowserE2eProtocol with LibsignalProtocol',
  indexedDbBackend((slot) => {
    if (!mixed.has(slot)) mixed.set(slot, mixed.size % 2 === 0 ? 'browser' : 'libsignal');
    return mixed.get(slot)!;
  }),
);

test("identityAgree equals what libsignal's PrivateKey.agree gives from the other side", async () => {
  const web = new BrowserE2eProtocol({ store: new MemoryKeyValueStore(), deviceId: 'web-agree' });
  const webIdentity = PublicKey.deserialize(ownBytes(await web.identityKey()));
  for (let i = 0; i < 5; i++) {
    const other = PrivateKey.generate();
    const secret = await web.identityAgree(other.getPublicKey().serialize());
    assert.deepEqual(secret, new Uint8Array(other.agree(webIdentity)));
  }
});

test('a browser device refuses a bad device id at construction', () => {
  assert.throws(
    () => new BrowserE2eProtocol({ store: new MemoryKeyValueStore(), deviceId: '' }),
    (e) => e instanceof E2eError && e.code === 'INVALID_ARGUMENT',
  );
});
