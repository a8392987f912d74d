/**
 * SDK devices with end-to-end encryption for the tests against a real node (e2e-*.test.ts):
 * a ParleyClient, real libsignal sessions in a SQLite key store under one directory, and
 * everything SecureMessaging reports, recorded. `close` closes them all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Credentials,
  type DecryptFailure,
  ParleyClient,
  type SecureMessage,
  SecureMessaging,
  type SecureMessagingOptions,
} from '@parley/sdk';
import { LibsignalProtocol, nodeWebSocketFactory, SqliteKeyValueStore } from '@parley/sdk/node';

export interface SecureDevice {
  creds: Credentials;
  client: ParleyClient;
  secure: SecureMessaging;
  kv: SqliteKeyValueStore;
  received: SecureMessage[];
  failures: DecryptFailure[];
  errors: Error[];
  /** Signed prekey ids of each rotation. */
  rotations: number[];
  /** Users whose security code changed. */
  codeChanges: string[];
}

export class SecureDevices {
  readonly keyDir = mkdtempSync(join(tmpdir(), 'parley-e2e-keys-'));
  readonly open: SecureDevice[] = [];

  /** Starts a device on its key file; with `timers`, its protocol and key rotation run on them. */
  async device(creds: Credentials, options: SecureMessagingOptions = {}): Promise<SecureDevice> {
    const kv = await SqliteKeyValueStore.open(join(this.keyDir, `${creds.deviceId}.db`));
    const client = new ParleyClient({
      credentials: creds,
      webSocketFactory: nodeWebSocketFactory,
      backoff: { initialMs: 5, maxMs: 50 },
    });
    const now = options.timers ? () => options.timers!.now() : undefined;
    const protocol = new LibsignalProtocol({ store: kv, deviceId: creds.deviceId, now });
    const secure = new SecureMessaging(client, protocol, kv, options);
    const d: SecureDevice = {
      creds,
      client,
      secure,
      kv,
      received: [],
      failures: [],
      errors: [],
      rotations: [],
      codeChanges: [],
    };
    secure.on('message', (m) => void d.received.push(m));
    secure.on('decryptFailed', (f) => void d.failures.push(f));
    secure.on('error', (e) => void d.errors.push(e));
    secure.on('keysRotated', (k) => void d.rotations.push(k.signedPreKeyId));
    secure.on('securityCodeChanged', ({ userId }) => void d.codeChanges.push(userId));
    await secure.start();
    this.open.push(d);
    return d;
  }

  async close(d: SecureDevice): Promise<void> {
    await d.secure.close();
    await d.kv.close();
    this.open.splice(this.open.indexOf(d), 1);
  }

  async closeAll(): Promise<void> {
    for (const d of [...this.open]) await this.close(d);
  }

  /** Closes every device and removes the key files. */
  async dispose(): Promise<void> {
    await this.closeAll();
    rmSync(this.keyDir, { recursive: true, force: true });
  }
}
