/**
 * The local device's key material: the identity (made once, kept forever) and the prekeys
 * it publishes. Private halves are saved before the public halves are returned for upload,
 * and ids are reserved before any key is saved, so a crash leaves a gap, never a reused id.
 */
import {
  IdentityKeyPair,
  KEMKeyPair,
  KyberPreKeyRecord,
  PreKeyRecord,
  PrivateKey,
  SignedPreKeyRecord,
} from '@signalapp/libsignal-client';
import type { KeyValueStore, OneTimeKey, SignedKey } from '../crypto/types.js';
import {
  decodeLocalIdentity,
  encodeLocalIdentity,
  type KvKyberPreKeyStore,
  type KvPreKeyStore,
  type KvSignedPreKeyStore,
  type LocalIdentity,
  Namespaces,
} from './libsignal-stores.js';

/** Signal's registration id range: 14 bits, 0 excluded; libsignal refuses larger ones in places. */
export const MAX_REGISTRATION_ID = 16380;

export interface LocalKeyStores {
  preKeys: KvPreKeyStore;
  signedPreKeys: KvSignedPreKeyStore;
  kyberPreKeys: KvKyberPreKeyStore;
}

export class LocalKeys {
  private cached: LocalIdentity | undefined;

  constructor(
    private readonly kv: KeyValueStore,
    private readonly stores: LocalKeyStores,
    private readonly now: () => number,
  ) {}

  /** The identity key pair and registration id, created and persisted on first use. */
  async identity(): Promise<LocalIdentity> {
    if (this.cached) return this.cached;
    const stored = await this.kv.get(Namespaces.meta, 'local-identity');
    if (stored) {
      this.cached = decodeLocalIdentity(stored);
    } else {
      const random = globalThis.crypto.getRandomValues(new Uint32Array(1))[0]!;
      const created = {
        registrationId: 1 + (random % MAX_REGISTRATION_ID),
        keyPair: IdentityKeyPair.generate(),
      };
      // Key pair and registration id in one value: one write, never half an identity.
      await this.kv.put(Namespaces.meta, 'local-identity', encodeLocalIdentity(created));
      this.cached = created;
    }
    return this.cached;
  }

  /** A new EC prekey signed by the identity key over its 33-byte serialization. */
  async newSignedPreKey(): Promise<SignedKey> {
    const identity = (await this.identity()).keyPair.privateKey;
    const id = await this.reserveIds(Namespaces.signedPreKey, 1);
    const key = PrivateKey.generate();
    const publicKey = key.getPublicKey().serialize();
    const signature = identity.sign(publicKey);
    const record = SignedPreKeyRecord.new(id, this.now(), key.getPublicKey(), key, signature);
    await this.stores.signedPreKeys.saveSignedPreKey(id, record);
    return { id, publicKey, signature };
  }

  /** A new Kyber-1024 key signed by the identity key over its 1569-byte serialization. */
  async newLastResortKey(): Promise<SignedKey> {
    const identity = (await this.identity()).keyPair.privateKey;
    const id = await this.reserveIds(Namespaces.kyberPreKey, 1);
    const keyPair = KEMKeyPair.generate();
    const publicKey = keyPair.getPublicKey().serialize();
    const signature = identity.sign(publicKey);
    await this.stores.kyberPreKeys.saveKyberPreKey(
      id,
      KyberPreKeyRecord.new(id, this.now(), keyPair, signature),
    );
    return { id, publicKey, signature };
  }

  async newOneTimePreKeys(count: number): Promise<OneTimeKey[]> {
    if (count === 0) return [];
    const first = await this.reserveIds(Namespaces.preKey, count);
    const keys: OneTimeKey[] = [];
    for (let id = first; id < first + count; id++) {
      const key = PrivateKey.generate();
      await this.stores.preKeys.savePreKey(id, PreKeyRecord.new(id, key.getPublicKey(), key));
      keys.push({ id, publicKey: key.getPublicKey().serialize() });
    }
    return keys;
  }

  /** Returns the first of `count` fresh ids of this kind (ids start at 1). */
  private async reserveIds(kind: string, count: number): Promise<number> {
    const stored = await this.kv.get(Namespaces.meta, `next-id:${kind}`);
    const first = stored ? Number(new TextDecoder().decode(stored)) : 1;
    await this.kv.put(Namespaces.meta, `next-id:${kind}`, new TextEncoder().encode(String(first + count)));
    return first;
  }
}
