/**
 * Opens a connected ParleyClient for a saved profile, with the file-backed cursor store
 * beside it. The first connection fails fast with one clear line (server down, device
 * revoked); after that the SDK reconnects by itself.
 */
import { ParleyClient } from '@parley/sdk';
import { FileLocalStore } from '@parley/sdk/node';
import { optional, type Values } from './args.js';
import { Contacts } from './contacts.js';
import { CliError } from './errors.js';
import { loadProfile, type Profile, parleyHome, profilePaths } from './profile.js';

export interface Session {
  client: ParleyClient;
  profile: Profile;
  contacts: Contacts;
  store: FileLocalStore;
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
  options: { receive: boolean },
): Promise<Session> {
  const { paths, profile } = await loadSessionProfile(values, env);
  const store = await FileLocalStore.open(paths.store);
  const client = new ParleyClient({ credentials: profile, store, receive: options.receive });
  const contacts = await Contacts.load(store, { userId: profile.userId, phone: profile.phone });
  await connectOrFail(client, profile.serverUrl);
  return { client, profile, contacts, store };
}

/** Resolves on the first welcome; the first failed attempt closes the client and throws. */
async function connectOrFail(client: ParleyClient, serverUrl: string): Promise<void> {
  let off = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failed = new Promise<never>((_, reject) => {
    off = client.on('disconnected', (d) => {
      const why = d.error?.message ?? (d.reason || `closed with code ${d.code}`);
      reject(new CliError(`cannot connect to ${serverUrl}: ${why}`));
    });
    timer = setTimeout(
      () => reject(new CliError(`cannot connect to ${serverUrl}: timed out`)),
      CONNECT_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([client.connect(), failed]);
  } catch (err) {
    await client.close();
    throw err;
  } finally {
    off();
    clearTimeout(timer);
  }
}
