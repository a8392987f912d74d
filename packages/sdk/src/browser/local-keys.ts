/**
 * This browser device's keys: identity (X25519/XEdDSA), registration id, a signed prekey, a
 * signed Kyber-1024 last-resort key and one-time prekeys, all in the KeyValueStore. Their
 * private halves are plain bytes: WebCrypto has neither XEdDSA nor Kyber, so they cannot be
 * non-extractable CryptoKeys (docs/security.md, "Browser devices").
 */
import type { KeyUpload, KeyValueStore, OneTimeKey } from '../crypto/types.js';
import { generateKemKeyPair, type KemKeyPair } from './kyber1024.js';
import { getJson, putJson } from './stored-json.js';
import { type CurveKeyPair, generateKeyPair, sign } from './xeddsa.js';

export const KeyNamespaces = {
  identity: 'browser.identity',
  signedPreKey: 'browser.signedPreKey',
  kyberPreKey: 'browser.kyberPreKey',
  preKey: 'browser.preKey',
  session: 'browser.session',
} as const;

export interface Identity {
  keyPair: CurveKeyPair;
  registrationId: number;
  nextIds: { preKey: number; signed: number; kyber: number };
}

export class LocalKeys {
  constructor(private readonly kv: KeyValueStore) {}

  async identity(): Promise<Identity> {
    const stored = await getJson<Identity>(this.kv, KeyNamespaces.identity, 'self');
    if (stored) return stored;
    const fresh: Identity = {
      keyPair: generateKeyPair(),
      registrationId: 1 + (globalThis.crypto.getRandomValues(new Uint16Array(1))[0]! % 16380),
      nextIds: { preKey: 1, signed: 1, kyber: 1 },
    };
    await putJson(this.kv, KeyNamespaces.identity, 'self', fresh);
    return fresh;
  }

  /** New signed prekey, Kyber last-resort key and `oneTimeCount` one-time prekeys. */
  async initKeys(oneTimeCount: number): Promise<KeyUpload> {
    const id = await this.identity();
    const signed = generateKeyPair();
    const kyber = generateKemKeyPair();
    const signedId = id.nextIds.signed++;
    const kyberId = id.nextIds.kyber++;
    await putJson(this.kv, KeyNamespaces.signedPreKey, String(signedId), signed);
    await putJson(this.kv, KeyNamespaces.kyberPreKey, String(kyberId), kyber);
    const oneTimePreKeys: OneTimeKey[] = [];
    for (let i = 0; i < oneTimeCount; i++) {
      const pair = generateKeyPair();
      const preKeyId = id.nextIds.preKey++;
      await putJson(this.kv, KeyNamespaces.preKey, String(preKeyId), pair);
      oneTimePreKeys.push({ id: preKeyId, publicKey: pair.publicKey });
    }
    await putJson(this.kv, KeyNamespaces.identity, 'self', id);
    const priv = id.keyPair.privateKey;
    return {
      identityKey: id.keyPair.publicKey,
      registrationId: id.registrationId,
      signedPreKey: { id: signedId, publicKey: signed.publicKey, signature: sign(priv, signed.publicKey) },
      lastResortKey: { id: kyberId, publicKey: kyber.publicKey, signature: sign(priv, kyber.publicKey) },
      oneTimePreKeys,
    };
  }

  signedPreKey(id: number): Promise<CurveKeyPair | undefined> {
    return getJson(this.kv, KeyNamespaces.signedPreKey, String(id));
  }

  kyberPreKey(id: number): Promise<KemKeyPair | undefined> {
    return getJson(this.kv, KeyNamespaces.kyberPreKey, String(id));
  }

  /** A one-time prekey; the caller deletes it once its session is saved. */
  preKey(id: number): Promise<CurveKeyPair | undefined> {
    return getJson(this.kv, KeyNamespaces.preKey, String(id));
  }

  deletePreKey(id: number): Promise<void> {
    return this.kv.delete(KeyNamespaces.preKey, String(id));
  }
}
