/**
 * The mutes part of the Store conformance suite (run by storeContract): a member's mute of a
 * chat, the user's do-not-disturb, what alertSettings reads back, and that a mute belongs to
 * one membership (a member removed and added again starts unmuted).
 */
import assert from 'node:assert/strict';
import { MUTE_FOREVER } from '@parley/protocol';
import type { Store } from './store.js';
import { addUser, bytes, chatInput, T0 } from './store-fixtures.js';
import type { ChatId, UserId } from './types.js';

type StoreTest = (title: string, body: (store: Store) => Promise<void>) => void;

const g = 'g' as ChatId;

export function mutesContract(test: StoreTest): void {
  test('chatMuteSet stores the member mute, alertSettings and the chat list read it back', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    await store.chatCreate(chatInput('g', a, [b]));
    await store.chatCreate(chatInput('d', a, [b], 'direct'));
    assert.deepEqual(await store.alertSettings(a.userId, g), {
      doNotDisturbUntil: 0,
      chat: { kind: 'group', mutedUntil: 0 },
    });
    assert.equal(await store.chatMuteSet(g, a.userId, T0 + 8 * 3_600_000), true);
    assert.equal(await store.chatMuteSet('d' as ChatId, a.userId, MUTE_FOREVER), true);
    assert.deepEqual(await store.alertSettings(a.userId, g), {
      doNotDisturbUntil: 0,
      chat: { kind: 'group', mutedUntil: T0 + 8 * 3_600_000 },
    });
    assert.deepEqual(await store.alertSettings(a.userId, 'd' as ChatId), {
      doNotDisturbUntil: 0,
      chat: { kind: 'direct', mutedUntil: MUTE_FOREVER },
    });
    assert.deepEqual(
      (await store.alertSettings(b.userId, g)).chat,
      { kind: 'group', mutedUntil: 0 },
      'per member',
    );
    const list = await store.chatSummaries(a.userId);
    assert.deepEqual(
      list.map((c) => [c.id, c.mutedUntil]),
      [
        ['d', MUTE_FOREVER],
        ['g', T0 + 8 * 3_600_000],
      ],
    );
    assert.equal((await store.chatSummaries(b.userId, [g]))[0]?.mutedUntil, 0);
    assert.equal(await store.chatMuteSet(g, a.userId, 0), true, 'unmute');
    assert.equal((await store.alertSettings(a.userId, g)).chat?.mutedUntil, 0);
  });

  test('chatMuteSet refuses a non-member and an unknown chat, storing nothing', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    const c = await addUser(store, 3);
    await store.chatCreate(chatInput('g', a, [b]));
    assert.equal(await store.chatMuteSet(g, c.userId, MUTE_FOREVER), false);
    assert.equal(await store.chatMuteSet('nope' as ChatId, a.userId, MUTE_FOREVER), false);
    assert.deepEqual(await store.alertSettings(c.userId, g), { doNotDisturbUntil: 0 });
    assert.deepEqual(await store.alertSettings(a.userId, 'nope' as ChatId), { doNotDisturbUntil: 0 });
  });

  test('doNotDisturbSet stores the user setting; unknown users read as off', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    await store.chatCreate(chatInput('g', a, [b]));
    assert.equal(await store.doNotDisturbSet(a.userId, MUTE_FOREVER), true);
    assert.deepEqual(await store.alertSettings(a.userId), { doNotDisturbUntil: MUTE_FOREVER });
    assert.deepEqual(await store.alertSettings(a.userId, g), {
      doNotDisturbUntil: MUTE_FOREVER,
      chat: { kind: 'group', mutedUntil: 0 },
    });
    assert.equal((await store.alertSettings(b.userId)).doNotDisturbUntil, 0, 'per user');
    assert.equal(await store.doNotDisturbSet(a.userId, T0 + 5), true);
    assert.equal((await store.alertSettings(a.userId)).doNotDisturbUntil, T0 + 5);
    assert.equal(await store.doNotDisturbSet('ghost' as UserId, T0), false);
    assert.deepEqual(await store.alertSettings('ghost' as UserId, g), { doNotDisturbUntil: 0 });
  });

  test('a member removed and added again starts unmuted', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    await store.chatCreate(chatInput('g', a, [b]));
    await store.chatMuteSet(g, b.userId, MUTE_FOREVER);
    const base = { chatId: g, actorUserId: a.userId, actorDeviceId: a.deviceId, update: bytes('u') };
    await store.chatMutate({ ...base, now: T0 + 1, removeUserIds: [b.userId] });
    assert.equal((await store.alertSettings(b.userId, g)).chat, undefined);
    await store.chatMutate({ ...base, now: T0 + 2, addMembers: [{ userId: b.userId, role: 'member' }] });
    assert.deepEqual((await store.alertSettings(b.userId, g)).chat, { kind: 'group', mutedUntil: 0 });
  });
}
