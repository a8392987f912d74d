/**
 * The identity keys of remote devices, trust on first use (as the libsignal protocol's
 * KvIdentityKeyStore): every key is accepted; one that replaces an earlier key is stored and
 * queued in `replacements`, for the protocol to report once its call is over.
 */
import type { IdentityReplacement } from '../crypto/call-chain.js';
import type { KeyValueStore } from '../crypto/types.js';
import { KeyNamespaces } from './local-keys.js';
import { sameBytes } from './session-state.js';

export class RemoteIdentities {
  readonly replacements: IdentityReplacement[] = [];

  constructor(private readonly kv: KeyValueStore) {}

  get(deviceId: string): Promise<Uint8Array | undefined> {
    return this.kv.get(KeyNamespaces.remoteIdentity, deviceId);
  }

  async save(deviceId: string, key: Uint8Array): Promise<void> {
    const old = await this.get(deviceId);
    if (old && sameBytes(old, key)) return;
    await this.kv.put(KeyNamespaces.remoteIdentity, deviceId, key);
    if (old) this.replacements.push({ deviceId, oldKey: old, newKey: key.slice() });
  }
}
