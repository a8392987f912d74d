import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import type { Store } from '../ports/store.js';
import type { ChatId, DeviceId, UserId } from '../ports/types.js';
import { Directory } from './directory.js';

const bytes = (s: string) => new TextEncoder().encode(s);

/** A real in-memory store with `n` users and a group of all of them; counts chatGet calls. */
async function setup(n: number) {
  const store = new SqliteStore({ path: ':memory:' });
  const users: UserId[] = [];
  for (let i = 0; i < n; i++) {
    const userId = `u${i}` as UserId;
    users.push(userId);
    await store.primaryRegister({
      userId,
      phone: `+1555000${String(i).padStart(4, '0')}`,
      phoneHash: bytes(`h${i}`),
      deviceId: `d${i}` as DeviceId,
      tokenHash: `t${i}`,
      name: 'phone',
      now: 1,
    });
  }
  const chat = async (chatId: string, members: UserId[]) =>
    store.chatCreate({
      chatId: chatId as ChatId,
      kind: 'group',
      name: 'g',
      description: '',
      createdBy: members[0]!,
      createdByDevice: 'd0' as DeviceId,
      members: members.map((userId, i) => ({ userId, role: i === 0 ? 'creator' : 'member' })),
      now: 2,
      update: bytes('created'),
    });
  let gets = 0;
  const counted = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'chatGet') gets++;
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Store;
  return { store, counted, users, chat, gets: () => gets };
}

describe('Directory', () => {
  it('reads a chat once, also for concurrent misses, and answers membership and roles', async () => {
    const t = await setup(40);
    await t.chat('small', t.users.slice(0, 3));
    await t.chat('large', t.users);
    const dir = new Directory(t.counted);
    const [a, b] = await Promise.all([dir.members('small' as ChatId), dir.members('small' as ChatId)]);
    assert.equal(a, b);
    assert.equal(t.gets(), 1);
    await dir.members('small' as ChatId);
    assert.equal(t.gets(), 1);
    assert.deepEqual(a!.users, t.users.slice(0, 3));
    assert.equal(a!.role('u0' as UserId), 'creator');
    assert.equal(a!.role('u2' as UserId), 'member');
    assert.equal(a!.has('u3' as UserId), false);
    // Large groups answer through an index: same answers.
    const large = (await dir.members('large' as ChatId))!;
    assert.equal(large.has('u39' as UserId), true);
    assert.equal(large.role('u0' as UserId), 'creator');
    assert.equal(large.role('u40' as UserId), undefined);
    assert.equal(await dir.members('missing' as ChatId), undefined);
    await t.store.close();
  });

  it('an invalidation drops the entry, and a read in flight during it is not cached', async () => {
    const t = await setup(3);
    await t.chat('c', t.users);
    const dir = new Directory(t.counted);
    await dir.members('c' as ChatId);
    dir.invalidateChat('c' as ChatId);
    await dir.members('c' as ChatId);
    assert.equal(t.gets(), 2);
    const inFlight = dir.members('c' as ChatId);
    dir.invalidateChat('c' as ChatId);
    await inFlight;
    await dir.members('c' as ChatId);
    assert.equal(t.gets(), 3, 'the read that raced the invalidation was not kept');
    await dir.members('c' as ChatId);
    assert.equal(t.gets(), 3);
    await t.store.close();
  });

  it('holds at most maxEntries chats, dropping the oldest, and rereads after ttlMs', async () => {
    const t = await setup(2);
    for (const id of ['a', 'b', 'c']) await t.chat(id, t.users);
    let now = 0;
    const dir = new Directory(t.counted, 2, 1000, () => now);
    for (const id of ['a', 'b', 'c']) await dir.members(id as ChatId);
    assert.deepEqual(dir.size.chats, 2);
    await dir.members('c' as ChatId);
    assert.equal(t.gets(), 3);
    await dir.members('a' as ChatId);
    assert.equal(t.gets(), 4, 'a was dropped for c');
    now = 1001;
    await dir.members('a' as ChatId);
    assert.equal(t.gets(), 5, 'an entry older than ttlMs is read again');
    await t.store.close();
  });

  it('remembers a missing chat until ttlMs or an invalidation, and chats share equal role lists', async () => {
    const t = await setup(3);
    let now = 5_000_000;
    const dir = new Directory(t.counted, 10, 1000, () => now);
    assert.equal(await dir.members('late' as ChatId), undefined);
    assert.equal(await dir.members('late' as ChatId), undefined);
    assert.equal(t.gets(), 1, 'a missing chat is remembered');
    await t.chat('late', t.users);
    now += 1001;
    assert.deepEqual((await dir.members('late' as ChatId))?.users, t.users, 'reread after ttlMs');
    assert.equal(t.gets(), 2);
    assert.equal(await dir.members('gone' as ChatId), undefined);
    await t.chat('gone', t.users);
    dir.invalidateChat('gone' as ChatId);
    assert.deepEqual((await dir.members('gone' as ChatId))?.users, t.users, 'reread after invalidation');
    assert.equal(t.gets(), 4);
    await t.chat('same', t.users);
    const [a, b] = [await dir.members('late' as ChatId), await dir.members('same' as ChatId)];
    assert.equal(a!.role('u0' as UserId), 'creator');
    assert.equal(b!.role('u1' as UserId), 'member');
    assert.equal(
      (a as unknown as { roles: unknown }).roles,
      (b as unknown as { roles: unknown }).roles,
      'one array for equal role lists',
    );
    await t.store.close();
  });

  it('preload holds every chat up to maxEntries, so sends to them read nothing', async () => {
    const t = await setup(3);
    for (const id of ['a', 'b', 'c', 'd', 'e']) await t.chat(id, t.users);
    const dir = new Directory(t.counted, 4);
    assert.equal(dir.loading, false);
    const loading = dir.preload(() => false, 2);
    assert.equal(dir.loading, true);
    assert.equal(await loading, 4);
    assert.equal(dir.loading, false);
    assert.equal(dir.size.chats, 4);
    const a = await dir.members('a' as ChatId);
    assert.deepEqual(a?.users, t.users);
    assert.equal(a?.role('u0' as UserId), 'creator');
    assert.equal(t.gets(), 0, 'preloaded chats need no chatGet');
    await dir.members('e' as ChatId);
    assert.equal(t.gets(), 1, 'beyond maxEntries chats load on first use');
    const stopped = new Directory(t.counted);
    assert.equal(await stopped.preload(() => true), 0);
    await t.store.close();
  });
});
