/**
 * The registration-lock part of the Store conformance suite (run by storeContract): the PIN
 * row, the wrong-PIN count and its lockout, held atomically however many tries race.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Store } from './store.js';
import type { DeviceId, UserId } from './types.js';

type StoreTest = (title: string, body: (store: Store) => Promise<void>) => void;

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const u1 = 'user-1' as UserId;
const u2 = 'user-2' as UserId;

async function addUser(store: Store, userId: UserId, now = T0): Promise<DeviceId> {
  const deviceId = `${userId}/phone` as DeviceId;
  await store.primaryRegister({
    userId,
    phone: userId === u1 ? '+15550000001' : '+15550000002',
    phoneHash: new TextEncoder().encode(`hash-${userId}`),
    deviceId,
    tokenHash: `token-${deviceId}`,
    name: 'phone',
    now,
  });
  return deviceId;
}

export function registrationLockContract(test: StoreTest): void {
  describe('registration lock', () => {
    test('registrationLockSet stores a PIN hash that registrationLockGet returns, with device activity', async (store) => {
      const phone = await addUser(store, u1);
      await addUser(store, u2);
      assert.equal(await store.registrationLockGet(u1), undefined);
      await store.registrationLockSet(u1, 'hash-a', T0 + 5);
      await store.devicesTouch([phone], T0 + 60_000);
      assert.deepEqual(await store.registrationLockGet(u1), {
        userId: u1,
        pinHash: 'hash-a',
        setAt: T0 + 5,
        failedAttempts: 0,
        lockedUntil: 0,
        lastDeviceSeenAt: T0 + 60_000,
      });
      assert.equal(await store.registrationLockGet(u2), undefined, 'the other user has no PIN');
    });

    test('lastDeviceSeenAt counts revoked devices too: the account was active until then', async (store) => {
      const phone = await addUser(store, u1);
      await store.registrationLockSet(u1, 'hash-a', T0);
      await store.devicesTouch([phone], T0 + DAY);
      await store.deviceRevoke(phone, T0 + DAY);
      assert.equal((await store.registrationLockGet(u1))?.lastDeviceSeenAt, T0 + DAY);
    });

    test('registrationLockSet replaces the PIN and clears the count and lockout', async (store) => {
      await addUser(store, u1);
      await store.registrationLockSet(u1, 'hash-a', T0);
      for (let i = 0; i < 3; i++) await store.registrationLockAttemptTake(u1, T0, 3, 7 * DAY);
      assert.equal((await store.registrationLockGet(u1))?.lockedUntil, T0 + 7 * DAY);
      await store.registrationLockSet(u1, 'hash-b', T0 + 1);
      const lock = await store.registrationLockGet(u1);
      assert.deepEqual(
        [lock?.pinHash, lock?.setAt, lock?.failedAttempts, lock?.lockedUntil],
        ['hash-b', T0 + 1, 0, 0],
      );
    });

    test('registrationLockDelete removes the PIN once', async (store) => {
      await addUser(store, u1);
      await store.registrationLockSet(u1, 'hash-a', T0);
      assert.equal(await store.registrationLockDelete(u1), true);
      assert.equal(await store.registrationLockGet(u1), undefined);
      assert.equal(await store.registrationLockDelete(u1), false);
    });

    test('registrationLockAttemptTake counts tries, locks out at the maximum, then takes none', async (store) => {
      await addUser(store, u1);
      await store.registrationLockSet(u1, 'hash-a', T0);
      for (let n = 1; n <= 2; n++) {
        const lock = await store.registrationLockAttemptTake(u1, T0, 3, 7 * DAY);
        assert.deepEqual(lock, {
          userId: u1,
          pinHash: 'hash-a',
          setAt: T0,
          failedAttempts: n,
          lockedUntil: 0,
        });
      }
      const last = await store.registrationLockAttemptTake(u1, T0 + 10, 3, 7 * DAY);
      assert.deepEqual([last?.failedAttempts, last?.lockedUntil], [3, T0 + 10 + 7 * DAY]);
      assert.equal(await store.registrationLockAttemptTake(u1, T0 + 7 * DAY, 3, 7 * DAY), undefined);
      assert.equal((await store.registrationLockGet(u1))?.failedAttempts, 3);
    });

    test('after a lockout ends, the next try starts the count again', async (store) => {
      await addUser(store, u1);
      await store.registrationLockSet(u1, 'hash-a', T0);
      for (let i = 0; i < 3; i++) await store.registrationLockAttemptTake(u1, T0, 3, DAY);
      const again = await store.registrationLockAttemptTake(u1, T0 + DAY, 3, DAY);
      assert.deepEqual([again?.failedAttempts, again?.lockedUntil], [1, 0]);
    });

    test('registrationLockAttemptTake takes nothing from a user without a PIN', async (store) => {
      await addUser(store, u1);
      assert.equal(await store.registrationLockAttemptTake(u1, T0, 3, DAY), undefined);
      assert.equal(await store.registrationLockGet(u1), undefined);
    });

    test('racing registrationLockAttemptTake calls take exactly the maximum, then lock out', async (store) => {
      await addUser(store, u1);
      await store.registrationLockSet(u1, 'hash-a', T0);
      const taken = await Promise.all(
        Array.from({ length: 30 }, () => store.registrationLockAttemptTake(u1, T0, 10, 7 * DAY)),
      );
      const counts = taken.flatMap((l) => (l ? [l.failedAttempts] : [])).sort((a, b) => a - b);
      assert.deepEqual(counts, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const lock = await store.registrationLockGet(u1);
      assert.deepEqual([lock?.failedAttempts, lock?.lockedUntil], [10, T0 + 7 * DAY]);
    });

    test('registrationLockAttemptsReset clears the count of the PIN it names only', async (store) => {
      await addUser(store, u1);
      await store.registrationLockSet(u1, 'hash-a', T0);
      for (let i = 0; i < 2; i++) await store.registrationLockAttemptTake(u1, T0, 3, DAY);
      await store.registrationLockAttemptsReset(u1, 'hash-other');
      assert.equal((await store.registrationLockGet(u1))?.failedAttempts, 2);
      await store.registrationLockAttemptTake(u1, T0, 3, DAY);
      await store.registrationLockAttemptsReset(u1, 'hash-a');
      const lock = await store.registrationLockGet(u1);
      assert.deepEqual([lock?.failedAttempts, lock?.lockedUntil], [0, 0]);
    });
  });
}
