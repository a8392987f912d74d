/** Test fixtures for the libsignal tests: devices on real SQLite files in a temp directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  IdentityChangeListener,
  KeyUpload,
  OneTimeKey,
  PreKeyBundle,
  SignedKeys,
} from '../crypto/types.js';
import { LibsignalProtocol } from './libsignal-protocol.js';
import { SqliteKeyValueStore } from './sqlite-key-store.js';

export interface TestDevice {
  userId: string;
  deviceId: string;
  path: string;
  store: SqliteKeyValueStore;
  protocol: LibsignalProtocol;
  upload: KeyUpload;
  /** One-time prekeys not yet handed out in a bundle. */
  unusedOneTime: OneTimeKey[];
  now?: () => number;
}

export interface DeviceOptions {
  oneTimeCount?: number;
  onIdentityChange?: IdentityChangeListener;
  /** Store file name; a second device on the same name replaces the first's keys. */
  file?: string;
  /** The protocol's clock (default Date.now); kept by `reopen`. */
  now?: () => number;
}

export class TestDevices {
  private count = 0;

  private constructor(readonly root: string) {}

  static async create(): Promise<TestDevices> {
    return new TestDevices(await mkdtemp(join(tmpdir(), 'parley-e2e-')));
  }

  async device(userId: string, deviceId: string, options: DeviceOptions = {}): Promise<TestDevice> {
    const path = join(this.root, options.file ?? `device-${this.count++}`, 'keys.db');
    const store = await SqliteKeyValueStore.open(path);
    const { onIdentityChange, now } = options;
    const protocol = new LibsignalProtocol({ store, deviceId, onIdentityChange, now });
    const upload = await protocol.initKeys(options.oneTimeCount ?? 2);
    const unusedOneTime = [...upload.oneTimePreKeys];
    return { userId, deviceId, path, store, protocol, upload, unusedOneTime, ...(now && { now }) };
  }

  /** Reopens the device's file with a new store and a new protocol instance. */
  async reopen(device: TestDevice): Promise<TestDevice> {
    await device.store.close();
    const store = await SqliteKeyValueStore.open(device.path);
    const protocol = new LibsignalProtocol({ store, deviceId: device.deviceId, now: device.now });
    return { ...device, store, protocol };
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
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
