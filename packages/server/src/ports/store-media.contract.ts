/**
 * The media part of the Store conformance suite (run by storeContract): the attachments a
 * message declares are recorded with it (and nothing for a refused or repeated send), who may
 * fetch a body (uploader, members of a chat that declared it, of a chat with it as icon,
 * readers of an avatar), and what the retention job keeps and forgets.
 */
import assert from 'node:assert/strict';
import type { SendCommit, Store } from './store.js';
import { type Account, addUser, bytes, chatInput, sendItem, T0 } from './store-fixtures.js';
import type { ChatId, Role } from './types.js';

type StoreTest = (title: string, body: (store: Store) => Promise<void>) => void;

const g = 'g' as ChatId;
const DAY = 86_400_000;
const m1 = '1'.repeat(64);
const m2 = '2'.repeat(64);
const m3 = '3'.repeat(64);

const send = sendItem;

async function commit(store: Store, item: SendCommit): Promise<number> {
  const [r] = await store.messageCommit([item]);
  assert.ok(r?.ok, JSON.stringify(r));
  return r.seq;
}

const granted = async (store: Store, media: string, who: Account) =>
  (await store.mediaAccess(media, who.userId)).granted;

export function mediaContract(test: StoreTest): void {
  test('a message that declares media grants its chat’s members, and only them, access', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    const c = await addUser(store, 3);
    await store.chatCreate(chatInput('g', a, [b]));
    await store.chatCreate(chatInput('h', c, [a]));
    assert.equal(await granted(store, m1, b), false, 'nothing declared yet');
    await commit(store, send('g', a, 'with-media', { mediaIds: [m1, m2] }));
    for (const m of [m1, m2]) {
      assert.equal(await granted(store, m, a), true);
      assert.equal(await granted(store, m, b), true);
      assert.equal(await granted(store, m, c), false, 'not a member of g');
    }
    assert.deepEqual(await store.mediaAccess(m3, b.userId), { granted: false, avatarOwners: [] });
  });

  test('a refused send and a repeated one record no reference', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    const c = await addUser(store, 3);
    await store.chatCreate(chatInput('g', a, [b]));
    const [refused] = await store.messageCommit([send('g', c, 'outsider', { mediaIds: [m1] })]);
    assert.equal(refused?.ok, false);
    assert.equal(await granted(store, m1, a), false, 'a non-member’s send declares nothing');
    await commit(store, send('g', a, 'same', { mediaIds: [m2] }));
    const [again] = await store.messageCommit([send('g', a, 'same', { mediaIds: [m3] })]);
    assert.ok(again?.ok && again.duplicate);
    assert.equal(await granted(store, m3, b), false, 'a repeat stores nothing new');
    assert.equal(await granted(store, m2, b), true);
  });

  test('several sends of one batch each record their own references', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    const c = await addUser(store, 3);
    await store.chatCreate(chatInput('g', a, [b]));
    await store.chatCreate(chatInput('h', a, [c]));
    const results = await store.messageCommit([
      send('g', a, 'one', { mediaIds: [m1] }),
      send('h', a, 'two', { mediaIds: [m2] }),
      send('g', a, 'three'),
    ]);
    assert.ok(results.every((r) => r.ok));
    assert.deepEqual(
      [
        await granted(store, m1, b),
        await granted(store, m1, c),
        await granted(store, m2, c),
        await granted(store, m2, b),
      ],
      [true, false, true, false],
    );
  });

  test('a removed member loses access; a delete for everyone withdraws it from all', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    await store.chatCreate(chatInput('g', a, [b]));
    const seq = await commit(store, send('g', a, 'pic', { mediaIds: [m1] }));
    await commit(store, send('g', a, 'doc', { mediaIds: [m2] }));
    await store.chatMutate({
      chatId: g,
      actorUserId: a.userId,
      actorDeviceId: a.deviceId,
      now: T0 + 1,
      update: bytes('removed'),
      removeUserIds: [b.userId],
    });
    assert.equal(await granted(store, m2, b), false, 'removed');
    assert.equal(await granted(store, m2, a), true);
    await store.messageCommit([
      send('g', a, 'delete', {
        payload: undefined,
        meta: { type: 'delete', refSeq: seq, reaction: '', mentions: [], forwardCount: 0 },
        windows: { editMs: DAY, deleteMs: 2 * DAY },
      }),
    ]);
    assert.equal(await granted(store, m1, a), false, 'the only message naming it was deleted');
    assert.deepEqual(await store.mediaKept([m1, m2], T0 + DAY, T0 - DAY), [m2]);
  });

  test('the uploader, members of a chat with it as icon, and readers of an avatar have access', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    const c = await addUser(store, 3);
    await store.chatCreate(chatInput('g', a, [b]));
    await store.mediaUploadRecord(m1, c.userId, T0);
    assert.equal(await granted(store, m1, c), true, 'its uploader');
    assert.equal(await granted(store, m1, a), false);
    await store.chatMutate({
      chatId: g,
      actorUserId: a.userId,
      actorDeviceId: a.deviceId,
      now: T0 + 1,
      update: bytes('icon'),
      iconMediaId: m2,
    });
    assert.equal(await granted(store, m2, b), true, 'the group’s icon');
    assert.equal(await granted(store, m2, c), false);
    await store.mediaUploadRecord(m3, a.userId, T0, true);
    assert.deepEqual(await store.mediaAccess(m3, b.userId), { granted: false, avatarOwners: [a.userId] });
    assert.deepEqual(await store.mediaAccess(m3, a.userId), { granted: true, avatarOwners: [a.userId] });
    assert.deepEqual(
      await store.mediaAccess(m3, c.userId),
      { granted: false, avatarOwners: [] },
      'no shared chat',
    );
    await store.mediaUploadRecord(m3, a.userId, T0 + 5);
    assert.deepEqual(
      (await store.mediaAccess(m3, b.userId)).avatarOwners,
      [a.userId],
      'an upload again does not unmark an avatar',
    );
  });

  test('mediaKept keeps recent uploads, live references, icons and newest avatars; mediaForget forgets', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    await store.chatCreate(chatInput('g', a, [b]));
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', '0'].map((x) => x.repeat(64));
    const [fresh, referenced, icon, oldAvatar, newAvatar, stale, never] = ids as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    await store.mediaUploadRecord(fresh, a.userId, T0 + 10 * DAY);
    await store.mediaUploadRecord(referenced, a.userId, T0);
    await store.mediaUploadRecord(stale, a.userId, T0);
    await commit(store, send('g', a, 'ref', { mediaIds: [referenced], serverTime: T0 + 5 * DAY }));
    await store.chatMutate({
      chatId: g,
      actorUserId: a.userId,
      actorDeviceId: a.deviceId,
      now: T0,
      update: bytes('icon'),
      iconMediaId: icon,
    });
    await store.mediaUploadRecord(oldAvatar, b.userId, T0, true);
    await store.mediaUploadRecord(newAvatar, b.userId, T0 + DAY, true);
    const since = T0 + 9 * DAY;
    assert.deepEqual(
      (await store.mediaKept(ids, since, T0)).sort(),
      [fresh, referenced, icon, newAvatar].sort(),
      'an old unreferenced upload, an old avatar and an unknown id go',
    );
    assert.deepEqual(
      (await store.mediaKept(ids, since, T0 + 6 * DAY)).sort(),
      [fresh, icon, newAvatar].sort(),
      'a reference from a message older than the retention keeps nothing',
    );
    assert.deepEqual(await store.mediaKept([], since, T0), []);
    assert.equal(
      await store.mediaUploadsExpire(T0 + 20 * DAY, 100),
      3,
      'avatar uploads are not expired by age',
    );
    assert.equal(await granted(store, referenced, b), true, 'the message still names it');
    assert.equal(
      await store.mediaForget([referenced, oldAvatar, stale, never]),
      2,
      'one reference, one avatar',
    );
    assert.equal(await granted(store, referenced, b), false, 'forgotten');
    assert.deepEqual(await store.mediaAccess(oldAvatar, a.userId), { granted: false, avatarOwners: [] });
    assert.deepEqual(await store.mediaAccess(newAvatar, a.userId), {
      granted: false,
      avatarOwners: [b.userId],
    });
  });

  test('expired messages take their references with them', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    await store.chatCreate(chatInput('g', a, [b], 'group', T0));
    await commit(store, send('g', a, 'old', { mediaIds: [m1], serverTime: T0 + 1 }));
    await commit(store, send('g', a, 'new', { mediaIds: [m2], serverTime: T0 + 10 * DAY }));
    await store.messagesExpire(T0 + 5 * DAY, 100);
    assert.equal(await granted(store, m1, b), false);
    assert.equal(await granted(store, m2, b), true);
    // A member added later sees the media of messages still there (they are a current member).
    const c = await addUser(store, 3);
    await store.chatMutate({
      chatId: g,
      actorUserId: a.userId,
      actorDeviceId: a.deviceId,
      now: T0 + 11 * DAY,
      update: bytes('added'),
      addMembers: [{ userId: c.userId, role: 'member' as Role }],
    });
    assert.equal(await granted(store, m2, c), true);
  });
}
