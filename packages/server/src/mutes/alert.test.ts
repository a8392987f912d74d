import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MUTE_FOREVER } from '@parley/protocol';
import { storeBackends } from '../../test/postgres-fixture.js';
import type { Store } from '../ports/store.js';
import { type Account, addUser, chatInput, T0 } from '../ports/store-fixtures.js';
import type { ChatId } from '../ports/types.js';
import { alertFor } from './alert.js';

const HOUR = 3_600_000;
const g = 'g' as ChatId;
const d = 'd' as ChatId;

for (const backend of storeBackends('parley-alert-')) {
  describe(`alertFor on ${backend.name}`, { skip: backend.skip }, () => {
    let store: Store;
    let done: () => Promise<void>;
    let a: Account;
    let b: Account;
    const ask = (chatId: ChatId, now: number, mentioned = false) =>
      alertFor({ store }, { userId: b.userId, chatId, mentioned, now });

    before(async () => {
      ({ store, done } = await backend.open());
      a = await addUser(store, 1);
      b = await addUser(store, 2);
      await store.chatCreate(chatInput('g', a, [b]));
      await store.chatCreate(chatInput('d', a, [b], 'direct'));
    });
    after(async () => {
      await store.close();
      await done();
    });

    it('alerts when nothing is muted', async () => {
      await store.chatMuteSet(g, b.userId, 0);
      await store.doNotDisturbSet(b.userId, 0);
      assert.equal(await ask(g, T0), true);
      assert.equal(await ask(d, T0), true);
    });

    it('a muted group is silent until the mute ends, except for a mention', async () => {
      await store.chatMuteSet(g, b.userId, T0 + 8 * HOUR);
      assert.equal(await ask(g, T0), false);
      assert.equal(await ask(g, T0, true), true, 'a mention breaks through a group mute');
      assert.equal(await ask(g, T0 + 8 * HOUR), true, 'the mute has ended');
      assert.equal(await ask(d, T0), true, 'only that chat is muted');
      assert.equal(
        await alertFor({ store }, { userId: a.userId, chatId: g, mentioned: false, now: T0 }),
        true,
      );
      await store.chatMuteSet(g, b.userId, 0);
    });

    it('a direct chat muted forever stays silent, mention or not', async () => {
      await store.chatMuteSet(d, b.userId, MUTE_FOREVER);
      assert.equal(await ask(d, T0 + 1000 * 24 * HOUR), false);
      assert.equal(await ask(d, T0, true), false, 'mentions break through group mutes only');
      await store.chatMuteSet(d, b.userId, 0);
      assert.equal(await ask(d, T0), true);
    });

    it('do-not-disturb silences every chat, mentions too, until it ends', async () => {
      await store.doNotDisturbSet(b.userId, T0 + HOUR);
      assert.equal(await ask(g, T0), false);
      assert.equal(await ask(g, T0, true), false);
      assert.equal(await ask(d, T0), false);
      assert.equal(await ask(g, T0 + HOUR), true, 'do-not-disturb has ended');
      await store.doNotDisturbSet(b.userId, 0);
    });

    it('a user who is not a member has no mute of the chat to apply', async () => {
      const c = await addUser(store, 3);
      assert.equal(
        await alertFor({ store }, { userId: c.userId, chatId: g, mentioned: false, now: T0 }),
        true,
      );
      await store.doNotDisturbSet(c.userId, MUTE_FOREVER);
      assert.equal(
        await alertFor({ store }, { userId: c.userId, chatId: g, mentioned: true, now: T0 }),
        false,
      );
    });
  });
}
