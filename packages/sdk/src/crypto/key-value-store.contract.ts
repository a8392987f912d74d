/**
 * The conformance suite of KeyValueStore: every backend's test calls it with a factory.
 * `reopen` (when the backend is durable) closes nothing itself: the suite closes first.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KeyValueStore } from './types.js';

export interface KeyValueStoreFixture {
  store: KeyValueStore;
  /** Opens the same data again after `store.close()`; absent for in-memory stores. */
  reopen?: () => Promise<KeyValueStore>;
}

export function keyValueStoreContract(
  name: string,
  make: () => Promise<KeyValueStoreFixture>,
  options: { durable: boolean },
): void {
  const bytes = (...values: number[]) => new Uint8Array(values);

  test(`${name}: a missing key reads as undefined`, async () => {
    const { store } = await make();
    assert.equal(await store.get('ns', 'absent'), undefined);
    assert.deepEqual(await store.keys('ns'), []);
    await store.close();
  });

  test(`${name}: put then get returns the same bytes, replacing the old value`, async () => {
    const { store } = await make();
    await store.put('ns', 'k', bytes(1, 2, 3));
    assert.deepEqual(await store.get('ns', 'k'), bytes(1, 2, 3));
    await store.put('ns', 'k', bytes(9));
    assert.deepEqual(await store.get('ns', 'k'), bytes(9));
    await store.put('ns', 'empty', bytes());
    assert.deepEqual(await store.get('ns', 'empty'), bytes());
    await store.close();
  });

  test(`${name}: namespaces are separate`, async () => {
    const { store } = await make();
    await store.put('a', 'k', bytes(1));
    await store.put('b', 'k', bytes(2));
    assert.deepEqual(await store.get('a', 'k'), bytes(1));
    assert.deepEqual(await store.get('b', 'k'), bytes(2));
    assert.deepEqual(await store.keys('a'), ['k']);
    await store.close();
  });

  test(`${name}: stored bytes do not alias the caller's arrays`, async () => {
    const { store } = await make();
    const value = bytes(1, 2);
    await store.put('ns', 'k', value);
    value[0] = 7;
    const read = await store.get('ns', 'k');
    assert.deepEqual(read, bytes(1, 2));
    read![1] = 7;
    assert.deepEqual(await store.get('ns', 'k'), bytes(1, 2));
    await store.close();
  });

  test(`${name}: delete removes the key and is idempotent`, async () => {
    const { store } = await make();
    await store.put('ns', 'k', bytes(1));
    await store.delete('ns', 'k');
    await store.delete('ns', 'k');
    assert.equal(await store.get('ns', 'k'), undefined);
    await store.close();
  });

  test(`${name}: keys lists a namespace sorted`, async () => {
    const { store } = await make();
    for (const key of ['b', 'a:2', 'a:10', 'Z', 'dev ice.1']) await store.put('ns', key, bytes(0));
    await store.put('other', 'x', bytes(0));
    assert.deepEqual(await store.keys('ns'), ['Z', 'a:10', 'a:2', 'b', 'dev ice.1']);
    await store.close();
  });

  test(`${name}: calls after close fail`, async () => {
    const { store } = await make();
    await store.close();
    await assert.rejects(store.get('ns', 'k'));
  });

  // Only durable stores promise this; the in-memory one does not run it.
  if (!options.durable) return;
  test(`${name}: values survive close and reopen`, async () => {
    const { store, reopen } = await make();
    if (!reopen) {
      await store.close();
      throw new Error('a durable store fixture must provide reopen');
    }
    await store.put('ns', 'k', bytes(4, 5));
    await store.close();
    const again = await reopen();
    assert.deepEqual(await again.get('ns', 'k'), bytes(4, 5));
    await again.close();
  });
}
