/**
 * An end-to-end encrypted device for the CLI's in-process tests: a ParleyClient wrapped in
 * SecureMessaging with real libsignal sessions, its keys in memory unless a store is given
 * (pass the same store to bring the device back with its sessions).
 */
import {
  type ClientOptions,
  type Credentials,
  type KeyValueStore,
  MemoryKeyValueStore,
  ParleyClient,
  SecureMessaging,
} from '@parley/sdk';
import { LibsignalProtocol } from '@parley/sdk/node';

export interface SecureDevice {
  client: ParleyClient;
  secure: SecureMessaging;
  keys: KeyValueStore;
}

export function secureDevice(
  credentials: Credentials,
  options: { keys?: KeyValueStore } & Omit<ClientOptions, 'credentials'> = {},
): SecureDevice {
  const { keys = new MemoryKeyValueStore(), ...clientOptions } = options;
  const client = new ParleyClient({ credentials, backoff: { initialMs: 5, maxMs: 50 }, ...clientOptions });
  const protocol = new LibsignalProtocol({ store: keys, deviceId: credentials.deviceId });
  return { client, secure: new SecureMessaging(client, protocol, keys), keys };
}
