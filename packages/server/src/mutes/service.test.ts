import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FrameInit, MUTE_FOREVER, type ParleyError } from '@parley/protocol';
import { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { ManualClock } from '../ports/clock.js';
import { type Account, addUser, chatInput, T0 } from '../ports/store-fixtures.js';
import type { ChatId, Device } from '../ports/types.js';
import { MuteService } from './service.js';

const deviceOf = (a: Account, id: string = a.deviceId): Device => ({
  id: id as Device['id'],
  userId: a.userId,
  primary: true,
  name: 'phone',
  createdAt: T0,
  lastSeenAt: T0,
});

async function setup() {
  const store = new SqliteStore({ path: ':memory:' });
  const a = await addUser(store, 1);
  const b = await addUser(store, 2);
  const c = await addUser(store, 3);
  await store.chatCreate(chatInput('g', a, [b]));
  const clock = new ManualClock(T0);
  const pushes: Array<{ to: readonly string[]; body: FrameInit['body'] }> = [];
  const mutes = new MuteService({
    store,
    now: () => clock.now(),
    devicesOf: async (u) => [`${u}/phone`, `${u}/laptop`],
    push: (to, body) => pushes.push({ to, body }),
  });
  return { store, a, b, c, clock, pushes, mutes };
}

const g = 'g' as ChatId;

describe('MuteService', () => {
  it('stores a mute and tells the user’s other devices only', async () => {
    const { store, a, pushes, mutes } = await setup();
    assert.equal(await mutes.muteChat(deviceOf(a), g, T0 + 60_000), T0 + 60_000);
    assert.equal((await store.alertSettings(a.userId, g)).chat?.mutedUntil, T0 + 60_000);
    assert.deepEqual(pushes, [
      {
        to: [`${a.userId}/laptop`],
        body: { case: 'mutesChanged', value: { chat: { chatId: g, mutedUntil: BigInt(T0 + 60_000) } } },
      },
    ]);
  });

  it('stores a time already past as unmuted, and forever as MUTE_FOREVER', async () => {
    const { a, mutes, clock } = await setup();
    clock.set(T0 + 10);
    assert.equal(await mutes.muteChat(deviceOf(a), g, T0), 0);
    assert.equal(await mutes.muteChat(deviceOf(a), g, MUTE_FOREVER), MUTE_FOREVER);
    assert.equal(await mutes.muteChat(deviceOf(a), g, 0), 0);
  });

  it('refuses a non-member, an unknown chat and an out-of-range time, telling no device', async () => {
    const { c, a, mutes, pushes } = await setup();
    await assert.rejects(mutes.muteChat(deviceOf(c), g, MUTE_FOREVER), { code: 'NOT_A_MEMBER' });
    await assert.rejects(mutes.muteChat(deviceOf(a), 'nope' as ChatId, MUTE_FOREVER), {
      code: 'CHAT_NOT_FOUND',
    });
    for (const bad of [MUTE_FOREVER + 1, -1, 1.5])
      await assert.rejects(
        mutes.muteChat(deviceOf(a), g, bad),
        (e) => (e as ParleyError).code === 'INVALID_ARGUMENT',
      );
    assert.deepEqual(pushes, []);
  });

  it('sets do-not-disturb, reads it back without change, and it ends by itself', async () => {
    const { a, mutes, pushes, clock } = await setup();
    assert.equal(await mutes.setDoNotDisturb(deviceOf(a), undefined), 0);
    assert.equal(await mutes.setDoNotDisturb(deviceOf(a), T0 + 1000), T0 + 1000);
    assert.equal(
      await mutes.setDoNotDisturb(deviceOf(a, `${a.userId}/laptop`), undefined),
      T0 + 1000,
      'a read tells no one',
    );
    assert.deepEqual(pushes, [
      {
        to: [`${a.userId}/laptop`],
        body: { case: 'mutesChanged', value: { doNotDisturb: { until: BigInt(T0 + 1000) } } },
      },
    ]);
    clock.set(T0 + 1000);
    assert.equal(await mutes.doNotDisturbOf(a.userId), 0);
  });
});
