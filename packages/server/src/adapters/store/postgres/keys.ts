/**
 * The key directory: public keys only. Uploads for one device run one after another (the
 * device row is locked first); a one-time prekey is taken with DELETE ... RETURNING over a
 * SKIP LOCKED pick, so it is handed out at most once whatever the number of nodes.
 */
import { ParleyError } from '@parley/protocol';
import type { KeysUploadInput } from '../../../ports/store.js';
import type { DeviceId, DeviceIdentity, PreKeyBundleRecord, UserId } from '../../../ports/types.js';
import { bundleOf, checkSameIdentity, firstUploadKeys, identityOf, type KeyRow } from '../key-rows.js';
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

export async function takeBundles(
  db: Db,
  userId: UserId,
  deviceIds?: readonly DeviceId[],
): Promise<PreKeyBundleRecord[]> {
  const out: PreKeyBundleRecord[] = [];
  const only = deviceIds && new Set<string>(deviceIds);
  for (const r of await db.rows<UserKeyRow>('keysOfUsers', [[userId]])) {
    if (only && !only.has(r.device_id)) continue;
    const [otk] = await db.rows<{ key_id: number; public_key: Buffer }>('oneTimeTake', [r.device_id]);
    const [{ n } = { n: 0 }] = await db.rows<{ n: number }>('oneTimeCount', [r.device_id]);
    out.push(bundleOf(userId, r, otk, n));
  }
  return out;
}

/** Identity keys grouped by user, in the order the users are given (each once). */
export async function identities(db: Db, userIds: readonly UserId[]): Promise<DeviceIdentity[]> {
  const unique = [...new Set(userIds)];
  const rows = await db.rows<UserKeyRow>('keysOfUsers', [unique]);
  return unique.flatMap((userId) =>
    rows.filter((r) => r.user_id === userId).map((r) => identityOf(userId, r)),
  );
}
