/**
 * The Store contract for account erasure (accountErase) and media upload records, run by
 * storeContract against every backend. What the account's rows look like afterwards is
 * checked through the Store interface here; the integration test (test/account-delete)
 * scans every table of the real schemas.
 */
import assert from 'node:assert/strict';
import type { SendCommit, Store } from './store.js';
import { type Account, addUser, bytes, chatInput, sendItem, T0 } from './store-fixtures.js';
import { type ChatId, cursorList, type DeviceId, type UserId } from './types.js';

const MEDIA_A = 'a'.repeat(64);
const MEDIA_B = 'b'.repeat(64);

const send = (chatId: string, from: Account, clientMessageId: string) =>
  sendItem(chatId, from, clientMessageId);

async function seqOf(store: Store, item: SendCommit): Promise<number> {
  const [r] = await store.messageCommit([item]);
  assert.ok(r?.ok, JSON.stringify(r));
  return r.seq;
}

type Test = (title: string, body: (store: Store) => Promise<void>) => void;

export function accountEraseContract(test: Test): void {
  test('accountErase removes the user, devices, keys and PIN, and the number can register afresh', async (store) => {
    const a = await addUser(store, 1);
    await store.deviceLink({
      userId: a.userId,
      deviceId: 'user-1/laptop' as DeviceId,
      tokenHash: 'token-laptop',
      name: 'laptop',
      now: T0,
      maxDevices: 4,
    });
    await store.linkCodePut('link-1', a.userId, T0 + 60_000);
    await store.codePut({
      phone: 'delete_account:+15550000001',
      codeHash: 'h',
      expiresAt: T0 + 1,
      attempts: 0,
      sentAt: T0,
    });
    await store.registrationLockSet(a.userId, 'pin-hash', T0);
    await store.profilePut({ userId: a.userId, version: 1, ciphertext: bytes('sealed'), now: T0 });
    const erased = await store.accountErase({
      userId: a.userId,
      codeKeys: ['+15550000001', 'delete_account:+15550000001'],
      leftChatIds: [],
    });
    assert.deepEqual(erased.deviceIds.sort(), ['user-1/laptop', a.deviceId]);
    assert.equal(await store.userGet(a.userId), undefined);
    assert.equal(await store.userByPhone('+15550000001'), undefined);
    assert.deepEqual(await store.usersByPhoneHash([bytes('hash-1')]), []);
    assert.equal(await store.deviceByTokenHash(`token-${a.deviceId}`), undefined);
    assert.equal(await store.linkCodeTake('link-1', T0), undefined);
    assert.equal(await store.codeGet('delete_account:+15550000001'), undefined);
    assert.equal(await store.registrationLockGet(a.userId), undefined, 'the registration-lock PIN goes too');
    assert.deepEqual(await store.profilesGet(a.userId, [a.userId]), [], 'the profile goes too');
    // Erasing again erases nothing; the number registers as a new user.
    assert.deepEqual(await store.accountErase({ userId: a.userId, codeKeys: [], leftChatIds: [] }), {
      deviceIds: [],
      droppedChatIds: [],
      erasedMessages: 0,
      mediaIds: [],
    });
    const again = await store.primaryRegister({
      userId: 'user-1-new' as UserId,
      phone: '+15550000001',
      phoneHash: bytes('hash-1'),
      deviceId: 'user-1-new/phone' as DeviceId,
      tokenHash: 'token-new',
      name: 'phone',
      now: T0 + 1,
    });
    assert.deepEqual(again, { userId: 'user-1-new', revokedDeviceIds: [] });
  });

  test('accountErase keeps messages still pending for another member and erases those received everywhere', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    const c = await addUser(store, 3);
    await store.chatCreate(chatInput('g', b, [a, c]));
    await store.chatCreate(chatInput('d', a, [b], 'direct'));
    const received = await seqOf(store, send('g', a, 'm1'));
    const pending = await seqOf(store, send('g', a, 'm2'));
    const fromB = await seqOf(store, send('g', b, 'm3'));
    const direct = await seqOf(store, send('d', a, 'm4'));
    // b has everything; c has m1 only.
    await store.cursorsAck([
      { deviceId: b.deviceId, chatId: 'g' as ChatId, seq: fromB },
      { deviceId: c.deviceId, chatId: 'g' as ChatId, seq: received },
      { deviceId: b.deviceId, chatId: 'd' as ChatId, seq: direct },
    ]);
    await store.chatMutate({
      chatId: 'g' as ChatId,
      actorUserId: a.userId,
      actorDeviceId: a.deviceId,
      now: T0,
      update: bytes('left'),
      removeUserIds: [a.userId],
    });
    const erased = await store.accountErase({ userId: a.userId, codeKeys: [], leftChatIds: ['g' as ChatId] });
    assert.deepEqual(erased.droppedChatIds, []);
    assert.equal(erased.erasedMessages, 3, 'm1 in the group; the direct chat’s creation and m4');
    const g = await store.messagesHistory(b.deviceId, 'g' as ChatId, { limit: 100 });
    const left = g.map((m) => [m.seq, m.senderUserId]);
    assert.ok(!left.some(([seq]) => seq === received), 'received everywhere: erased');
    assert.ok(
      left.some(([seq]) => seq === pending),
      'pending for c: kept',
    );
    assert.ok(
      left.some(([seq]) => seq === fromB),
      'another member’s message: kept',
    );
    assert.deepEqual(await store.messagesHistory(b.deviceId, 'd' as ChatId, { limit: 100 }), []);
    // The direct chat goes on for b, without a key naming a: b and a new user start a new one.
    assert.equal(await store.chatDirectFind(a.userId, b.userId), undefined);
    assert.deepEqual(
      (await store.chatGet('d' as ChatId))?.members.map((m) => m.userId),
      [b.userId],
    );
  });

  test('accountErase drops chats nobody else is in, whole, and lists media no one else uploaded', async (store) => {
    const a = await addUser(store, 1);
    const b = await addUser(store, 2);
    await store.chatCreate(chatInput('solo', a, [b]));
    await seqOf(store, send('solo', a, 'm1'));
    await store.chatMutate({
      chatId: 'solo' as ChatId,
      actorUserId: b.userId,
      actorDeviceId: b.deviceId,
      now: T0,
      update: bytes('left'),
      removeUserIds: [b.userId],
    });
    await store.inviteSet('solo' as ChatId, 'invite-1', a.userId, T0);
    await store.mediaUploadRecord(MEDIA_A, a.userId, T0);
    await store.mediaUploadRecord(MEDIA_B, a.userId, T0);
    await store.mediaUploadRecord(MEDIA_B, b.userId, T0);
    await store.mediaUploadRecord(MEDIA_A, a.userId, T0 + 5);
    const lookup = { digests: ['d1', 'd2'], now: T0, windowMs: 86_400_000, budget: 2 };
    await store.discoveryLookupsTake({ userId: a.userId, ...lookup });
    await store.discoveryLookupsTake({ userId: b.userId, ...lookup });
    const erased = await store.accountErase({ userId: a.userId, codeKeys: [], leftChatIds: [] });
    assert.deepEqual(erased.droppedChatIds, ['solo']);
    assert.deepEqual(erased.mediaIds, [MEDIA_A]);
    assert.equal(await store.chatGet('solo' as ChatId), undefined);
    assert.equal(await store.inviteFind('invite-1'), undefined);
    assert.deepEqual(cursorList(await store.cursorsOf(b.deviceId)), []);
    // b's record of MEDIA_B stays until it is older than the cutoff.
    assert.equal(await store.mediaUploadsExpire(T0, 10), 0);
    assert.equal(await store.mediaUploadsExpire(T0 + 1, 10), 1);
    // a's discovery lookups went with the account; b's two stay.
    assert.equal(await store.discoveryLookupsExpire(T0 + 1, 10), 2);
  });
}
