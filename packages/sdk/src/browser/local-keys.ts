/**
 * This browser device's keys: identity (X25519/XEdDSA), registration id, signed prekeys,
 * signed Kyber-1024 last-resort keys and one-time prekeys, all in the KeyValueStore. Ids are
 * reserved (a counter per kind) before a key is saved, and private halves are saved before
 * the public halves are returned for upload: a crash leaves a gap, never a reused id. The
 * private halves are plain bytes: WebCrypto has neither XEdDSA nor Kyber, so they cannot be
 * non-extractable CryptoKeys (docs/security.md, "Browser devices").
 */
import type { SignedKeyKind, SignedKeySource } from '../crypto/signed-key-ring.js';
import type { KeyValueStore, OneTimeKey, SignedKey } from '../crypto/types.js';
import { generateKemKeyPair, type KemKeyPair } from './kyber1024.js';
import { utf8 } from './primitives.js';
import { getJson, putJson } from './stored-json.js';
import { type CurveKeyPair, generateKeyPair, sign } from './xeddsa.js';

export const KeyNamespaces = {
  meta: 'browser.meta',
  identity: 'browser.identity',
  signedPreKey: 'browser.signedPreKey',
  kyberPreKey: 'browser.kyberPreKey',
  kyberUsed: 'browser.kyberUsed',
  preKey: 'browser.preKey',
  session: 'browser.session',
  remoteIdentity: 'browser.remoteIdentity',
} as const;

/** Signal's registration id range: 14 bits, 0 excluded (as the libsignal protocol's). */
const MAX_REGISTRATION_ID = 16380;

export interface Identity {
  keyPair: CurveKeyPair;
  registrationId: number;
}

/** A signed prekey or Kyber key as stored: the pair, its signature and when it was made. */
export interface SignedRecord<K> {
  keyPair: K;
  signature: Uint8Array;
  createdAt: number;
}

export class LocalKeys {
  private cached: Identity | undefined;

  constructor(
    private readonly kv: KeyValueStore,
    private readonly now: () => number,
  ) {}

  /** The identity key pair and registration id, created and saved (one value) on first use. */
  async identity(): Promise<Identity> {
    if (this.cached) return this.cached;
    let stored = await getJson<Identity>(this.kv, KeyNamespaces.identity, 'self');
    if (!stored) {
      stored = {
        keyPair: generateKeyPair(),
        registrationId: 1 + (globalThis.crypto.getRandomValues(new Uint16Array(1))[0]! % MAX_REGISTRATION_ID),
      };
      await putJson(this.kv, KeyNamespaces.identity, 'self', stored);
    }
    this.cached = { keyPair: stored.keyPair, registrationId: stored.registrationId };
    return this.cached;
  }

  /** A new EC prekey signed by the identity key over its 33-byte serialization. */
  async newSignedPreKey(): Promise<SignedKey> {
    return this.newSigned(KeyNamespaces.signedPreKey, generateKeyPair());
  }

  /** A new Kyber-1024 key signed by the identity key over its 1569-byte serialization. */
  async newLastResortKey(): Promise<SignedKey> {
    return this.newSigned(KeyNamespaces.kyberPreKey, generateKemKeyPair());
  }

  async newOneTimePreKeys(count: number): Promise<OneTimeKey[]> {
    if (count === 0) return [];
    const first = await this.reserveIds(KeyNamespaces.preKey, count);
    const keys: OneTimeKey[] = [];
    for (let id = first; id < first + count; id++) {
      const pair = generateKeyPair();
      await putJson(this.kv, KeyNamespaces.preKey, String(id), pair);
      keys.push({ id, publicKey: pair.publicKey });
    }
    return keys;
  }

  signedPreKey(id: number): Promise<SignedRecord<CurveKeyPair> | undefined> {
    return getJson(this.kv, KeyNamespaces.signedPreKey, String(id));
  }

  kyberPreKey(id: number): Promise<SignedRecord<KemKeyPair> | undefined> {
    return getJson(this.kv, KeyNamespaces.kyberPreKey, String(id));
  }

  /** A one-time prekey; the caller deletes it once its session is saved. */
  preKey(id: number): Promise<CurveKeyPair | undefined> {
    return getJson(this.kv, KeyNamespaces.preKey, String(id));
  }

  deletePreKey(id: number): Promise<void> {
    return this.kv.delete(KeyNamespaces.preKey, String(id));
  }

  /** The signed keys and replay records as the shared SignedKeyRing reaches them. */
  signedKeySource(): SignedKeySource {
    const ns = (kind: SignedKeyKind) =>
      kind === 'signed' ? KeyNamespaces.signedPreKey : KeyNamespaces.kyberPreKey;
    const record = async (kind: SignedKeyKind, id: number) => {
      const found = await (kind === 'signed' ? this.signedPreKey(id) : this.kyberPreKey(id));
      if (!found) throw new Error(`no ${kind} key ${id}`);
      return found;
    };
    const half = async (kind: SignedKeyKind, id: number): Promise<SignedKey> => {
      const { keyPair, signature } = await record(kind, id);
      return { id, publicKey: keyPair.publicKey, signature };
    };
    return {
      newPair: async () => ({
        signedPreKey: await this.newSignedPreKey(),
        lastResortKey: await this.newLastResortKey(),
      }),
      publicHalves: async (signedId, kyberId) => ({
        signedPreKey: await half('signed', signedId),
        lastResortKey: await half('kyber', kyberId),
      }),
      storedIds: async (kind) => (await this.kv.keys(ns(kind))).map(Number),
      madeAt: async (kind, id) => (await record(kind, id)).createdAt,
      deleteKey: (kind, id) => this.kv.delete(ns(kind), String(id)),
      usedKyberRecords: async () =>
        (await this.kv.keys(KeyNamespaces.kyberUsed)).map((key) => {
          const [kyberId, signedPreKeyId] = key.split(':');
          return { key, kyberId: Number(kyberId), signedPreKeyId: Number(signedPreKeyId) };
        }),
      deleteUsedKyberRecord: (key) => this.kv.delete(KeyNamespaces.kyberUsed, key),
    };
  }

  private async newSigned(ns: string, keyPair: CurveKeyPair | KemKeyPair): Promise<SignedKey> {
    const identity = (await this.identity()).keyPair.privateKey;
    const id = await this.reserveIds(ns, 1);
    const signature = sign(identity, keyPair.publicKey);
    const stored: SignedRecord<typeof keyPair> = { keyPair, signature, createdAt: this.now() };
    await putJson(this.kv, ns, String(id), stored);
    return { id, publicKey: keyPair.publicKey, signature };
  }

  /** Returns the first of `count` fresh ids of this kind (ids start at 1). */
  private async reserveIds(kind: string, count: number): Promise<number> {
    const stored = await this.kv.get(KeyNamespaces.meta, `next-id:${kind}`);
    const first = stored ? Number(new TextDecoder().decode(stored)) : 1;
    await this.kv.put(KeyNamespaces.meta, `next-id:${kind}`, utf8(String(first + count)));
    return first;
  }
}

/** Key of a replay record: `kyberId:signedPreKeyId:baseKeyHex` (the ring parses the ids back). */
export function usedKyberKey(kyberId: number, signedPreKeyId: number, baseKey: Uint8Array): string {
  const hex = Array.from(baseKey, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${kyberId}:${signedPreKeyId}:${hex}`;
}
