/**
 * Saved device profiles: `$PARLEY_HOME/<name>.json` holds the credentials (mode 0600, the
 * token is a bearer secret); beside it `<name>.store.json` the local cursor store,
 * `<name>.keys.db` the device's private keys and encryption sessions,
 * `<name>.history.db` the messages this device has read, in clear (both SQLite, 0600), and
 * `<name>.downloads/` the encrypted start of downloads that were cut off (kept-downloads.ts).
 * Writes are atomic (temp file + rename) so a crash never leaves half a profile.
 */
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Credentials } from '@parley/sdk';
import { CliError, UsageError } from './errors.js';

export interface Profile extends Credentials {
  /** The account's phone number (E.164), when this device registered with it. */
  phone?: string;
}

export interface ProfilePaths {
  home: string;
  credentials: string;
  store: string;
  /** Private keys and sessions: losing it means contacts see a new security code. */
  keys: string;
  /** Decrypted messages (the server keeps only ciphertext that could be read once). */
  history: string;
  /** Encrypted bytes of downloads cut off (`parley download`, `/save`), kept until saved. */
  downloads: string;
}

export function parleyHome(env: NodeJS.ProcessEnv): string {
  return env.PARLEY_HOME && env.PARLEY_HOME !== '' ? env.PARLEY_HOME : join(homedir(), '.parley');
}

export function profilePaths(home: string, name: string): ProfilePaths {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new UsageError(`bad profile name "${name}": use letters, digits, ".", "_" or "-"`);
  }
  return {
    home,
    credentials: join(home, `${name}.json`),
    store: join(home, `${name}.store.json`),
    keys: join(home, `${name}.keys.db`),
    history: join(home, `${name}.history.db`),
    downloads: join(home, `${name}.downloads`),
  };
}

function isProfile(v: unknown): v is Profile {
  const p = v as Partial<Profile> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.serverUrl === 'string' &&
    typeof p.userId === 'string' &&
    typeof p.deviceId === 'string' &&
    typeof p.token === 'string' &&
    typeof p.primary === 'boolean'
  );
}

/** Loads a profile; a missing one is a CliError telling how to create it. */
export async function loadProfile(paths: ProfilePaths, name: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(paths.credentials, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError(`no profile "${name}" in ${paths.home}: run "parley register" first`);
    }
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`profile ${paths.credentials} is not valid JSON`);
  }
  if (!isProfile(parsed)) throw new CliError(`profile ${paths.credentials} is missing fields`);
  return parsed;
}

export async function profileExists(paths: ProfilePaths): Promise<boolean> {
  try {
    await readFile(paths.credentials);
    return true;
  } catch {
    return false;
  }
}

/** Saves atomically with mode 0600 (the directory is created 0700). */
export async function saveProfile(paths: ProfilePaths, profile: Profile): Promise<void> {
  await mkdir(paths.home, { recursive: true, mode: 0o700 });
  const tmp = `${paths.credentials}.tmp-${process.pid}`;
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(profile, null, 2)}\n`, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  await chmod(tmp, 0o600); // in case the file existed with a wider mode
  await rename(tmp, paths.credentials);
}

/** Deletes a profile with its store, keys and history (e.g. after this device was removed). */
export async function deleteProfile(paths: ProfilePaths): Promise<void> {
  await rm(paths.credentials, { force: true });
  await resetLocalState(paths);
}

/**
 * Starts the store, keys, history and kept downloads afresh: a new device must not reuse old
 * cursors, and must make and publish its own keys.
 */
export async function resetLocalState(paths: ProfilePaths): Promise<void> {
  await rm(paths.store, { force: true });
  await rm(paths.downloads, { recursive: true, force: true });
  // SQLite's write-ahead log and shared-memory files go with their database.
  for (const db of [paths.keys, paths.history]) {
    for (const suffix of ['', '-wal', '-shm']) await rm(`${db}${suffix}`, { force: true });
  }
}
