/**
 * Opens a saved profile as an end-to-end encrypted session: a ParleyClient with the
 * file-backed cursor store, wrapped in SecureMessaging over the profile's key store, so a
 * restarted command resumes its sessions. Listeners go on before `start()`, which connects
 * (publishing this device's keys on first use) and fails fast with one clear line (server
 * down, device revoked); after that the SDK reconnects by itself.
 */
import { type KeyValueStore, ParleyClient, SecureMessaging } from '@parley/sdk';
import { FileLocalStore, LibsignalProtocol, nodeThumbnailer, SqliteKeyValueStore } from '@parley/sdk/node';
import { optional, type Values } from './args.js';
import { Contacts } from './contacts.js';
import { CliError } from './errors.js';
import { loadProfile, type Profile, type ProfilePaths, parleyHome, profilePaths } from './profile.js';

export interface Session {
  client: ParleyClient;
  secure: SecureMessaging;
  profile: Profile;
  paths: ProfilePaths;
  contacts: Contacts;
  store: FileLocalStore;
  /** The decrypted-history store, when opened with `history: true`. */
  history?: KeyValueStore;
  /** Calls `listener` with each contact whose security code changed; returns the unsubscribe. */
  onSecurityCodeChanged(listener: (userId: string) => void): () => void;
  /** Connects and starts decrypting; the first failure closes the session and throws. */
  start(): Promise<void>;
  /** Closes the connection and the key and history stores. */
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 15_000;

export async function loadSessionProfile(values: Values, env: NodeJS.ProcessEnv) {
  const name = optional(values, 'profile') ?? 'default';
  const paths = profilePaths(parleyHome(env), name);
  return { name, paths, profile: await loadProfile(paths, name) };
}

export async function openSession(
  values: Values,
  env: NodeJS.ProcessEnv,
  options: { receive: boolean; history?: boolean },
): Promise<Session> {
  const { paths, profile } = await loadSessionProfile(values, env);
  // The key store first: while another command holds the profile, this one stops here
  // (KEY_STORE_BUSY) before touching anything else of it.
  const keys = await SqliteKeyValueStore.open(paths.keys);
  let history: SqliteKeyValueStore | undefined;
  let store: FileLocalStore;
  let contacts: Contacts;
  try {
    if (options.history) history = await SqliteKeyValueStore.open(paths.history);
    store = await FileLocalStore.open(paths.store);
    contacts = await Contacts.load(store, { userId: profile.userId, phone: profile.phone });
  } catch (err) {
    await history?.close();
    await keys.close();
    throw err;
  }
  const client = new ParleyClient({ credentials: profile, store, receive: options.receive });
  // SecureMessaging reports new keys when a contact's device list changes. A device whose
  // identity key changed under the same id (its keys were lost, say) is only seen by the
  // protocol, by device id: it is named by the next message (or failure) from that device.
  const rekeyed = new Set<string>();
  const protocol = new LibsignalProtocol({
    store: keys,
    deviceId: profile.deviceId,
    onIdentityChange: (deviceId) => void rekeyed.add(deviceId),
  });
  // Files go with a thumbnail, dimensions and duration, and photos without their metadata.
  const secure = new SecureMessaging(client, protocol, keys, { thumbnailer: nodeThumbnailer() });
  // Names for ids: every decrypted profile, now and as contacts change theirs.
  secure.on('profileChanged', (p) => contacts.learnNames([p]));
  const onSecurityCodeChanged = (listener: (userId: string) => void) => {
    const check = (from: { senderDeviceId: string; senderUserId: string }) => {
      if (rekeyed.delete(from.senderDeviceId)) listener(from.senderUserId);
    };
    const offs = [
      secure.on('securityCodeChanged', ({ userId }) => listener(userId)),
      secure.on('message', check),
      secure.on('decryptFailed', check),
    ];
    return () => {
      for (const off of offs) off();
    };
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await client.close();
    await keys.close();
    await history?.close();
  };
  const start = async () => {
    try {
      contacts.learnNames(await secure.knownProfiles());
      await startOrFail(secure, profile.serverUrl);
    } catch (err) {
      await close();
      throw err;
    }
  };
  return {
    client,
    secure,
    profile,
    paths,
    contacts,
    store,
    ...(history && { history }),
    onSecurityCodeChanged,
    start,
    close,
  };
}

/** Connects once to publish this device's keys (a no-op after the first time). */
export async function publishKeys(values: Values, env: NodeJS.ProcessEnv): Promise<void> {
  const session = await openSession(values, env, { receive: false });
  await session.start();
  await session.close();
}

/** Resolves once connected (and the keys are published); the first failed attempt throws. */
async function startOrFail(secure: SecureMessaging, serverUrl: string): Promise<void> {
  let off = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failed = new Promise<never>((_, reject) => {
    off = secure.client.on('disconnected', (d) => {
      const why = d.error?.message ?? (d.reason || `closed with code ${d.code}`);
      reject(new CliError(`cannot connect to ${serverUrl}: ${why}`));
    });
    timer = setTimeout(
      () => reject(new CliError(`cannot connect to ${serverUrl}: timed out`)),
      CONNECT_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([secure.start(), failed]);
  } finally {
    off();
    clearTimeout(timer);
  }
}
