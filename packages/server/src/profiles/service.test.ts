import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { BlockService } from '../blocks/service.js';
import { loadConfig } from '../config/load.js';
import { Limiters } from '../limits/limiters.js';
import { ManualClock } from '../ports/clock.js';
import { type Account, addUser, bytes, chatInput, T0 } from '../ports/store-fixtures.js';
import type { Device, DeviceId, UserId } from '../ports/types.js';
import { type ProfilePush, ProfileService } from './service.js';

const deviceOf = (a: Account): Device => ({
  id: a.deviceId,
  userId: a.userId,
  primary: true,
  name: 'phone',
  createdAt: T0,
  lastSeenAt: T0,
});

/** A viewer in one group with seven owners, each with a profile stored a millisecond apart. */
async function setup() {
  const store = new SqliteStore({ path: ':memory:' });
  const viewer = await addUser(store, 1);
  const owners: Account[] = [];
  for (let i = 2; i <= 8; i++) owners.push(await addUser(store, i));
  await store.chatCreate(chatInput('g', viewer, owners));
  for (const [i, o] of owners.entries())
    await store.profilePut({ userId: o.userId, version: 1, ciphertext: bytes(`sealed ${i}`), now: T0 + i });
  const clock = new ManualClock(T0 + 100);
  const blocks = new BlockService({
    store,
    now: () => clock.now(),
    maxEntries: 100,
    devicesOf: async (u) => [`${u}/phone`],
    push: () => {},
  });
  const pushes: Array<{ to: readonly DeviceId[]; body: ProfilePush }> = [];
  const profiles = new ProfileService({
    store,
    directory: { devicesOf: async (u: UserId) => [`${u}/phone` as DeviceId] },
    blocks,
    clock,
    limiters: new Limiters(loadConfig({})),
    log: pino({ level: 'silent' }),
    push: (to, body) => pushes.push({ to, body }),
    changesPage: 2,
  });
  return { store, viewer, owners, blocks, profiles, pushes };
}

describe('ProfileService and blocks', () => {
  it('leaves the profiles of owners who blocked the caller out of getProfiles', async () => {
    const { viewer, owners, blocks, profiles } = await setup();
    await blocks.block(owners[1]!.userId, viewer.userId, 'x');
    const got = await profiles.get(
      deviceOf(viewer),
      owners.map((o) => o.userId),
    );
    assert.deepEqual(
      got.map((p) => p.userId).sort(),
      owners
        .filter((_, i) => i !== 1)
        .map((o) => o.userId)
        .sort(),
    );
    // The blocker still reads the blocked user's profile, and its own.
    const own = await profiles.get(deviceOf(owners[1]!), [owners[1]!.userId, owners[0]!.userId]);
    assert.equal(own.length, 2);
  });

  it('pages profileChanges past owners who blocked the caller, never answering an empty page with more', async () => {
    const { viewer, owners, blocks, profiles } = await setup();
    // Entries 1-4 (0-based) are of blockers: with pages of 2, one raw page is all blockers.
    for (const i of [1, 2, 3, 4]) await blocks.block(owners[i]!.userId, viewer.userId, 'x');
    const seen: string[] = [];
    const pages: number[] = [];
    let since = 0n;
    let after: UserId | '' = '';
    for (let n = 0; n < 20; n++) {
      const page = await profiles.changes(deviceOf(viewer), since, after);
      pages.push(page.profiles.length);
      seen.push(...page.profiles.map((p) => p.userId));
      const last = page.profiles.at(-1);
      if (!page.more) break;
      assert.ok(last, 'a page with more has an entry to continue after');
      since = BigInt(last.updatedAt);
      after = last.userId;
    }
    assert.deepEqual(
      seen,
      [0, 5, 6].map((i) => owners[i]!.userId),
    );
    assert.deepEqual(pages, [1, 2, 0], 'the empty raw pages of blockers were skipped');
  });

  it('announces a new version to co-members but not to those the owner blocked', async () => {
    const { viewer, owners, blocks, profiles, pushes } = await setup();
    const owner = owners[0]!;
    await blocks.block(owner.userId, viewer.userId, 'x');
    await profiles.set(deviceOf(owner), 2n, bytes('sealed again'));
    for (let i = 0; i < 50 && pushes.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(pushes.length, 1);
    const to = new Set(pushes[0]!.to);
    assert.equal(to.has(viewer.deviceId), false, 'the blocked user hears nothing');
    for (const o of owners.slice(1)) assert.ok(to.has(`${o.userId}/phone` as DeviceId));
    // After the unblock, the next version reaches them again.
    await blocks.unblock(owner.userId, viewer.userId, 'x');
    await profiles.set(deviceOf(owner), 3n, bytes('sealed a third time'));
    for (let i = 0; i < 50 && pushes.length === 1; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(pushes[1]!.to.includes(`${viewer.userId}/phone` as DeviceId));
  });
});
