/**
 * E2eProtocol on libsignal: pairwise sessions (PQXDH + double ratchet) and sender keys for
 * groups, with all state in one KeyValueStore. Public calls run one at a time (a promise
 * chain) and reject, never throw, so libsignal's read-modify-write of a session never
 * interleaves. Identity changes are reported after the call that saw them, outside the
 * chain, so a listener may call back into the protocol. Signed keys rotate through
 * SignedKeyRing (current, pending, retired, pruned).
 */
import {
  CiphertextMessageType,
  groupDecrypt,
  groupEncrypt,
  PreKeySignalMessage,
  type ProtocolAddress,
  PublicKey,
  processPreKeyBundle,
  processSenderKeyDistributionMessage,
  SenderKeyDistributionMessage,
  SenderKeyMessage,
  SignalMessage,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import { ownBytes } from '../crypto/bytes.js';
import { CallChain } from '../crypto/call-chain.js';
import {
  checkAge,
  checkChatId,
  checkCount,
  checkSerializedPublicKey,
  MAX_ONE_TIME_BATCH,
} from '../crypto/checks.js';
import { E2eError } from '../crypto/errors.js';
import { SignedKeyRing } from '../crypto/signed-key-ring.js';
import type {
  E2eProtocol,
  IdentityChangeListener,
  KeyUpload,
  KeyValueStore,
  OneTimeKey,
  PreKeyBundle,
  PrunedKeys,
  SignedKeys,
  SignedKeysStatus,
} from '../crypto/types.js';
import { LocalKeys } from './libsignal-keys.js';
import { libsignalSignedKeys } from './libsignal-signed-keys.js';
import {
  KvIdentityKeyStore,
  KvKyberPreKeyStore,
  KvPreKeyStore,
  KvSenderKeyStore,
  KvSessionStore,
  KvSignedPreKeyStore,
  Namespaces,
} from './libsignal-stores.js';
import { address, decryptOrFail, frame, parse, parseBundle, unframe } from './libsignal-wire.js';

export { MAX_ONE_TIME_BATCH };

export interface LibsignalProtocolOptions {
  /** Where keys and sessions live; the caller owns it (and closes it). */
  store: KeyValueStore;
  /** This device's Parley device id. */
  deviceId: string;
  onIdentityChange?: IdentityChangeListener;
  /**
   * Clock in ms since the epoch (prekey timestamps and retirement, session staleness);
   * default Date.now.
   */
  now?: () => number;
}

export class LibsignalProtocol implements E2eProtocol {
  private readonly kv: KeyValueStore;
  private readonly localAddress: ProtocolAddress;
  private readonly now: () => number;
  private readonly keys: LocalKeys;
  private readonly sessions: KvSessionStore;
  private readonly identities: KvIdentityKeyStore;
  private readonly preKeys: KvPreKeyStore;
  private readonly signedPreKeys: KvSignedPreKeyStore;
  private readonly kyberPreKeys: KvKyberPreKeyStore;
  private readonly senderKeys: KvSenderKeyStore;
  private readonly signedKeys: SignedKeyRing;
  private readonly calls: CallChain;

  constructor(options: LibsignalProtocolOptions) {
    this.kv = options.store;
    this.localAddress = address(options.deviceId);
    this.now = options.now ?? Date.now;
    this.sessions = new KvSessionStore(this.kv);
    this.preKeys = new KvPreKeyStore(this.kv);
    this.signedPreKeys = new KvSignedPreKeyStore(this.kv);
    this.kyberPreKeys = new KvKyberPreKeyStore(this.kv);
    this.senderKeys = new KvSenderKeyStore(this.kv);
    this.keys = new LocalKeys(
      this.kv,
      { preKeys: this.preKeys, signedPreKeys: this.signedPreKeys, kyberPreKeys: this.kyberPreKeys },
      this.now,
    );
    this.identities = new KvIdentityKeyStore(this.kv, () => this.keys.identity());
    this.calls = new CallChain(this.identities.replacements, options.onIdentityChange);
    this.signedKeys = new SignedKeyRing(
      this.kv,
      { ns: Namespaces.meta, key: 'signed-keys' },
      libsignalSignedKeys(this.kv, this.keys, {
        signedPreKeys: this.signedPreKeys,
        kyberPreKeys: this.kyberPreKeys,
      }),
      this.now,
    );
  }

  async initKeys(oneTimeCount: number): Promise<KeyUpload> {
    checkCount(oneTimeCount);
    return this.serial(async () => {
      const { registrationId, keyPair } = await this.keys.identity();
      return {
        identityKey: keyPair.publicKey.serialize(),
        registrationId,
        ...(await this.signedKeys.replace()),
        oneTimePreKeys: await this.keys.newOneTimePreKeys(oneTimeCount),
      };
    });
  }

  async newOneTimePreKeys(count: number): Promise<OneTimeKey[]> {
    checkCount(count);
    return this.serial(() => this.keys.newOneTimePreKeys(count));
  }

  async currentSignedKeys(): Promise<SignedKeysStatus | undefined> {
    return this.serial(() => this.signedKeys.status());
  }

  async rotateSignedKeys(): Promise<SignedKeys> {
    return this.serial(() => this.signedKeys.rotate());
  }

  async commitSignedKeys(keys: SignedKeys): Promise<void> {
    return this.serial(() => this.signedKeys.commit(keys));
  }

  async pruneRetiredKeys(olderThanMs: number): Promise<PrunedKeys> {
    checkAge(olderThanMs);
    return this.serial(() => this.signedKeys.prune(olderThanMs));
  }

  async identityKey(): Promise<Uint8Array> {
    return this.serial(async () => (await this.keys.identity()).keyPair.publicKey.serialize());
  }

  async hasSession(deviceId: string): Promise<boolean> {
    const remote = address(deviceId);
    return this.serial(() => this.sessionUsable(remote));
  }

  async startSession(bundle: PreKeyBundle): Promise<void> {
    const remote = address(bundle.deviceId);
    return this.serial(async () => {
      const parsed = parseBundle(bundle);
      await this.keys.identity();
      try {
        await processPreKeyBundle(
          parsed,
          remote,
          this.localAddress,
          this.sessions,
          this.identities,
          this.date(),
        );
      } catch (err) {
        throw new E2eError('BAD_BUNDLE', `libsignal refused the bundle of ${bundle.deviceId}`, {
          cause: err,
        });
      }
    });
  }

  async encrypt(deviceId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    const remote = address(deviceId);
    return this.serial(async () => {
      if (!(await this.sessionUsable(remote)))
        throw new E2eError('NO_SESSION', `no session with ${deviceId}`);
      const { localAddress, sessions, identities } = this;
      const message = await signalEncrypt(
        ownBytes(plaintext),
        remote,
        localAddress,
        sessions,
        identities,
        this.date(),
      );
      return frame(message.type(), message.serialize());
    });
  }

  async decrypt(deviceId: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    const remote = address(deviceId);
    return this.serial(async () => {
      const { type, body } = unframe(ciphertext);
      const { localAddress, sessions, identities } = this;
      if (type === CiphertextMessageType.PreKey) {
        const message = parse(() => PreKeySignalMessage.deserialize(body));
        await this.keys.identity();
        const { preKeys, signedPreKeys, kyberPreKeys } = this;
        for (const store of [preKeys, signedPreKeys, kyberPreKeys]) store.missed = undefined;
        try {
          return await decryptOrFail(deviceId, () =>
            signalDecryptPreKey(
              message,
              remote,
              localAddress,
              sessions,
              identities,
              preKeys,
              signedPreKeys,
              kyberPreKeys,
            ),
          );
        } catch (err) {
          const missed = signedPreKeys.missed ?? kyberPreKeys.missed ?? preKeys.missed;
          if (!missed || !(err instanceof E2eError) || err.code !== 'DECRYPT_FAILED') throw err;
          throw new E2eError('UNKNOWN_PREKEY', `a first message from ${deviceId} needs ${missed}, now gone`, {
            cause: err.cause,
          });
        }
      }
      if (type === CiphertextMessageType.Whisper) {
        const message = parse(() => SignalMessage.deserialize(body));
        if (!(await sessions.getSession(remote)))
          throw new E2eError('NO_SESSION', `no session with ${deviceId}`);
        return decryptOrFail(deviceId, () =>
          signalDecrypt(message, remote, localAddress, sessions, identities),
        );
      }
      throw new E2eError('BAD_MESSAGE', `unknown ciphertext type ${type}`);
    });
  }

  async senderKeyDistribution(chatId: string): Promise<Uint8Array> {
    checkChatId(chatId);
    return this.serial(async () => {
      const distributionId = (await this.distributionId(chatId)) ?? (await this.newDistributionId(chatId));
      const message = await SenderKeyDistributionMessage.create(
        this.localAddress,
        distributionId,
        this.senderKeys,
      );
      return message.serialize();
    });
  }

  async rotateSenderKey(chatId: string): Promise<void> {
    checkChatId(chatId);
    return this.serial(async () => {
      const old = await this.distributionId(chatId);
      const distributionId = await this.newDistributionId(chatId);
      await SenderKeyDistributionMessage.create(this.localAddress, distributionId, this.senderKeys);
      if (old) await this.kv.delete(Namespaces.senderKey, KvSenderKeyStore.key(this.localAddress, old));
    });
  }

  async processSenderKeyDistribution(senderDeviceId: string, skdm: Uint8Array): Promise<void> {
    const sender = address(senderDeviceId);
    return this.serial(async () => {
      const message = parse(() => SenderKeyDistributionMessage.deserialize(ownBytes(skdm)));
      await processSenderKeyDistributionMessage(sender, message, this.senderKeys);
    });
  }

  async groupEncrypt(chatId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    checkChatId(chatId);
    return this.serial(async () => {
      const distributionId = await this.distributionId(chatId);
      if (!distributionId) throw new E2eError('NO_SENDER_KEY', 'no sender key for the chat yet');
      const message = await groupEncrypt(
        this.localAddress,
        distributionId,
        this.senderKeys,
        ownBytes(plaintext),
      );
      return frame(CiphertextMessageType.SenderKey, message.serialize());
    });
  }

  async groupDecrypt(senderDeviceId: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    const sender = address(senderDeviceId);
    return this.serial(async () => {
      const { type, body } = unframe(ciphertext);
      if (type !== CiphertextMessageType.SenderKey) throw new E2eError('BAD_MESSAGE', 'not a group message');
      const distributionId = parse(() => SenderKeyMessage.deserialize(body)).distributionId();
      if (!(await this.senderKeys.getSenderKey(sender, distributionId))) {
        throw new E2eError('NO_SENDER_KEY', `no sender key of ${senderDeviceId} for this message`);
      }
      return decryptOrFail(senderDeviceId, () => groupDecrypt(sender, this.senderKeys, body));
    });
  }

  async remoteIdentity(deviceId: string): Promise<Uint8Array | undefined> {
    const remote = address(deviceId);
    return this.serial(() => this.kv.get(Namespaces.identity, remote.name()));
  }

  async identityAgree(publicKey: Uint8Array): Promise<Uint8Array> {
    checkSerializedPublicKey(publicKey);
    let key: PublicKey;
    try {
      key = PublicKey.deserialize(ownBytes(publicKey));
    } catch {
      throw new E2eError('INVALID_ARGUMENT', 'not a Curve25519 public key');
    }
    return this.serial(async () => {
      const { privateKey } = (await this.keys.identity()).keyPair;
      try {
        return new Uint8Array(privateKey.agree(key));
      } catch (err) {
        // libsignal refuses a low-order key ("invalid key agreement").
        throw new E2eError('INVALID_ARGUMENT', 'the public key is of low order', { cause: err });
      }
    });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    return this.calls.run(task);
  }

  private date(): Date {
    return new Date(this.now());
  }

  private async sessionUsable(remote: ProtocolAddress): Promise<boolean> {
    return (await this.sessions.getSession(remote))?.hasCurrentState(this.date()) ?? false;
  }

  private async distributionId(chatId: string): Promise<string | undefined> {
    const stored = await this.kv.get(Namespaces.chatSenderKey, chatId);
    return stored ? new TextDecoder().decode(stored) : undefined;
  }

  private async newDistributionId(chatId: string): Promise<string> {
    const distributionId = globalThis.crypto.randomUUID();
    await this.kv.put(Namespaces.chatSenderKey, chatId, new TextEncoder().encode(distributionId));
    return distributionId;
  }
}
