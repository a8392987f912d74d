/**
 * The conformance suite every LocalStore passes. `make` returns a fresh empty store and a
 * `reopen` that gives a new instance over the same storage (or the same one for memory).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LocalStore } from './local-store.js';

export interface LocalStoreFixture {
  store: LocalStore;
  reopen(): Promise<LocalStore>;
}

export function localStoreContract(name: string, make: () => Promise<LocalStoreFixture>): void {
  test(`${name}: an unknown chat has cursor 0`, async () => {
    const { store } = await make();
    assert.equal(await store.getCursor('c1'), 0);
  });

  test(`${name}: cursors are raised and survive reopening`, async () => {
    const { store, reopen } = await make();
    await store.setCursors([
      { chatId: 'c1', seq: 5 },
      { chatId: 'c2', seq: 1 },
    ]);
    await store.setCursors([{ chatId: 'c1', seq: 7 }]);
    const again = await reopen();
    assert.equal(await again.getCursor('c1'), 7);
    assert.equal(await again.getCursor('c2'), 1);
  });

  test(`${name}: a cursor never moves backwards`, async () => {
    const { store } = await make();
    await store.setCursors([{ chatId: 'c1', seq: 9 }]);
    await store.setCursors([{ chatId: 'c1', seq: 3 }]);
    assert.equal(await store.getCursor('c1'), 9);
  });

  test(`${name}: saved values load back as copies and survive reopening`, async () => {
    const { store, reopen } = await make();
    const value = { contacts: { u1: '+15550001111' } };
    await store.save('contacts', value);
    value.contacts.u1 = 'changed';
    assert.deepEqual(await store.load('contacts'), { contacts: { u1: '+15550001111' } });
    assert.equal(await store.load('missing'), undefined);
    const again = await reopen();
    assert.deepEqual(await again.load('contacts'), { contacts: { u1: '+15550001111' } });
  });

  test(`${name}: concurrent writes all land`, async () => {
    const { store, reopen } = await make();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.setCursors([{ chatId: `c${i % 4}`, seq: i + 1 }])),
    );
    const again = await reopen();
    assert.deepEqual(
      await Promise.all(['c0', 'c1', 'c2', 'c3'].map((c) => again.getCursor(c))),
      [17, 18, 19, 20],
    );
  });
}
