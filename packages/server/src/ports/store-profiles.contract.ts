/**
 * The Store contract for end-to-end encrypted profiles (profilePut, profilesGet,
 * profileChanges, profileAudience), run by storeContract against every backend: versions only
 * go up, and a profile is visible to its owner and to users who share a chat with the owner.
 */
import assert from 'node:assert/strict';
import type { Store } from './store.js';
import { type Account, addUser, bytes, chatInput, T0 } from './store-fixtures.js';
import type { UserId } from './types.js';

type Test = (title: string, body: (store: Store) => Promise<void>) => void;

const put = (store: Store, who: Account, version: number, text: string, now = T0) =>
  store.profilePut({ userId: who.userId, version, ciphertext: bytes(text), now });

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sorted = (ids: readonly string[]) => [...ids].sort();

export function profilesContract(test: Test): void {
  test('profilePut stores a version that profilesGet returns to its owner', async (store) => {
    const a = await addUser(store, 1);
    const stored = await put(store, a, 1, 'sealed-1', T0 + 5);
    assert.deepEqual(
      { ...stored, ciphertext: text(stored.ciphertext) },
      {
        userId: a.userId,
        version: 1,
        ciphertext: 'sealed-1',
        updatedAt: T0 + 5,
      },
    );
    const [got, ...rest] = await store.profilesGet(a.userId, [a.userId]);
    assert.deepEqual(rest, []);
    assert.ok(got?.ciphertext instanceof Uint8Array);
    assert.deepEqual(got && { ...got, ciphertext: text(got.ciphertext) }, {
      userId: a.userId,
      version: 1,
      ciphertext: 'sealed-1',
      updatedAt: T0 + 5,
    });
  });

  test('profilePut with a version not above the stored one is PROFILE_VERSION_STALE and keeps the stored one', async (store) => {
    const a = await addUser(store, 1);
    await put(store, a, 5, 'five');
    await assert.rejects(put(store, a, 5, 'again'), { name: 'ParleyError', code: 'PROFILE_VERSION_STALE' });
    await assert.rejects(put(store, a, 2, 'older'), { name: 'ParleyError', code: 'PROFILE_VERSION_STALE' });
    const [got] = await store.profilesGet(a.userId, [a.userId]);
    assert.deepEqual([got?.version, text(got!.ciphertext)], [5, 'five']);
    await put(store, a, 9, 'nine', T0 + 1);
    const [next] = await store.profilesGet(a.userId, [a.userId]);
    assert.deepEqual([next?.version, text(next!.ciphertext), next?.updatedAt], [9, 'nine', T0 + 1]);
  });

  test('racing puts of one version store exactly one of them', async (store) => {
    const a = await addUser(store, 1);
    const results = await Promise.allSettled([
      put(store, a, 3, 'x'),
      put(store, a, 3, 'y'),
      put(store, a, 3, 'z'),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.equal((r.reason as { code: string }).code, 'PROFILE_VERSION_STALE');
    }
  });

  test('profilesGet returns profiles of users sharing a chat, and nothing of strangers', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    const stranger = await addUser(store, 3);
    await store.chatCreate(chatInput('g', a, [b]));
    await put(store, a, 1, 'a');
    await put(store, b, 1, 'b');
    await put(store, stranger, 1, 's');
    const seen = await store.profilesGet(a.userId, [a.userId, b.userId, stranger.userId, 'nobody' as UserId]);
    assert.deepEqual(sorted(seen.map((p) => p.userId)), [a.userId, b.userId]);
    const byStranger = await store.profilesGet(stranger.userId, [a.userId, b.userId]);
    assert.deepEqual(byStranger, [], 'a stranger sees no profile, as if none existed');
  });

  test('a member removed from the only shared chat no longer sees the profile', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    await store.chatCreate(chatInput('g', a, [b]));
    await put(store, a, 1, 'a');
    assert.equal((await store.profilesGet(b.userId, [a.userId])).length, 1);
    await store.chatMutate({
      chatId: 'g' as never,
      actorUserId: a.userId,
      actorDeviceId: a.deviceId,
      now: T0 + 1,
      update: bytes('removed'),
      removeUserIds: [b.userId],
    });
    assert.deepEqual(await store.profilesGet(b.userId, [a.userId]), []);
    assert.deepEqual(await store.profileChanges(b.userId, 0, '', 10), []);
    assert.deepEqual(await store.profileAudience(a.userId), []);
  });

  test('profileChanges pages the versions of the viewer and co-members by (updatedAt, userId)', async (store) => {
    const users = await Promise.all([1, 2, 3, 4, 5].map((n) => addUser(store, n)));
    const [a, b, c, d, stranger] = users as [Account, Account, Account, Account, Account];
    await store.chatCreate(chatInput('g', a, [b, c]));
    await store.chatCreate(chatInput('h', d, [a], 'direct'));
    await put(store, a, 1, 'a', T0 + 10);
    await put(store, b, 1, 'b', T0 + 20);
    await put(store, c, 1, 'c', T0 + 20);
    await put(store, d, 4, 'd', T0 + 30);
    await put(store, stranger, 1, 's', T0 + 20);
    const all = await store.profileChanges(a.userId, 0, '', 10);
    assert.deepEqual(all, [
      { userId: a.userId, version: 1, updatedAt: T0 + 10 },
      { userId: b.userId, version: 1, updatedAt: T0 + 20 },
      { userId: c.userId, version: 1, updatedAt: T0 + 20 },
      { userId: d.userId, version: 4, updatedAt: T0 + 30 },
    ]);
    // Pages of two: the second starts after (T0 + 20, b), so c at the same time is not lost.
    const first = await store.profileChanges(a.userId, 0, '', 2);
    assert.deepEqual(
      first.map((p) => p.userId),
      [a.userId, b.userId],
    );
    const second = await store.profileChanges(a.userId, T0 + 20, b.userId, 2);
    assert.deepEqual(
      second.map((p) => p.userId),
      [c.userId, d.userId],
    );
    // `since` alone includes versions stored at that very time.
    assert.deepEqual(
      (await store.profileChanges(a.userId, T0 + 20, '', 10)).map((p) => p.userId),
      [b.userId, c.userId, d.userId],
    );
    assert.deepEqual(await store.profileChanges(a.userId, T0 + 31, '', 10), []);
  });

  test('profileAudience lists everyone sharing a chat once, not the user', async (store) => {
    const [a, b, c, d] = (await Promise.all([1, 2, 3, 4].map((n) => addUser(store, n)))) as Account[];
    await store.chatCreate(chatInput('g', a!, [b!, c!]));
    await store.chatCreate(chatInput('h', a!, [b!], 'direct'));
    assert.deepEqual(sorted(await store.profileAudience(a!.userId)), [b!.userId, c!.userId]);
    assert.deepEqual(sorted(await store.profileAudience(b!.userId)), [a!.userId, c!.userId]);
    assert.deepEqual(await store.profileAudience(d!.userId), []);
  });
}
