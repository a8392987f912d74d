/** The libsignal protocol as a test backend: each device on a real SQLite file in a temp directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestDevices as Devices, type ProtocolBackend } from '../crypto/e2e-protocol.fixtures.js';
import { LibsignalProtocol } from './libsignal-protocol.js';
import { Namespaces } from './libsignal-stores.js';
import { SqliteKeyValueStore } from './sqlite-key-store.js';

export { publish, read, type TestDevice, takeBundle, text } from '../crypto/e2e-protocol.fixtures.js';

export interface LibsignalBackend extends ProtocolBackend {
  /** Removes the temp directory with every store. */
  remove(): Promise<void>;
}

export async function libsignalBackend(): Promise<LibsignalBackend> {
  const root = await mkdtemp(join(tmpdir(), 'parley-e2e-'));
  return {
    openStore: (slot) => SqliteKeyValueStore.open(join(root, slot, 'keys.db')),
    newProtocol: (options) => new LibsignalProtocol(options),
    forgetSession: (store, remoteDeviceId) => store.delete(Namespaces.session, remoteDeviceId),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** Libsignal test devices on SQLite files; `remove` deletes their directory. */
export class TestDevices extends Devices {
  private constructor(private readonly files: LibsignalBackend) {
    super(files);
  }

  static async create(): Promise<TestDevices> {
    return new TestDevices(await libsignalBackend());
  }

  remove(): Promise<void> {
    return this.files.remove();
  }
}
