/**
 * This browser's device: its keys and cursors in IndexedDB (databases named after the device),
 * its ticketed socket, and SecureMessaging, which uploads the device's keys on its first start.
 * One tab at a time holds the device (a Web Lock): two tabs would advance the same ratchets.
 */
import {
  BrowserE2eProtocol,
  browserThumbnailer,
  type Credentials,
  IndexedDbKeyValueStore,
  IndexedDbLocalStore,
  ParleyClient,
  SecureMessaging,
  ticketWebSocketFactory,
} from '@parley/sdk/browser';
import { Contacts } from './contacts.js';
import { Conversations } from './conversations.js';
import { History } from './history.js';
import { onlineSocketFactory } from './online-socket.js';

export interface WebDevice {
  client: ParleyClient;
  secure: SecureMessaging;
  /** Listening from before the socket opens, so nothing drained at connect is missed. */
  conversations: Conversations;
  /** Phone numbers of the people this device found by discovery. */
  contacts: Contacts;
  /** Settles once end-to-end messaging started (connected, keys uploaded), or failed to. */
  started: Promise<void>;
  /** Stops the socket and closes the databases; the lock is let go. */
  close(): Promise<void>;
}

const LOCK = 'parley-device';
const keysDb = (deviceId: string) => `parley-keys-${deviceId}`;
const localDb = (deviceId: string) => `parley-local-${deviceId}`;

/**
 * Takes the device lock: resolves with the function that lets it go once this tab holds it.
 * `busy` is called first when another tab holds it (this tab then waits its turn).
 */
export function holdDeviceLock(busy: () => void, signal: AbortSignal): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const hold = (lock: Lock | null) => {
      if (!lock) return false;
      return new Promise<void>((release) => resolve(release));
    };
    navigator.locks.request(LOCK, { ifAvailable: true }, hold).then((got) => {
      if (got !== false) return;
      busy();
      navigator.locks.request(LOCK, { signal }, hold).catch(reject);
    }, reject);
  });
}

/**
 * Opens the device's stores and its history, and starts end-to-end messaging (connects,
 * uploads keys once) without waiting for it: the history shows while the socket opens.
 */
export async function openDevice(credentials: Credentials): Promise<WebDevice> {
  const keys = await IndexedDbKeyValueStore.open(keysDb(credentials.deviceId));
  const store = await IndexedDbLocalStore.open(localDb(credentials.deviceId));
  const client = new ParleyClient({
    credentials,
    store,
    webSocketFactory: onlineSocketFactory(ticketWebSocketFactory(credentials.serverUrl)),
  });
  const protocol = new BrowserE2eProtocol({ store: keys, deviceId: credentials.deviceId });
  // Photos leave without their EXIF/GPS metadata and with a thumbnail inside the encryption.
  const secure = new SecureMessaging(client, protocol, keys, { thumbnailer: browserThumbnailer() });
  const conversations = await Conversations.open(secure, new History(store));
  const contacts = await Contacts.open(store);
  await contacts.followProfiles(secure, () => conversations.touch());
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await secure.close();
      await keys.close();
      store.close();
    })();
    return closing;
  };
  const started = secure.start();
  // Keep the keys: the browser may otherwise evict them under storage pressure.
  void navigator.storage?.persist?.().catch(() => false);
  return { client, secure, conversations, contacts, started, close };
}

/** Deletes the device's databases (after logging out: its keys are of no further use). */
export function forgetDevice(deviceId: string): void {
  for (const name of [keysDb(deviceId), localDb(deviceId)]) indexedDB.deleteDatabase(name);
}
