/**
 * The key directory: stores each device's public keys, checks their signatures, hands out
 * prekey bundles (at most one one-time prekey per device per fetch, never twice, rationed per
 * requester and per device) and tells a device when its one-time prekeys run low. It never
 * sees a private key or any message content.
 */
import { ParleyError } from '@parley/protocol';
import { PublicKey } from '@signalapp/libsignal-client';
import { Coalescer } from '../coalescer.js';
import type { Config } from '../config/schema.js';
import type { Limiters } from '../limits/limiters.js';
import type { Logger } from '../log.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type {
  Device,
  DeviceId,
  DeviceIdentity,
  OneTimePublicKey,
  PreKeyBundleRecord,
  SignedPublicKey,
  UserId,
} from '../ports/types.js';

/** Serialized Curve25519 public key: a type byte and 32 bytes. */
const EC_KEY_BYTES = 33;
const SIGNATURE_BYTES = 64;
/** Room for the largest KEM public key libsignal serializes (Kyber1024: 1569 bytes). */
const MAX_KEM_KEY_BYTES = 2048;
export const MAX_ONE_TIME_PER_UPLOAD = 100;
const MAX_KEY_ID = 0xffffff;

export interface KeysUpload {
  identityKey?: Uint8Array | undefined;
  registrationId?: number | undefined;
  signedPreKey?: SignedPublicKey | undefined;
  lastResortKey?: SignedPublicKey | undefined;
  oneTimePreKeys: OneTimePublicKey[];
  replaceOneTime: boolean;
}

export interface KeysDeps {
  store: Store;
  limiters: Limiters;
  clock: Clock;
  config: Config;
  log: Logger;
  /** Tells a device it should upload more one-time prekeys (it may be on another node). */
  notifyLow(deviceId: DeviceId, oneTimeCount: number): void;
}

/** How long a connect's prekey check waits for others to be read with it. */
const CONNECT_CHECK_MS = 100;

function checkKeyId(id: number, field: string): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_KEY_ID) {
    throw new ParleyError('INVALID_ARGUMENT', `${field}.id must be 0..${MAX_KEY_ID}`);
  }
}

function checkEcKey(bytes: Uint8Array, field: string): void {
  if (bytes.length !== EC_KEY_BYTES) {
    throw new ParleyError(
      'INVALID_ARGUMENT',
      `${field} must be a ${EC_KEY_BYTES}-byte serialized public key`,
    );
  }
}

function parseIdentity(bytes: Uint8Array): PublicKey {
  checkEcKey(bytes, 'identityKey');
  try {
    return PublicKey.deserialize(bytes as Uint8Array<ArrayBuffer>);
  } catch {
    throw new ParleyError('INVALID_ARGUMENT', 'identityKey is not a valid public key');
  }
}

function checkSigned(identity: PublicKey, key: SignedPublicKey, field: string, maxBytes: number): void {
  checkKeyId(key.id, field);
  if (key.publicKey.length === 0 || key.publicKey.length > maxBytes) {
    throw new ParleyError('INVALID_ARGUMENT', `${field}.publicKey must be 1..${maxBytes} bytes`);
  }
  if (key.signature.length !== SIGNATURE_BYTES) {
    throw new ParleyError('INVALID_ARGUMENT', `${field}.signature must be ${SIGNATURE_BYTES} bytes`);
  }
  let ok = false;
  try {
    ok = identity.verify(key.publicKey as Uint8Array<ArrayBuffer>, key.signature as Uint8Array<ArrayBuffer>);
  } catch {
    ok = false;
  }
  if (!ok) throw new ParleyError('BAD_SIGNATURE', `${field}.signature does not verify with the identity key`);
}

export class KeyService {
  /** Devices whose connect-time check waits to be read with the others (`checkOnConnect`). */
  private readonly connectChecks = new Coalescer<DeviceId, true>(
    CONNECT_CHECK_MS,
    (batch) => this.runConnectChecks(batch),
    (err, devices) => this.d.log.error({ err, devices }, 'prekey check failed'),
  );

  constructor(private readonly d: KeysDeps) {}

  async upload(device: Device, input: KeysUpload): Promise<{ oneTimeCount: number }> {
    if (input.oneTimePreKeys.length > MAX_ONE_TIME_PER_UPLOAD) {
      throw new ParleyError(
        'INVALID_ARGUMENT',
        `at most ${MAX_ONE_TIME_PER_UPLOAD} one-time prekeys per upload`,
      );
    }
    const seen = new Set<number>();
    for (const k of input.oneTimePreKeys) {
      checkKeyId(k.id, 'oneTimePreKeys');
      checkEcKey(k.publicKey, 'oneTimePreKeys.publicKey');
      if (seen.has(k.id)) throw new ParleyError('INVALID_ARGUMENT', `one-time prekey ${k.id} appears twice`);
      seen.add(k.id);
    }
    if (input.registrationId !== undefined && (input.registrationId < 1 || input.registrationId > 0x3fff)) {
      throw new ParleyError('INVALID_ARGUMENT', 'registrationId must be 1..16383');
    }
    const identityBytes = input.identityKey ?? (await this.storedIdentity(device))?.identityKey;
    if (input.signedPreKey || input.lastResortKey) {
      if (!identityBytes) {
        throw new ParleyError('INVALID_ARGUMENT', 'the first upload needs the identity key');
      }
      const identity = parseIdentity(identityBytes);
      if (input.signedPreKey) {
        checkEcKey(input.signedPreKey.publicKey, 'signedPreKey.publicKey');
        checkSigned(identity, input.signedPreKey, 'signedPreKey', EC_KEY_BYTES);
      }
      if (input.lastResortKey) checkSigned(identity, input.lastResortKey, 'lastResortKey', MAX_KEM_KEY_BYTES);
    } else if (input.identityKey) {
      parseIdentity(input.identityKey);
    }
    return this.d.store.keysUpload({
      deviceId: device.id,
      identityKey: input.identityKey,
      registrationId: input.registrationId,
      signedPreKey: input.signedPreKey,
      lastResortKey: input.lastResortKey,
      oneTimePreKeys: input.oneTimePreKeys,
      replaceOneTime: input.replaceOneTime,
      maxOneTime: this.d.config.maxOneTimePreKeys,
      now: this.d.clock.now(),
    });
  }

  /**
   * One bundle per device of `userId`; each consumes one of that device's one-time prekeys,
   * unless the requester had one of that device's within the repeat window or the device's
   * hourly budget is spent: then it carries none, so no one can drain a device's keys.
   */
  async bundles(
    requester: Device,
    userId: UserId,
    deviceIds?: readonly DeviceId[],
  ): Promise<PreKeyBundleRecord[]> {
    await this.d.limiters.take('preKeyBundles', requester.userId);
    const exists = await this.d.store.usersExist([userId]);
    if (!exists.has(userId)) throw new ParleyError('USER_NOT_FOUND', 'no such user');
    const bundles = await this.d.store.keysTakeBundles({
      userId,
      deviceIds,
      requester: requester.userId,
      now: this.d.clock.now(),
      repeatWindowMs: this.d.config.oneTimePreKeyRepeatWindowMs,
      oneTimePerDevicePerHour: this.d.config.oneTimePreKeysPerDevicePerHour,
    });
    for (const b of bundles) {
      if (b.oneTimePreKey && b.oneTimeRemaining < this.d.config.oneTimePreKeysLowWater) {
        this.d.notifyLow(b.deviceId, b.oneTimeRemaining);
        // Told now: its connect check, waiting or being read, would only tell it again.
        this.connectChecks.forget(b.deviceId);
      }
    }
    return bundles;
  }

  identities(userIds: readonly UserId[]): Promise<DeviceIdentity[]> {
    return this.d.store.keysIdentities(userIds);
  }

  /**
   * Called when a device connects: within `CONNECT_CHECK_MS` it is told if it should upload more
   * prekeys. The devices that connected meanwhile are checked with one store read (a storm of
   * connects costs a few reads, not one or two a device); a device that has not uploaded keys
   * yet is not told anything.
   */
  checkOnConnect(device: Device): void {
    this.connectChecks.add(device.id, true);
  }

  /** Drops the connect checks still waiting (the node is stopping). */
  stop(): void {
    this.connectChecks.stop();
  }

  private async runConnectChecks(batch: ReadonlyMap<DeviceId, true>): Promise<void> {
    const counts = await this.d.store.keysOneTimeCounts([...batch.keys()]);
    for (const [id, n] of counts) {
      // A device a fetch told meanwhile has been taken out of the batch.
      if (batch.has(id) && n < this.d.config.oneTimePreKeysLowWater) this.d.notifyLow(id, n);
    }
  }

  private async storedIdentity(device: Device): Promise<DeviceIdentity | undefined> {
    const all = await this.d.store.keysIdentities([device.userId]);
    return all.find((k) => k.deviceId === device.id);
  }
}
