/**
 * The Store contract for contact discovery's daily budget of new numbers
 * (discoveryLookupsTake, discoveryLookupsExpire), run by storeContract against every backend.
 */
import assert from 'node:assert/strict';
import type { Store } from './store.js';
import type { UserId } from './types.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const U1 = 'user-1' as UserId;
const U2 = 'user-2' as UserId;
const digests = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

type Test = (title: string, body: (store: Store) => Promise<void>) => void;

export function discoveryContract(test: Test): void {
  const take = (store: Store, userId: UserId, ds: readonly string[], now: number, budget = 5) =>
    store.discoveryLookupsTake({ userId, digests: ds, now, windowMs: DAY, budget });

  test('discoveryLookupsTake counts each new digest once and repeats for free', async (store) => {
    assert.deepEqual(await take(store, U1, ['a', 'b', 'b', 'c'], T0), { ok: true, fresh: 3 });
    assert.deepEqual(await take(store, U1, ['a', 'b', 'c'], T0 + 1), { ok: true, fresh: 0 });
    assert.deepEqual(await take(store, U1, ['c', 'd', 'e'], T0 + 2), { ok: true, fresh: 2 });
    // Budget 5 is spent: repeats still pass, one more new digest does not.
    assert.deepEqual(await take(store, U1, ['a', 'e'], T0 + 3), { ok: true, fresh: 0 });
    assert.deepEqual(await take(store, U1, ['a', 'f'], T0 + 4), { ok: false, fresh: 1, retryAt: T0 + DAY });
    // Another user has a budget of their own.
    assert.deepEqual(await take(store, U2, ['a', 'b', 'c', 'd', 'e'], T0 + 5), { ok: true, fresh: 5 });
  });

  test('a refused request records nothing and names when enough lookups are a day old', async (store) => {
    await take(store, U1, ['a', 'b'], T0);
    await take(store, U1, ['c', 'd'], T0 + 10);
    // 4 remembered + 3 fresh = 7 > 5: the two oldest (at T0) must go first.
    assert.deepEqual(await take(store, U1, ['x', 'y', 'z'], T0 + 20), {
      ok: false,
      fresh: 3,
      retryAt: T0 + DAY,
    });
    assert.deepEqual(await take(store, U1, ['x'], T0 + 21), { ok: true, fresh: 1 });
    // More new digests than the whole budget: no time makes them fit.
    assert.deepEqual(await take(store, U1, digests('n', 6), T0 + 22), {
      ok: false,
      fresh: 6,
      retryAt: undefined,
    });
    // At T0 + DAY the first two are forgotten: they are new again, and there is room.
    assert.deepEqual(await take(store, U1, ['a', 'y'], T0 + DAY), { ok: true, fresh: 2 });
  });

  test('racing discoveryLookupsTake calls of one user never record more than the budget', async (store) => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => take(store, U1, [`r-${i}`], T0, 5)),
    );
    assert.equal(answers.filter((a) => a.ok).length, 5);
    assert.equal((await take(store, U1, ['late'], T0 + 1, 5)).ok, false);
  });

  test('discoveryLookupsExpire forgets lookups older than the cutoff, in batches', async (store) => {
    await take(store, U1, ['a', 'b', 'c'], T0);
    await take(store, U2, ['a'], T0 + 100);
    assert.equal(await store.discoveryLookupsExpire(T0, 10), 0);
    assert.equal(await store.discoveryLookupsExpire(T0 + 1, 2), 2);
    assert.equal(await store.discoveryLookupsExpire(T0 + 1, 10), 1);
    assert.equal(await store.discoveryLookupsExpire(T0 + 101, 10), 1);
    // Forgotten lookups are new again.
    assert.deepEqual(await take(store, U1, ['a', 'b'], T0 + 200), { ok: true, fresh: 2 });
  });
}
