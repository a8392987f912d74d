import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FrameInit } from '@parley/protocol';
import { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import type { Store } from '../ports/store.js';
import { addUser, T0 } from '../ports/store-fixtures.js';
import type { UserId } from '../ports/types.js';
import { BlockService } from './service.js';

/** A store that counts blocksOf calls (the reads a check may wait for). */
function counting(store: Store): { store: Store; reads: () => number } {
  let n = 0;
  const wrapped = new Proxy(store, {
    get: (target, prop, receiver) =>
      prop === 'blocksOf'
        ? (u: UserId) => {
            n++;
            return target.blocksOf(u);
          }
        : Reflect.get(target, prop, receiver),
  });
  return { store: wrapped, reads: () => n };
}

async function setup(maxEntries = 100, ttlMs?: number) {
  const raw = new SqliteStore({ path: ':memory:' });
  const users = [];
  for (let i = 1; i <= 4; i++) users.push((await addUser(raw, i)).userId);
  const { store, reads } = counting(raw);
  const pushes: Array<{ to: readonly string[]; body: FrameInit['body'] }> = [];
  const blocks = new BlockService({
    store,
    now: () => T0,
    maxEntries,
    ...(ttlMs !== undefined && { ttlMs }),
    devicesOf: async (u) => [`${u}/phone`, `${u}/laptop`],
    push: (to, body) => pushes.push({ to, body }),
  });
  return { raw, store, reads, blocks, pushes, users: users as [UserId, UserId, UserId, UserId] };
}

describe('BlockService', () => {
  it('after a preload no check reads the store, and a change is read once on next use', async () => {
    const { raw, reads, blocks, users } = await setup();
    const [a, b, c, d] = users;
    await raw.blockAdd(a, b, T0, 10);
    await raw.blockAdd(c, a, T0, 10);
    assert.equal(await blocks.preload(), 2);
    assert.equal(await blocks.isBlocked(a, b), true);
    assert.equal(await blocks.isBlocked(c, a), true);
    assert.equal(await blocks.isBlocked(d, a), false, 'a user with no list blocks nobody');
    assert.equal(await blocks.isBlocked(b, a), false);
    assert.equal(reads(), 0, 'every answer came from memory');
    await blocks.block(d, a, `${d}/phone`);
    assert.equal(await blocks.isBlocked(d, a), true);
    assert.equal(await blocks.isBlocked(d, a), true);
    assert.equal(reads(), 2, 'the changed list is read for the answer, then once into the cache');
    raw.close();
  });

  it('tells the user\u2019s other devices of a change, and only of a real one', async () => {
    const { blocks, pushes, users } = await setup();
    const [a, b] = users;
    const list = await blocks.block(a, b, `${a}/phone`);
    assert.deepEqual(
      list.map((u) => u.userId),
      [b],
    );
    assert.equal(pushes.length, 1);
    assert.deepEqual(pushes[0]!.to, [`${a}/laptop`]);
    assert.equal(pushes[0]!.body?.case, 'blockListChanged');
    await blocks.block(a, b, `${a}/phone`);
    assert.equal(pushes.length, 1, 'a repeat changes nothing and pushes nothing');
    await blocks.unblock(a, b, `${a}/laptop`);
    assert.deepEqual(pushes[1]!.to, [`${a}/phone`]);
    await assert.rejects(blocks.block(a, a, 'x'), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(blocks.block(a, 'u_nobody' as UserId, 'x'), { code: 'USER_NOT_FOUND' });
  });

  it('a change on another node drops the cached list here (applyRemote), as does clear()', async () => {
    const { raw, blocks, users } = await setup(100, 60_000);
    const [a, b] = users;
    assert.equal(await blocks.isBlocked(a, b), false);
    await raw.blockAdd(a, b, T0, 10); // another node wrote it
    assert.equal(await blocks.isBlocked(a, b), false, 'still the cached list');
    blocks.applyRemote(a);
    assert.equal(await blocks.isBlocked(a, b), true);
    await raw.blockRemove(a, b);
    blocks.clear();
    assert.equal(await blocks.isBlocked(a, b), false);
    raw.close();
  });

  it('with more blockers than it may hold, the preload gives up and lists load on use', async () => {
    const { raw, reads, blocks, users } = await setup(1);
    const [a, b, c] = users;
    await raw.blockAdd(a, b, T0, 10);
    await raw.blockAdd(c, b, T0, 10);
    assert.equal(await blocks.preload(), 0);
    assert.equal(await blocks.isBlocked(c, b), true);
    assert.equal(await blocks.isBlocked(a, b), true, 'correct, read from the store');
    assert.ok(reads() >= 2);
    raw.close();
  });
});
