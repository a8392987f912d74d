/**
 * Browser-safe contracts of the SDK's end-to-end layer: the key-value port its state lives
 * in, the wire shapes of the server's key directory, and the protocol the client calls.
 * Nothing here imports Node or libsignal, so a browser build can implement them.
 */

/**
 * Durable bytes by (namespace, key); shaped so an IndexedDB object store can back it.
 * Invariant: a resolved `put` or `delete` survives a crash of the process.
 */
export interface KeyValueStore {
  /** The stored bytes, or undefined when absent. The caller may mutate the result. */
  get(ns: string, key: string): Promise<Uint8Array | undefined>;
  /** Inserts or replaces; the store keeps its own copy of `value`. */
  put(ns: string, key: string, value: Uint8Array): Promise<void>;
  /** Idempotent: deleting an absent key is not an error. */
  delete(ns: string, key: string): Promise<void>;
  /** Keys of the namespace, sorted by UTF-16 code unit (plain `<` on strings). */
  keys(ns: string): Promise<string[]>;
  /** Releases the backing resource; later calls fail. */
  close(): Promise<void>;
}

/** A public key signed (XEdDSA) by the device's identity key. */
export interface SignedKey {
  id: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

/** A one-time EC prekey; handed out by the server at most once. */
export interface OneTimeKey {
  id: number;
  publicKey: Uint8Array;
}

/** What a device uploads to the key directory (public halves only). */
export interface KeyUpload {
  identityKey: Uint8Array;
  registrationId: number;
  signedPreKey: SignedKey;
  /** Kyber (ML-KEM) public key, signed by the identity key; reused until replaced. */
  lastResortKey: SignedKey;
  oneTimePreKeys: OneTimeKey[];
}

/** A signed EC prekey and a signed Kyber last-resort key, published together. */
export interface SignedKeys {
  signedPreKey: SignedKey;
  lastResortKey: SignedKey;
}

/** The signed keys a device publishes now, as its protocol knows them. */
export interface SignedKeysStatus {
  signedPreKeyId: number;
  lastResortKeyId: number;
  /** When the current pair was made: ms since the epoch, on the protocol's clock. */
  createdAt: number;
  /** When the earliest replaced key that is still kept was replaced; absent when none is kept. */
  oldestRetiredAt?: number;
}

/** What one `pruneRetiredKeys` deleted. */
export interface PrunedKeys {
  signedPreKeyIds: number[];
  lastResortKeyIds: number[];
  /** Replay records of Kyber keys (kept by libsignal per session start) that referred to them. */
  usedKyberRecords: number;
}

/** What another device needs to start a session with one device. */
export interface PreKeyBundle {
  userId: string;
  deviceId: string;
  registrationId: number;
  identityKey: Uint8Array;
  signedPreKey: SignedKey;
  lastResortKey: SignedKey;
  /** Absent when the device has run out of one-time prekeys. */
  oneTimePreKey?: OneTimeKey;
}

/**
 * Called after a remote device's identity key differs from the one stored for it (trust on
 * first use: the new key is accepted and the change reported, so the app can show that the
 * security code changed). Keys are serialized public keys. Errors it throws are logged.
 */
export type IdentityChangeListener = (
  deviceId: string,
  oldKey: Uint8Array,
  newKey: Uint8Array,
) => void | Promise<void>;

/**
 * End-to-end encryption of one local device. Device ids are Parley device ids (1 to 64
 * printable ASCII characters). Calls are serialized per instance. Failures are `E2eError`.
 */
export interface E2eProtocol {
  /**
   * Creates the identity key pair and registration id on first use (kept afterwards), then a
   * new signed EC prekey, a new signed Kyber last-resort key and `oneTimeCount` one-time
   * prekeys. Every call returns the same identity. The new signed keys are current at once;
   * the ones they replace are retired (see `pruneRetiredKeys`).
   */
  initKeys(oneTimeCount: number): Promise<KeyUpload>;
  /** More one-time prekeys; ids keep increasing across calls and restarts. */
  newOneTimePreKeys(count: number): Promise<OneTimeKey[]>;
  /** The current signed keys and their age; undefined before the first `initKeys`. */
  currentSignedKeys(): Promise<SignedKeysStatus | undefined>;
  /**
   * The public halves of a new signed prekey and last-resort key to upload (same identity).
   * Their private halves are saved first, so a message to them decrypts as soon as the
   * server hands them out. Until `commitSignedKeys`, every call returns the same pair, so a
   * failed upload is retried with the same keys. Ids keep increasing, also after pruning.
   */
  rotateSignedKeys(): Promise<SignedKeys>;
  /**
   * Call once the server accepted the pair from `rotateSignedKeys`: it becomes current and
   * the pair it replaces is retired, still decrypting first messages for the grace period.
   * Committing the current pair again does nothing; other ids are INVALID_ARGUMENT.
   */
  commitSignedKeys(keys: SignedKeys): Promise<void>;
  /**
   * Deletes the private halves of signed keys retired at least `olderThanMs` ago, and the
   * records of Kyber keys used with them. A first message to a deleted key then fails with
   * UNKNOWN_PREKEY. Current and uncommitted keys are never deleted; ids are never reused.
   */
  pruneRetiredKeys(olderThanMs: number): Promise<PrunedKeys>;
  /** The local serialized identity public key (created on first use). */
  identityKey(): Promise<Uint8Array>;
  /** True when a session to the device can encrypt now. */
  hasSession(deviceId: string): Promise<boolean>;
  /** Starts (or replaces) the session from a bundle; BAD_BUNDLE when a signature fails. */
  startSession(bundle: PreKeyBundle): Promise<void>;
  /** NO_SESSION without a session. The result starts with one type byte. */
  encrypt(deviceId: string, plaintext: Uint8Array): Promise<Uint8Array>;
  /** BAD_MESSAGE, DUPLICATE_MESSAGE, NO_SESSION, UNKNOWN_PREKEY or DECRYPT_FAILED on failure. */
  decrypt(deviceId: string, ciphertext: Uint8Array): Promise<Uint8Array>;
  /** The serialized distribution message of this device's current sender key for the chat. */
  senderKeyDistribution(chatId: string): Promise<Uint8Array>;
  /** A new sender key for the chat; holders of the old one cannot read later messages. */
  rotateSenderKey(chatId: string): Promise<void>;
  /** Stores the sender key another device distributed (BAD_MESSAGE when malformed). */
  processSenderKeyDistribution(senderDeviceId: string, skdm: Uint8Array): Promise<void>;
  /** NO_SENDER_KEY before `senderKeyDistribution` for the chat. */
  groupEncrypt(chatId: string, plaintext: Uint8Array): Promise<Uint8Array>;
  /** NO_SENDER_KEY when the sender's key for that message was never received. */
  groupDecrypt(senderDeviceId: string, ciphertext: Uint8Array): Promise<Uint8Array>;
  /** The identity key last seen for the device, if any. */
  remoteIdentity(deviceId: string): Promise<Uint8Array | undefined>;
  /**
   * X25519 agreement of this device's identity private key with a serialized Curve25519
   * public key (33 bytes, 0x05 first, as identity keys are serialized): the 32-byte shared
   * secret. INVALID_ARGUMENT for any other input. Used to seal push previews.
   */
  identityAgree(publicKey: Uint8Array): Promise<Uint8Array>;
}
