/**
 * VAPID keys for a node that turns Web Push on with a subject alone: a lone SQLite node
 * generates a pair into <dataDir>/vapid-keys.json (mode 0600) on its first start and keeps it,
 * since browsers subscribe to the public key and a new pair would orphan every subscription.
 * Nodes sharing a store must all sign with one pair, so they must be given it.
 */
import { resolve } from 'node:path';
import { ParleyError } from '@parley/protocol';
import { dataDirFileOnce } from '../../../data-dir-file.js';
import { generateVapidKeys, type VapidKeys } from './vapid.js';

export const VAPID_KEYS_FILE = 'vapid-keys.json';

export interface VapidFileSettings {
  pushVapidSubject?: string | undefined;
  pushVapidPublicKey?: string | undefined;
  pushVapidPrivateKey?: string | undefined;
  dataDir: string;
}

/**
 * The generated pair, when Web Push has a subject and no keys are set; undefined otherwise
 * (set keys, or no Web Push). `lone`: no other node shares this node's store.
 */
export function dataDirVapidKeys(config: VapidFileSettings, lone: boolean): VapidKeys | undefined {
  if (config.pushVapidSubject === undefined) return undefined;
  // Set (or half set, which createPushProviders refuses naming the missing one).
  if (config.pushVapidPublicKey !== undefined || config.pushVapidPrivateKey !== undefined) return undefined;
  if (!lone) {
    throw new ParleyError(
      'INVALID_ARGUMENT',
      'Web Push on nodes sharing a store needs pushVapidPublicKey and pushVapidPrivateKey ' +
        '(--push-vapid-public-key / PARLEY_PUSH_VAPID_PUBLIC_KEY, --push-vapid-private-key / ' +
        'PARLEY_PUSH_VAPID_PRIVATE_KEY): every node must sign with the same pair (see docs/push-providers.md)',
    );
  }
  const dir = resolve(config.dataDir);
  const text = dataDirFileOnce(dir, VAPID_KEYS_FILE, () => `${JSON.stringify(generateVapidKeys())}\n`);
  let keys: Partial<VapidKeys> | undefined;
  try {
    keys = JSON.parse(text) as Partial<VapidKeys>;
  } catch {
    keys = undefined;
  }
  if (
    typeof keys?.publicKey !== 'string' ||
    typeof keys.privateKey !== 'string' ||
    !/^[A-Za-z0-9_-]{86,88}$/.test(keys.publicKey) ||
    !/^[A-Za-z0-9_-]{42,44}$/.test(keys.privateKey)
  ) {
    throw new ParleyError(
      'INVALID_ARGUMENT',
      `${dir}/${VAPID_KEYS_FILE} does not hold a VAPID key pair; remove it to have a new one generated ` +
        '(browsers then subscribe again)',
    );
  }
  return { publicKey: keys.publicKey, privateKey: keys.privateKey };
}
