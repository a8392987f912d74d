/**
 * End-to-end encrypted profiles. The owner's SDK encrypts name, about text and avatar pointer
 * with a profile key it shares only inside its encrypted messages; the server keeps the
 * ciphertext and the owner's version number, and nothing else. Who may read a profile: its
 * owner, and users who share a chat with the owner (the people who could have the key). To
 * anyone else a profile does not exist, so the answers tell a stranger nothing, and fetching
 * is rate limited. A new version is announced (`profileChanged`, no content) to the connected
 * devices of everyone who may read it; devices away catch up with `profileChanges`.
 *
 * A user the owner has blocked may not read it either: their notices, fetches and catch-ups
 * leave the owner out as if the profile did not exist (the block list is asked from memory,
 * once per owner, never per version).
 */
import { ParleyError } from '@parley/protocol';
import type { BlockCheck } from '../blocks/service.js';
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
  /** Who each owner blocked: a blocked user is no reader of the owner's profile. */
  blocks: BlockCheck;
  clock: Clock;
  limiters: Limiters;
  log: Logger;
  push(deviceIds: readonly DeviceId[], body: ProfilePush): void;
  /** Entries per profileChanges page; PROFILE_CHANGES_PAGE unless a test pages small. */
  changesPage?: number;
}

/** True when `owner` has blocked `reader`; no promise when the owner's list is in memory. */
function hides(blocks: BlockCheck, owner: UserId, reader: UserId): boolean | Promise<boolean> {
  return owner !== reader && blocks.isBlocked(owner, reader);
}

/** `profiles` without those whose owner blocked `reader`; the same array when none did. */
async function visibleTo<T extends { userId: UserId }>(
  blocks: BlockCheck,
  reader: UserId,
  profiles: T[],
): Promise<T[]> {
  let out: T[] | undefined;
  for (let i = 0; i < profiles.length; i++) {
    const p = profiles[i]!;
    let hidden = hides(blocks, p.userId, reader);
    if (typeof hidden !== 'boolean') hidden = await hidden;
    if (hidden) out ??= profiles.slice(0, i);
    else out?.push(p);
  }
  return out ?? profiles;
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
    const found = await this.d.store.profilesGet(device.userId, [...new Set(userIds)]);
    return visibleTo(this.d.blocks, device.userId, found);
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
    // Entries of owners who blocked the caller are left out. `more` and the caller's cursor
    // still follow the store's pages: a page left empty by that is skipped here, so an answer
    // with `more` always ends with an entry to continue after.
    const limit = this.d.changesPage ?? PROFILE_CHANGES_PAGE;
    let from = Number(since);
    let after = afterUserId;
    for (;;) {
      const page = await this.d.store.profileChanges(device.userId, from, after, limit);
      const more = page.length === limit;
      const profiles = await visibleTo(this.d.blocks, device.userId, page);
      if (profiles.length > 0 || !more) return { profiles, more, serverTime };
      const last = page[page.length - 1]!;
      from = last.updatedAt;
      after = last.userId;
    }
  }

  /** Tells the connected devices of every reader (not those the owner blocked), and the owner's other devices. */
  private async announce(device: Device, p: StoredProfile): Promise<void> {
    const readers = [device.userId, ...(await this.d.store.profileAudience(device.userId))];
    const deviceIds: DeviceId[] = [];
    for (const u of readers) {
      let hidden = hides(this.d.blocks, device.userId, u);
      if (typeof hidden !== 'boolean') hidden = await hidden;
      if (hidden) continue;
      for (const id of await this.d.directory.devicesOf(u)) if (id !== device.id) deviceIds.push(id);
    }
    this.d.push(deviceIds, {
      case: 'profileChanged',
      value: { userId: p.userId, version: BigInt(p.version), updatedAt: BigInt(p.updatedAt) },
    });
  }
}
