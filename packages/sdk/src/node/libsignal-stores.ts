/**
 * libsignal's store classes on one KeyValueStore. Every remote device is addressed as
 * (Parley device id, 1), so a key is the address name alone. Records are libsignal's own
 * serializations; nothing here interprets key material.
 */
import {
  type Direction,
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyRecord,
  PreKeyStore,
  type PrivateKey,
  type ProtocolAddress,
  PublicKey,
  SenderKeyRecord,
  SenderKeyStore,
  SessionRecord,
  SessionStore,
  SignedPreKeyRecord,
  SignedPreKeyStore,
  type Uuid,
} from '@signalapp/libsignal-client';
import { ownBytes } from '../crypto/bytes.js';
import type { IdentityReplacement } from '../crypto/call-chain.js';
import type { KeyValueStore } from '../crypto/types.js';

export const Namespaces = {
  meta: 'meta',
  identity: 'identity',
  session: 'session',
  preKey: 'prekey',
  signedPreKey: 'signed-prekey',
  kyberPreKey: 'kyber-prekey',
  kyberUsed: 'kyber-used',
  senderKey: 'sender-key',
  chatSenderKey: 'chat-sender-key',
} as const;

/** The local identity: registration id and key pair, stored together in one value. */
export interface LocalIdentity {
  registrationId: number;
  keyPair: IdentityKeyPair;
}

export function encodeLocalIdentity(identity: LocalIdentity): Uint8Array {
  const out = new Uint8Array(4 + identity.keyPair.serialize().length);
  new DataView(out.buffer).setUint32(0, identity.registrationId);
  out.set(identity.keyPair.serialize(), 4);
  return out;
}

export function decodeLocalIdentity(bytes: Uint8Array): LocalIdentity {
  const registrationId = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  return { registrationId, keyPair: IdentityKeyPair.deserialize(bytes.slice(4)) };
}

export class KvSessionStore extends SessionStore {
  constructor(private readonly kv: KeyValueStore) {
    super();
  }

  async saveSession(name: ProtocolAddress, record: SessionRecord): Promise<void> {
    await this.kv.put(Namespaces.session, name.name(), record.serialize());
  }

  async getSession(name: ProtocolAddress): Promise<SessionRecord | null> {
    const bytes = await this.kv.get(Namespaces.session, name.name());
    return bytes ? SessionRecord.deserialize(ownBytes(bytes)) : null;
  }

  async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    const records: SessionRecord[] = [];
    for (const address of addresses) {
      const record = await this.getSession(address);
      if (!record) throw new Error(`no session for ${address.name()}`);
      records.push(record);
    }
    return records;
  }
}

/**
 * Trust on first use: every remote key is trusted, a changed one replaces the old and is
 * queued in `replacements` for the caller to report once libsignal's operation is over.
 */
export class KvIdentityKeyStore extends IdentityKeyStore {
  readonly replacements: IdentityReplacement[] = [];

  constructor(
    private readonly kv: KeyValueStore,
    private readonly local: () => Promise<LocalIdentity>,
  ) {
    super();
  }

  async getIdentityKey(): Promise<PrivateKey> {
    return (await this.local()).keyPair.privateKey;
  }

  override async getIdentityKeyPair(): Promise<IdentityKeyPair> {
    return (await this.local()).keyPair;
  }

  async getLocalRegistrationId(): Promise<number> {
    return (await this.local()).registrationId;
  }

  async saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const newKey = key.serialize();
    const old = await this.kv.get(Namespaces.identity, name.name());
    if (old && PublicKey.deserialize(ownBytes(old)).equals(key)) return IdentityChange.NewOrUnchanged;
    await this.kv.put(Namespaces.identity, name.name(), newKey);
    if (!old) return IdentityChange.NewOrUnchanged;
    this.replacements.push({ deviceId: name.name(), oldKey: old, newKey });
    return IdentityChange.ReplacedExisting;
  }

  async isTrustedIdentity(_name: ProtocolAddress, _key: PublicKey, _direction: Direction): Promise<boolean> {
    return true;
  }

  async getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    const bytes = await this.kv.get(Namespaces.identity, name.name());
    return bytes ? PublicKey.deserialize(ownBytes(bytes)) : null;
  }
}

/**
 * The prekey stores note the last key libsignal asked for and did not find, so a failed
 * decryption can say which key was missing: libsignal reports only a generic error.
 */
export interface MissedLookup {
  missed: string | undefined;
}

export class KvPreKeyStore extends PreKeyStore implements MissedLookup {
  missed: string | undefined;

  constructor(private readonly kv: KeyValueStore) {
    super();
  }

  async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    await this.kv.put(Namespaces.preKey, String(id), record.serialize());
  }

  async getPreKey(id: number): Promise<PreKeyRecord> {
    const bytes = await this.kv.get(Namespaces.preKey, String(id));
    if (!bytes) {
      this.missed = `one-time prekey ${id}`;
      throw new Error(`no one-time prekey ${id}`);
    }
    return PreKeyRecord.deserialize(ownBytes(bytes));
  }

  async removePreKey(id: number): Promise<void> {
    await this.kv.delete(Namespaces.preKey, String(id));
  }
}

export class KvSignedPreKeyStore extends SignedPreKeyStore implements MissedLookup {
  missed: string | undefined;

  constructor(private readonly kv: KeyValueStore) {
    super();
  }

  async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    await this.kv.put(Namespaces.signedPreKey, String(id), record.serialize());
  }

  async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    const bytes = await this.kv.get(Namespaces.signedPreKey, String(id));
    if (!bytes) {
      this.missed = `signed prekey ${id}`;
      throw new Error(`no signed prekey ${id}`);
    }
    return SignedPreKeyRecord.deserialize(ownBytes(bytes));
  }
}

/** Key of a used-Kyber record: `kyberId:signedPreKeyId:baseKeyHex`, so pruning can find them by id. */
export function usedKyberKey(kyberId: number, signedPreKeyId: number, baseKey: PublicKey): string {
  return `${kyberId}:${signedPreKeyId}:${Buffer.from(baseKey.serialize()).toString('hex')}`;
}

export function parseUsedKyberKey(key: string): { kyberId: number; signedPreKeyId: number } {
  const [kyberId, signedPreKeyId] = key.split(':');
  return { kyberId: Number(kyberId), signedPreKeyId: Number(signedPreKeyId) };
}

/**
 * Every Kyber key here is a last-resort key, kept after use. A (Kyber key, signed prekey,
 * base key) triple seen twice is a replayed session start and is refused; the record of a
 * triple lives as long as both keys it names (pruning deletes it with them).
 */
export class KvKyberPreKeyStore extends KyberPreKeyStore implements MissedLookup {
  missed: string | undefined;

  constructor(private readonly kv: KeyValueStore) {
    super();
  }

  async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    await this.kv.put(Namespaces.kyberPreKey, String(id), record.serialize());
  }

  async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    const bytes = await this.kv.get(Namespaces.kyberPreKey, String(id));
    if (!bytes) {
      this.missed = `Kyber prekey ${id}`;
      throw new Error(`no Kyber prekey ${id}`);
    }
    return KyberPreKeyRecord.deserialize(ownBytes(bytes));
  }

  async markKyberPreKeyUsed(id: number, signedPreKeyId: number, baseKey: PublicKey): Promise<void> {
    const key = usedKyberKey(id, signedPreKeyId, baseKey);
    if (await this.kv.get(Namespaces.kyberUsed, key)) {
      throw new Error(`Kyber prekey ${id} already used with this base key`);
    }
    await this.kv.put(Namespaces.kyberUsed, key, new Uint8Array(0));
  }
}

/** Key: distribution id (a fixed-length UUID) then the sender's device id. */
export class KvSenderKeyStore extends SenderKeyStore {
  constructor(private readonly kv: KeyValueStore) {
    super();
  }

  static key(sender: ProtocolAddress, distributionId: Uuid): string {
    return `${distributionId}:${sender.name()}`;
  }

  async saveSenderKey(sender: ProtocolAddress, distributionId: Uuid, record: SenderKeyRecord): Promise<void> {
    await this.kv.put(Namespaces.senderKey, KvSenderKeyStore.key(sender, distributionId), record.serialize());
  }

  async getSenderKey(sender: ProtocolAddress, distributionId: Uuid): Promise<SenderKeyRecord | null> {
    const bytes = await this.kv.get(Namespaces.senderKey, KvSenderKeyStore.key(sender, distributionId));
    return bytes ? SenderKeyRecord.deserialize(ownBytes(bytes)) : null;
  }
}
