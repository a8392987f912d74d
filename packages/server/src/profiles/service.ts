/**
 * End-to-end encrypted profiles. The owner's SDK encrypts name, about text and avatar pointer
 * with a profile key it shares only inside its encrypted messages; the server keeps the
 * ciphertext and the owner's version number, and nothing else. Who may read a profile: its
 * owner, and users who share a chat with the owner (the people who could have the key). To
 * anyone else a profile does not exist, so the answers tell a stranger nothing, and fetching
 * is rate limited. A new version is announced (`profileChanged`, no content) to the connected
 * devices of everyone who may read it; devices away catch up with `profileChanges`.
 */
import { ParleyError } from '@parley/protocol';
import type { Directory } from '../chat/directory.js';
import type { Limiters } from '../limits/limiters.js';
import type { Logger } from '../log.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { Device, DeviceId, ProfileVersionRecord, StoredProfile, UserId } from '../ports/types.js';

/** Largest profile ciphertext: a padded profile is about 1 KiB; this leaves room for later fields. */
export const PROFILE_MAX_BYTES = 4096;
/** Users per getProfiles request. */
export const PROFILES_PER_REQUEST = 256;
/** Entries per profileChanges page. */
export const PROFILE_CHANGES_PAGE = 500;

export type ProfilePush = {
  case: 'profileChanged';
  value: { userId: string; version: bigint; updatedAt: bigint };
};

export interface ProfileDeps {
  store: Pick<Store, 'profilePut' | 'profilesGet' | 'profileChanges' | 'profileAudience'>;
  directory: Pick<Directory, 'devicesOf'>;
  clock: Clock;
  limiters: Limiters;
  log: Logger;
  push(deviceIds: readonly DeviceId[], body: ProfilePush): void;
}

function versionOf(v: bigint, field: string): number {
  if (v < 1n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ParleyError('INVALID_ARGUMENT', `${field} must be 1..${Number.MAX_SAFE_INTEGER}`);
  }
  return Number(v);
}

export class ProfileService {
  constructor(private readonly d: ProfileDeps) {}

  /** Stores version `version` of the caller's profile and announces it. */
  async set(device: Device, version: bigint, ciphertext: Uint8Array): Promise<StoredProfile> {
    const v = versionOf(version, 'version');
    if (ciphertext.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'ciphertext is empty');
    if (ciphertext.length > PROFILE_MAX_BYTES) {
      throw new ParleyError('PAYLOAD_TOO_LARGE', `a profile is at most ${PROFILE_MAX_BYTES} bytes`);
    }
    await this.d.limiters.take('profileUpdates', device.userId);
    const stored = await this.d.store.profilePut({
      userId: device.userId,
      version: v,
      ciphertext,
      now: this.d.clock.now(),
    });
    this.announce(device, stored).catch((err) =>
      this.d.log.warn({ err, userId: device.userId }, 'could not announce a new profile version'),
    );
    return stored;
  }

  /** The profiles of `userIds` the caller may read (see the module comment). */
  async get(device: Device, userIds: readonly UserId[]): Promise<StoredProfile[]> {
    if (userIds.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'userIds is empty');
    if (userIds.length > PROFILES_PER_REQUEST) {
      throw new ParleyError('INVALID_ARGUMENT', `at most ${PROFILES_PER_REQUEST} userIds`);
    }
    await this.d.limiters.take('profileReads', device.userId);
    return this.d.store.profilesGet(device.userId, [...new Set(userIds)]);
  }

  /** A page of the versions the caller may read stored at or after `since` (see protocol.md). */
  async changes(
    device: Device,
    since: bigint,
    afterUserId: UserId | '',
  ): Promise<{ profiles: ProfileVersionRecord[]; more: boolean; serverTime: number }> {
    if (since > BigInt(Number.MAX_SAFE_INTEGER))
      throw new ParleyError('INVALID_ARGUMENT', 'since out of range');
    await this.d.limiters.take('profileReads', device.userId);
    // Taken before the read: a version stored meanwhile is at or after it, so the next
    // catch-up from it sees that version again rather than missing it.
    const serverTime = this.d.clock.now();
    const profiles = await this.d.store.profileChanges(
      device.userId,
      Number(since),
      afterUserId,
      PROFILE_CHANGES_PAGE,
    );
    return { profiles, more: profiles.length === PROFILE_CHANGES_PAGE, serverTime };
  }

  /** Tells the connected devices of every reader, and the owner's other devices. */
  private async announce(device: Device, p: StoredProfile): Promise<void> {
    const readers = [device.userId, ...(await this.d.store.profileAudience(device.userId))];
    const deviceIds: DeviceId[] = [];
    for (const u of readers) {
      for (const id of await this.d.directory.devicesOf(u)) if (id !== device.id) deviceIds.push(id);
    }
    this.d.push(deviceIds, {
      case: 'profileChanged',
      value: { userId: p.userId, version: BigInt(p.version), updatedAt: BigInt(p.updatedAt) },
    });
  }
}
