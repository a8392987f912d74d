/**
 * Test devices for the E2eProtocol contract and the implementations' own tests: a device is a
 * protocol on a store of its own, with its keys made and what the key directory would hand
 * out of them. A backend says how to open stores and make protocols.
 */
import type {
  E2eProtocol,
  IdentityChangeListener,
  KeyUpload,
  KeyValueStore,
  OneTimeKey,
  PreKeyBundle,
  SignedKeys,
} from './types.js';

export interface ProtocolOptions {
  store: KeyValueStore;
  deviceId: string;
  onIdentityChange?: IdentityChangeListener | undefined;
  now?: (() => number) | undefined;
}

export interface ProtocolBackend {
  /** Opens the storage named `slot`; opening a slot again after closing it gives the same data. */
  openStore(slot: string): Promise<KeyValueStore>;
  newProtocol(options: ProtocolOptions): E2eProtocol;
  /** Deletes what the store keeps of its session with `remoteDeviceId` (as if lost). */
  forgetSession(store: KeyValueStore, remoteDeviceId: string): Promise<void>;
}

export interface TestDevice {
  userId: string;
  deviceId: string;
  slot: string;
  store: KeyValueStore;
  protocol: E2eProtocol;
  upload: KeyUpload;
  /** One-time prekeys not yet handed out in a bundle. */
  unusedOneTime: OneTimeKey[];
  now?: () => number;
}

export interface DeviceOptions {
  oneTimeCount?: number;
  onIdentityChange?: IdentityChangeListener;
  /** The protocol's clock (default Date.now); kept by `reopen`. */
  now?: () => number;
}

export class TestDevices {
  private count = 0;

  constructor(readonly backend: ProtocolBackend) {}

  /** A new device on new storage, with `initKeys(oneTimeCount ?? 2)` done. */
  async device(userId: string, deviceId: string, options: DeviceOptions = {}): Promise<TestDevice> {
    const slot = `device-${this.count++}`;
    const store = await this.backend.openStore(slot);
    const { onIdentityChange, now } = options;
    const protocol = this.backend.newProtocol({ store, deviceId, onIdentityChange, now });
    const upload = await protocol.initKeys(options.oneTimeCount ?? 2);
    const unusedOneTime = [...upload.oneTimePreKeys];
    return { userId, deviceId, slot, store, protocol, upload, unusedOneTime, ...(now && { now }) };
  }

  /** A protocol on new, empty storage, before any `initKeys`. */
  async bare(deviceId: string): Promise<{ store: KeyValueStore; protocol: E2eProtocol }> {
    const store = await this.backend.openStore(`bare-${this.count++}`);
    return { store, protocol: this.backend.newProtocol({ store, deviceId }) };
  }

  /** Closes the device's store and opens it again under a new protocol instance (a restart). */
  async reopen(device: TestDevice): Promise<TestDevice> {
    await device.store.close();
    const store = await this.backend.openStore(device.slot);
    const protocol = this.backend.newProtocol({ store, deviceId: device.deviceId, now: device.now });
    return { ...device, store, protocol };
  }

  forgetSession(device: TestDevice, remoteDeviceId: string): Promise<void> {
    return this.backend.forgetSession(device.store, remoteDeviceId);
  }
}

/** What the server's key directory would hand out: the next one-time prekey when asked. */
export function takeBundle(device: TestDevice, withOneTime = true): PreKeyBundle {
  const { identityKey, registrationId, signedPreKey, lastResortKey } = device.upload;
  const bundle: PreKeyBundle = {
    userId: device.userId,
    deviceId: device.deviceId,
    registrationId,
    identityKey,
    signedPreKey,
    lastResortKey,
  };
  const oneTime = withOneTime ? device.unusedOneTime.shift() : undefined;
  if (oneTime) bundle.oneTimePreKey = oneTime;
  return bundle;
}

/** The device now publishes `keys` (as after an accepted rotation): later bundles carry them. */
export function publish(device: TestDevice, keys: SignedKeys): void {
  device.upload = { ...device.upload, ...keys };
}

export const text = (value: string): Uint8Array => new TextEncoder().encode(value);
export const read = (value: Uint8Array): string => new TextDecoder().decode(value);
