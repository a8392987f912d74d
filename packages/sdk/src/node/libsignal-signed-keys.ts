/**
 * The libsignal protocol's signed keys as a SignedKeySource: libsignal records in the
 * signed-prekey and kyber-prekey namespaces, replay records in kyber-used. The lifecycle
 * itself (current, pending, retired, pruned) is the shared SignedKeyRing.
 */
import type { SignedKeyKind, SignedKeySource } from '../crypto/signed-key-ring.js';
import type { KeyValueStore, SignedKeys } from '../crypto/types.js';
import type { LocalKeys } from './libsignal-keys.js';
import {
  type KvKyberPreKeyStore,
  type KvSignedPreKeyStore,
  Namespaces,
  parseUsedKyberKey,
} from './libsignal-stores.js';

export interface SignedKeyStores {
  signedPreKeys: KvSignedPreKeyStore;
  kyberPreKeys: KvKyberPreKeyStore;
}

const NAMESPACE = { signed: Namespaces.signedPreKey, kyber: Namespaces.kyberPreKey } as const;

export function libsignalSignedKeys(
  kv: KeyValueStore,
  keys: LocalKeys,
  stores: SignedKeyStores,
): SignedKeySource {
  return {
    newPair: async () => ({
      signedPreKey: await keys.newSignedPreKey(),
      lastResortKey: await keys.newLastResortKey(),
    }),
    async publicHalves(signedPreKeyId, lastResortKeyId): Promise<SignedKeys> {
      const signed = await stores.signedPreKeys.getSignedPreKey(signedPreKeyId);
      const kyber = await stores.kyberPreKeys.getKyberPreKey(lastResortKeyId);
      return {
        signedPreKey: {
          id: signedPreKeyId,
          publicKey: signed.publicKey().serialize(),
          signature: signed.signature(),
        },
        lastResortKey: {
          id: lastResortKeyId,
          publicKey: kyber.publicKey().serialize(),
          signature: kyber.signature(),
        },
      };
    },
    storedIds: async (kind: SignedKeyKind) => (await kv.keys(NAMESPACE[kind])).map(Number),
    madeAt: async (kind: SignedKeyKind, id: number) =>
      kind === 'signed'
        ? (await stores.signedPreKeys.getSignedPreKey(id)).timestamp()
        : (await stores.kyberPreKeys.getKyberPreKey(id)).timestamp(),
    deleteKey: (kind: SignedKeyKind, id: number) => kv.delete(NAMESPACE[kind], String(id)),
    usedKyberRecords: async () =>
      (await kv.keys(Namespaces.kyberUsed)).map((key) => ({ key, ...parseUsedKyberKey(key) })),
    deleteUsedKyberRecord: (key: string) => kv.delete(Namespaces.kyberUsed, key),
  };
}
