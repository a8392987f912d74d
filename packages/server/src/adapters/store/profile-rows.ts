/** The `profiles` table rows as both SQL stores read them, and the records they stand for. */
import { ParleyError } from '@parley/protocol';
import type { ProfileVersionRecord, StoredProfile, UserId } from '../../ports/types.js';

export interface ProfileVersionRow {
  user_id: string;
  version: number;
  updated_at: number;
}

export interface ProfileRow extends ProfileVersionRow {
  ciphertext: Uint8Array;
}

export function toProfileVersion(r: ProfileVersionRow): ProfileVersionRecord {
  return { userId: r.user_id as UserId, version: Number(r.version), updatedAt: Number(r.updated_at) };
}

export function toProfile(r: ProfileRow): StoredProfile {
  // A copy that is a plain Uint8Array (the drivers hand out Buffers over shared pools).
  return { ...toProfileVersion(r), ciphertext: new Uint8Array(r.ciphertext) };
}

/** What profilePut answers when the upsert stored nothing: the stored version is not lower. */
export function staleVersion(version: number): ParleyError {
  return new ParleyError(
    'PROFILE_VERSION_STALE',
    `profile version ${version} is not newer than the stored one`,
  );
}
