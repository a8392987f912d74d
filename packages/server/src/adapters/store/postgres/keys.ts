/**
 * The key directory: public keys only. Uploads for one device run one after another (the
 * device row is locked first); a one-time prekey is taken with DELETE ... RETURNING over a
 * SKIP LOCKED pick, so it is handed out at most once whatever the number of nodes. Bundle
 * takes of one device queue on its key row, so its grants (who got a one-time prekey, when)
 * ration them exactly.
 */
import { ParleyError } from '@parley/protocol';
import type { BundleTake, KeysUploadInput } from '../../../ports/store.js';
import type { DeviceIdentity, PreKeyBundleRecord, UserId } from '../../../ports/types.js';
import {
  bundleOf,
  checkSameIdentity,
  firstUploadKeys,
  type GrantsSeen,
  grantsCutoff,
  HOUR_MS,
  identityOf,
  type KeyRow,
  oneTimeAllowed,
} from '../key-rows.js';
import type { Db } from './db.js';
import { buf } from './rows.js';

type UserKeyRow = KeyRow & { user_id: string };

export async function uploadKeys(db: Db, input: KeysUploadInput): Promise<{ oneTimeCount: number }> {
  const id = input.deviceId;
  await db.rows('deviceLock', [id]);
  const [row] = await db.rows<{ identity_key: Buffer; registration_id: number }>('keysGet', [id]);
  if (!row) {
    const { identityKey, registrationId, sp, lr } = firstUploadKeys(input);
    await db.count('keysInsert', [
      id,
      buf(identityKey),
      registrationId,
      sp.id,
      buf(sp.publicKey),
      buf(sp.signature),
      lr.id,
      buf(lr.publicKey),
      buf(lr.signature),
      input.now,
    ]);
  } else {
    checkSameIdentity(row, input);
    const sp = input.signedPreKey;
    if (sp) await db.count('keysSetSigned', [id, sp.id, buf(sp.publicKey), buf(sp.signature), input.now]);
    const lr = input.lastResortKey;
    if (lr) await db.count('keysSetLastResort', [id, lr.id, buf(lr.publicKey), buf(lr.signature), input.now]);
  }
  if (input.replaceOneTime) await db.count('oneTimeDeleteAll', [id]);
  const [{ n } = { n: 0 }] = await db.rows<{ n: number }>('oneTimeCount', [id]);
  const keys = input.oneTimePreKeys;
  if (n + keys.length > input.maxOneTime) {
    throw new ParleyError('INVALID_ARGUMENT', `a device stores at most ${input.maxOneTime} one-time prekeys`);
  }
  if (keys.length > 0) {
    const stored = await db.rows<{ key_id: number }>('oneTimeInsert', [
      id,
      keys.map((k) => k.id),
      keys.map((k) => buf(k.publicKey)),
    ]);
    if (stored.length !== keys.length) {
      // Rolled back by the throw: a rejected upload changes nothing.
      const fresh = new Set(stored.map((r) => r.key_id));
      const repeated = keys.find((k) => !fresh.delete(k.id));
      throw new ParleyError('INVALID_ARGUMENT', `one-time prekey ${repeated?.id} was already uploaded`);
    }
  }
  return { oneTimeCount: n + keys.length };
}

export async function takeBundles(db: Db, take: BundleTake): Promise<PreKeyBundleRecord[]> {
  const out: PreKeyBundleRecord[] = [];
  const only = take.deviceIds && new Set<string>(take.deviceIds);
  for (const r of await db.rows<UserKeyRow>('keysOfUsers', [[take.userId]])) {
    if (only && !only.has(r.device_id)) continue;
    const otk = await takeOneTime(db, r.device_id, take);
    const [{ n } = { n: 0 }] = await db.rows<{ n: number }>('oneTimeCount', [r.device_id]);
    out.push(bundleOf(take.userId, r, otk, n));
  }
  return out;
}

/** The device's next one-time prekey if the requester may have one now (recording the grant). */
async function takeOneTime(db: Db, deviceId: string, take: BundleTake) {
  // Takes of one device queue here (devices in the same order, so no deadlock): two nodes
  // cannot both see room left in the budget, or both see no grant for the same requester.
  await db.rows('keysLock', [deviceId]);
  await db.count('grantsPrune', [deviceId, grantsCutoff(take)]);
  const [seen] = await db.rows<GrantsSeen>('grantsSeen', [deviceId, take.requester, take.now - HOUR_MS]);
  if (!seen || !oneTimeAllowed(take, seen)) return undefined;
  const [otk] = await db.rows<{ key_id: number; public_key: Buffer }>('oneTimeTake', [deviceId]);
  if (otk) await db.count('grantRecord', [deviceId, take.requester, take.now]);
  return otk;
}

/** Identity keys grouped by user, in the order the users are given (each once). */
export async function identities(db: Db, userIds: readonly UserId[]): Promise<DeviceIdentity[]> {
  const unique = [...new Set(userIds)];
  const rows = await db.rows<UserKeyRow>('keysOfUsers', [unique]);
  return unique.flatMap((userId) =>
    rows.filter((r) => r.user_id === userId).map((r) => identityOf(userId, r)),
  );
}
