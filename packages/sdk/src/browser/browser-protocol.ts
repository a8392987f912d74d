/**
 * E2eProtocol for browsers, on the Parley suite in this folder (WebCrypto and @noble/*, no
 * Node API): pairwise PQXDH sessions and sender keys that libsignal devices accept byte for
 * byte, all state in one KeyValueStore (IndexedDB in a page). Behaves as LibsignalProtocol
 * does, error codes included (both pass e2e-protocol.contract.ts). Public calls run one at a
 * time and reject, never throw; identity changes are reported after the call that saw them,
 * outside the chain, so a listener may call back into the protocol.
 */

import { CallChain } from '../crypto/call-chain.js';
import {
  checkAge,
  checkChatId,
  checkCount,
  checkDeviceId,
  checkSerializedPublicKey,
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
import { asE2eError } from './as-e2e-error.js';
import { KeyNamespaces, LocalKeys } from './local-keys.js';
import { RemoteIdentities } from './remote-identities.js';
import { BrowserSenderKeys } from './sender-keys.js';
import { BrowserSessions } from './sessions.js';
import { agree } from './xeddsa.js';

export interface BrowserE2eProtocolOptions {
  /** Where keys and sessions live; the caller owns it (and closes it). */
  store: KeyValueStore;
  /** This device's Parley device id. */
  deviceId: string;
  onIdentityChange?: IdentityChangeListener;
  /** Clock in ms since the epoch (key ages and retirement, session expiry); default Date.now. */
  now?: () => number;
}

export class BrowserE2eProtocol implements E2eProtocol {
  private readonly keys: LocalKeys;
  private readonly identities: RemoteIdentities;
  private readonly sessions: BrowserSessions;
  private readonly senderKeys: BrowserSenderKeys;
  private readonly signedKeys: SignedKeyRing;
  private readonly calls: CallChain;

  constructor(options: BrowserE2eProtocolOptions) {
    checkDeviceId(options.deviceId);
    const kv = options.store;
    const now = options.now ?? Date.now;
    this.keys = new LocalKeys(kv, now);
    this.identities = new RemoteIdentities(kv);
    this.calls = new CallChain(this.identities.replacements, options.onIdentityChange);
    this.sessions = new BrowserSessions({ kv, keys: this.keys, identities: this.identities, now });
    this.senderKeys = new BrowserSenderKeys(kv, options.deviceId);
    this.signedKeys = new SignedKeyRing(
      kv,
      { ns: KeyNamespaces.meta, key: 'signed-keys' },
      this.keys.signedKeySource(),
      now,
    );
  }

  async initKeys(oneTimeCount: number): Promise<KeyUpload> {
    checkCount(oneTimeCount);
    return this.serial(async () => {
      const { registrationId, keyPair } = await this.keys.identity();
      return {
        identityKey: keyPair.publicKey,
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
    return this.serial(async () => (await this.keys.identity()).keyPair.publicKey.slice());
  }

  /**
   * X25519 of this device's identity private key with a serialized Curve25519 public key
   * (0x05 then 32 bytes): the 32-byte secret libsignal's `PrivateKey.agree` gives.
   * INVALID_ARGUMENT for another shape or a low-order key (whose secret would be all zero).
   */
  async identityAgree(publicKey: Uint8Array): Promise<Uint8Array> {
    checkSerializedPublicKey(publicKey);
    return this.serial(async () => {
      const { privateKey } = (await this.keys.identity()).keyPair;
      try {
        return agree(privateKey, publicKey);
      } catch (err) {
        throw new E2eError('INVALID_ARGUMENT', 'the public key is of low order', { cause: err });
      }
    });
  }

  async hasSession(deviceId: string): Promise<boolean> {
    checkDeviceId(deviceId);
    return this.serial(() => this.sessions.hasSession(deviceId));
  }

  async startSession(bundle: PreKeyBundle): Promise<void> {
    checkDeviceId(bundle.deviceId);
    return this.serial(() => this.sessions.startSession(bundle));
  }

  async encrypt(deviceId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    checkDeviceId(deviceId);
    return this.serial(() => this.sessions.encrypt(deviceId, plaintext));
  }

  async decrypt(deviceId: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    checkDeviceId(deviceId);
    return this.serial(() => asE2eError(() => this.sessions.decrypt(deviceId, ciphertext)));
  }

  async senderKeyDistribution(chatId: string): Promise<Uint8Array> {
    checkChatId(chatId);
    return this.serial(() => this.senderKeys.senderKeyDistribution(chatId));
  }

  async rotateSenderKey(chatId: string): Promise<void> {
    checkChatId(chatId);
    return this.serial(() => this.senderKeys.rotateSenderKey(chatId));
  }

  async processSenderKeyDistribution(senderDeviceId: string, skdm: Uint8Array): Promise<void> {
    checkDeviceId(senderDeviceId);
    return this.serial(() => this.senderKeys.processSenderKeyDistribution(senderDeviceId, skdm));
  }

  async groupEncrypt(chatId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    checkChatId(chatId);
    return this.serial(() => this.senderKeys.groupEncrypt(chatId, plaintext));
  }

  async groupDecrypt(senderDeviceId: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    checkDeviceId(senderDeviceId);
    return this.serial(() => this.senderKeys.groupDecrypt(senderDeviceId, ciphertext));
  }

  async remoteIdentity(deviceId: string): Promise<Uint8Array | undefined> {
    checkDeviceId(deviceId);
    return this.serial(() => this.identities.get(deviceId));
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    return this.calls.run(task);
  }
}
