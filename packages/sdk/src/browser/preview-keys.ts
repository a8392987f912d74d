/**
 * Opening push previews where no device is running: a browser's service worker, woken by a
 * push while no tab holds the device. It reads the device's key store and writes nothing:
 * previews are sealed to identity keys (push-preview.ts), so opening one needs this device's
 * identity key pair and the sender device's identity key, and no session or ratchet moves.
 * A store without an identity (a device never set up) opens nothing and stays as it was.
 */
import { checkSerializedPublicKey } from '../crypto/checks.js';
import type { KeyValueStore } from '../crypto/types.js';
import { base64Bytes, type OpenedPreview, openPreview, type PreviewKeys } from '../e2e/push-preview.js';
import { type Identity, KeyNamespaces } from './local-keys.js';
import { getJson } from './stored-json.js';
import { agree } from './xeddsa.js';

/** The identity keys of the BrowserE2eProtocol whose store is `kv`, read-only. */
export function storedPreviewKeys(kv: KeyValueStore): PreviewKeys {
  let identity: Promise<Identity | undefined> | undefined;
  const own = async () => {
    identity ??= getJson<Identity>(kv, KeyNamespaces.identity, 'self');
    const found = await identity;
    if (!found) throw new Error('this key store holds no identity');
    return found.keyPair;
  };
  return {
    remoteIdentity: (deviceId) => kv.get(KeyNamespaces.remoteIdentity, deviceId),
    identityKey: async () => (await own()).publicKey.slice(),
    identityAgree: async (publicKey) => {
      checkSerializedPublicKey(publicKey);
      return agree((await own()).privateKey, publicKey);
    },
  };
}

/**
 * Opens the preview a push carried (`preview`, base64, with the push's chat id) with the keys
 * in `kv`, reading only. Undefined when there is none this device can open.
 */
export async function openStoredPushPreview(
  kv: KeyValueStore,
  push: { chatId: string; preview: string },
): Promise<OpenedPreview | undefined> {
  let sealed: Uint8Array;
  try {
    sealed = base64Bytes(push.preview);
  } catch {
    return undefined;
  }
  try {
    return await openPreview(storedPreviewKeys(kv), push.chatId, sealed);
  } catch {
    return undefined; // no identity here, or a store that failed to read: the push says no more
  }
}
