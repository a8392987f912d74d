/**
 * The server secret keys the digests of registration and link codes (secrets.ts). Every node
 * sharing a store must use the same one, so a node on PostgreSQL or on a shared bus refuses to
 * start without `serverSecret`; a lone SQLite node generates one into <dataDir>/server-secret
 * (mode 0600) on its first start and reuses it. The secret is never logged or printed.
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ParleyError } from '@parley/protocol';
import type { Config } from '../config/schema.js';
import { dataDirFileOnce } from '../data-dir-file.js';

export const SERVER_SECRET_FILE = 'server-secret';

/**
 * The key for code digests. `shared`: this node shares its store with others (a bus was passed
 * in), which the config alone does not show.
 */
export function loadServerSecret(config: Config, shared = false): Buffer {
  if (config.serverSecret !== undefined) return Buffer.from(config.serverSecret, 'utf8');
  if (config.store !== 'sqlite' || config.bus !== 'local' || shared) {
    throw new ParleyError(
      'INVALID_ARGUMENT',
      'serverSecret is not set (--server-secret / PARLEY_SERVER_SECRET / PARLEY_SERVER_SECRET_FILE): ' +
        'nodes sharing a store must all use the same secret (e.g. the output of `openssl rand -hex 32`)',
    );
  }
  return dataDirSecret(resolve(config.dataDir));
}

/** <dir>/server-secret, created once with 32 random bytes (hex); concurrent starts agree on one. */
function dataDirSecret(dir: string): Buffer {
  const text = dataDirFileOnce(dir, SERVER_SECRET_FILE, () => `${randomBytes(32).toString('hex')}\n`).trim();
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new ParleyError(
      'INVALID_ARGUMENT',
      `${join(dir, SERVER_SECRET_FILE)} does not hold a server secret (64 hex digits); remove it to have a new one generated`,
    );
  }
  return Buffer.from(text, 'hex');
}
