/**
 * The conformance suite every Store backend passes. `make` returns a fresh, empty store;
 * each test gets its own and closes it. Tests use only the Store interface, so a backend
 * that passes keeps the TSDoc contract of store.ts and the cursor model of architecture.md.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BundleTake,
  type ChatCreate,
  type CommitResult,
  createdMessage,
  type KeysUploadInput,
  type SendCommit,
  type Store,
} from './store.js';
import { discoveryContract } from './store-discovery.contract.js';
import { accountEraseContract } from './store-erase.contract.js';
import { type Account, addUser, bytes, chatInput, phoneOf, T0 } from './store-fixtures.js';
import { mediaContract } from './store-media.contract.js';
import { moderationContract } from './store-moderation.contract.js';
import { mutesContract } from './store-mutes.contract.js';
import { profilesContract } from './store-profiles.contract.js';
import { pushContract } from './store-push.contract.js';
import { registrationLockContract } from './store-registration-lock.contract.js';
import {
  type ChatId,
  type ChatInfo,
  caughtUpSeq,
  cursorList,
  type DeviceCursor,
  type DeviceId,
  type Role,
  type StoredMessage,
  type UserId,
} from './types.js';

export interface StoreFixture {
  store: Store;
  cleanup?: () => Promise<void>;
  /**
   * The receipt mark rows of a chat as stored, `kind:throughSeq` in key order, read past the
   * port (for what the port cannot show: rows nothing asks for any more).
   */
  receiptMarks?: (chatId: ChatId) => Promise<string[]>;
}

const viewOnceMeta = {
  type: 'message' as const,
  refSeq: 0,
  reaction: '',
  mentions: [],
  forwardCount: 0,
  viewOnce: true,
};
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const chatId = (s: string) => s as ChatId;
const deviceId = (s: string) => s as DeviceId;
const userId = (s: string) => s as UserId;

async function linkDevice(
  store: Store,
  user: Account,
  label: string,
  maxDevices = 4,
  now = T0,
): Promise<Account> {
  const device = deviceId(`${user.userId}/${label}`);
  await store.deviceLink({
    userId: user.userId,
    deviceId: device,
    tokenHash: `token-${device}`,
    name: label,
    now,
    maxDevices,
  });
  return { userId: user.userId, deviceId: device };
}

async function createChat(
  store: Store,
  id: string,
  creator: Account,
  others: readonly Account[],
  kind: 'group' | 'direct' = 'group',
  now = T0,
): Promise<ChatInfo> {
  return store.chatCreate(chatInput(id, creator, others, kind, now));
}

function send(
  chat: string,
  from: Account,
  clientMessageId: string,
  body: string | Record<string, string> = clientMessageId,
  serverTime = T0,
): SendCommit {
  const perDevice = typeof body === 'string' ? undefined : body;
  return {
    chatId: chatId(chat),
    senderUserId: from.userId,
    senderDeviceId: from.deviceId,
    clientMessageId,
    serverTime,
    payload: typeof body === 'string' ? bytes(body) : undefined,
    devicePayloads: perDevice && new Map(Object.entries(perDevice).map(([d, b]) => [deviceId(d), bytes(b)])),
  };
}

async function commitOne(store: Store, item: SendCommit): Promise<CommitResult> {
  const [r] = await store.messageCommit([item]);
  assert.ok(r, 'messageCommit returns one result per item');
  return r;
}

/** How many messages sendMany has committed per store, so its client message ids never repeat. */
const sentCount = new WeakMap<Store, number>();

/** Commits `count` messages (bodies m0, m1, ...) from `from` in one batch, returning their seqs. */
async function sendMany(store: Store, chat: string, from: Account, count: number, serverTime = T0) {
  const base = sentCount.get(store) ?? 0;
  sentCount.set(store, base + count);
  const items = Array.from({ length: count }, (_, i) =>
    send(chat, from, `auto-${base + i}`, `m${i}`, serverTime),
  );
  return (await store.messageCommit(items)).map(seqOf);
}

function seqOf(r: CommitResult | undefined): number {
  assert.ok(r?.ok, `expected a committed send, got ${JSON.stringify(r)}`);
  return r.seq;
}

const seqs = (ms: readonly StoredMessage[]) => ms.map((m) => m.seq);

/** The device's cursor in a chat, with endSeq normalised (absent and undefined are the same). */
async function cursorIn(store: Store, device: Account, chat: string): Promise<DeviceCursor | undefined> {
  const c = cursorList(await store.cursorsOf(device.deviceId)).find((x) => x.chatId === chat);
  return c && { chatId: c.chatId, ackedSeq: c.ackedSeq, endSeq: c.endSeq, lastSeq: c.lastSeq };
}

/** Seqs pending for the device per architecture.md: (acked, end ?? last], not sent by it. */
async function pendingSeqs(store: Store, device: Account, chat: string): Promise<number[]> {
  const c = await cursorIn(store, device, chat);
  if (!c) return [];
  const ms = await store.messagesRead(
    device.deviceId,
    chatId(chat),
    c.ackedSeq,
    c.endSeq ?? c.lastSeq,
    10_000,
  );
  return seqs(ms.filter((m) => m.senderDeviceId !== device.deviceId));
}

const sortedIds = (xs: readonly { id: string }[]) => xs.map((x) => x.id).sort();
const memberIds = (chat: ChatInfo | undefined) => (chat?.members ?? []).map((m) => m.userId).sort();

export function storeContract(name: string, make: () => Promise<StoreFixture>): void {
  /** One test on its own fresh store, closed (and cleaned up) whatever the outcome. */
  const test = (title: string, body: (store: Store, fixture: StoreFixture) => Promise<void>) =>
    it(title, async () => {
      const fixture = await make();
      const { store, cleanup } = fixture;
      try {
        await body(store, fixture);
      } finally {
        await store.close();
        await cleanup?.();
      }
    });

  describe(`Store contract: ${name}`, () => {
    describe('accounts', () => {
      test('primaryRegister creates the user and its primary device', async (store) => {
        const r = await store.primaryRegister({
          userId: userId('user-1'),
          phone: phoneOf(1),
          phoneHash: bytes('hash-1'),
          deviceId: deviceId('user-1/phone'),
          tokenHash: 'token-1',
          name: 'Pixel',
          now: T0,
        });
        assert.deepEqual(r, { userId: 'user-1', revokedDeviceIds: [] });
        assert.deepEqual(await store.userByPhone(phoneOf(1)), {
          id: 'user-1',
          phone: phoneOf(1),
          createdAt: T0,
        });
        const device = {
          id: 'user-1/phone',
          userId: 'user-1',
          primary: true,
          name: 'Pixel',
          createdAt: T0,
          lastSeenAt: T0,
        };
        assert.deepEqual(await store.deviceByTokenHash('token-1'), device);
        assert.deepEqual(await store.deviceList(userId('user-1')), [device]);
        assert.equal(await store.userByPhone(phoneOf(2)), undefined);
      });

      test('usersByPhoneHash and usersExist report only known users', async (store) => {
        const a = await addUser(store, 1);
        const found = await store.usersByPhoneHash([bytes('hash-1'), bytes('hash-unknown')]);
        assert.deepEqual(
          found.map((f) => ({ hash: text(f.phoneHash), userId: f.userId })),
          [{ hash: 'hash-1', userId: a.userId }],
        );
        assert.deepEqual(await store.usersExist([a.userId, userId('user-9')]), new Set([a.userId]));
      });

      test('primaryRegister on a known phone keeps the user and revokes the previous primary', async (store) => {
        const first = await addUser(store, 1);
        const r = await store.primaryRegister({
          userId: userId('user-1-again'),
          phone: phoneOf(1),
          phoneHash: bytes('hash-1'),
          deviceId: deviceId('user-1/new-phone'),
          tokenHash: 'token-new',
          name: 'new phone',
          now: T0 + 10,
        });
        assert.deepEqual(r, { userId: first.userId, revokedDeviceIds: [first.deviceId] });
        assert.equal(await store.deviceByTokenHash(`token-${first.deviceId}`), undefined);
        const devices = await store.deviceList(first.userId);
        assert.deepEqual(
          devices.map((d) => ({ id: d.id, primary: d.primary })),
          [{ id: 'user-1/new-phone', primary: true }],
        );
        assert.deepEqual(await store.usersExist([userId('user-1-again')]), new Set());
      });

      test('primaryRegister drops the revoked primary cursors and starts the new one at each last seq', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g', a, [b]);
        await sendMany(store, 'g', a, 3);
        await store.primaryRegister({
          userId: userId('ignored'),
          phone: phoneOf(2),
          phoneHash: bytes('hash-2'),
          deviceId: deviceId('user-2/new-phone'),
          tokenHash: 'token-new',
          name: 'new phone',
          now: T0 + 10,
        });
        assert.deepEqual(cursorList(await store.cursorsOf(b.deviceId)), []);
        const fresh = { userId: b.userId, deviceId: deviceId('user-2/new-phone') };
        assert.deepEqual(await cursorIn(store, fresh, 'g'), {
          chatId: 'g',
          ackedSeq: 4,
          endSeq: undefined,
          lastSeq: 4,
        });
        assert.deepEqual(await pendingSeqs(store, fresh, 'g'), []);
      });

      test('deviceLink adds linked devices until maxDevices are active, then fails with DEVICE_LIMIT', async (store) => {
        const a = await addUser(store, 1);
        const laptop = await linkDevice(store, a, 'laptop', 3);
        await linkDevice(store, a, 'tablet', 3);
        await assert.rejects(linkDevice(store, a, 'watch', 3), { name: 'ParleyError', code: 'DEVICE_LIMIT' });
        assert.deepEqual(sortedIds(await store.deviceList(a.userId)), [
          'user-1/laptop',
          'user-1/phone',
          'user-1/tablet',
        ]);
        const linked = await store.deviceByTokenHash(`token-${laptop.deviceId}`);
        assert.equal(linked?.primary, false);
        assert.equal(linked?.userId, a.userId);
        // Revoked devices do not count towards the limit.
        await store.deviceRevoke(laptop.deviceId, T0 + 1);
        await linkDevice(store, a, 'watch', 3);
        assert.deepEqual(sortedIds(await store.deviceList(a.userId)), [
          'user-1/phone',
          'user-1/tablet',
          'user-1/watch',
        ]);
      });

      test('deviceByTokenHash ignores revoked devices', async (store) => {
        const a = await addUser(store, 1);
        const laptop = await linkDevice(store, a, 'laptop');
        assert.equal((await store.deviceByTokenHash(`token-${laptop.deviceId}`))?.id, laptop.deviceId);
        await store.deviceRevoke(laptop.deviceId, T0 + 1);
        assert.equal(await store.deviceByTokenHash(`token-${laptop.deviceId}`), undefined);
        assert.equal(await store.deviceByTokenHash('token-unknown'), undefined);
      });

      test('devicesOfUsers lists active devices per user and omits users without any', async (store) => {
        const a = await addUser(store, 1);
        const laptop = await linkDevice(store, a, 'laptop');
        const b = await addUser(store, 2);
        const c = await addUser(store, 3);
        await store.deviceRevoke(c.deviceId, T0 + 1);
        const got = await store.devicesOfUsers([a.userId, b.userId, c.userId, userId('user-9')]);
        assert.deepEqual(
          new Map([...got].map(([u, ds]) => [u, [...ds].sort()])),
          new Map([
            [a.userId, [laptop.deviceId, a.deviceId].sort()],
            [b.userId, [b.deviceId]],
          ]),
        );
      });

      test('deviceRevoke drops the device cursors and is idempotent', async (store) => {
        const a = await addUser(store, 1);
        const laptop = await linkDevice(store, a, 'laptop');
        await createChat(store, 'g', a, []);
        assert.equal(cursorList(await store.cursorsOf(laptop.deviceId)).length, 1);
        assert.equal(await store.deviceRevoke(laptop.deviceId, T0 + 1), true);
        assert.deepEqual(cursorList(await store.cursorsOf(laptop.deviceId)), []);
        assert.equal(await store.deviceRevoke(laptop.deviceId, T0 + 2), false);
        assert.equal(await store.deviceRevoke(deviceId('user-9/phone'), T0 + 2), false);
        assert.equal(
          cursorList(await store.cursorsOf(a.deviceId)).length,
          1,
          'other devices keep their cursors',
        );
        assert.deepEqual(sortedIds(await store.deviceList(a.userId)), [a.deviceId]);
      });

      test('devicesRetireOrphans retires linked devices only when the primary was last seen before the cutoff', async (store) => {
        const cutoff = T0 + 50;
        const active = await addUser(store, 1);
        const activeLaptop = await linkDevice(store, active, 'laptop');
        await store.devicesTouch([active.deviceId], T0 + 100);
        const quiet = await addUser(store, 2);
        const quietLaptop = await linkDevice(store, quiet, 'laptop');
        await createChat(store, 'g', quiet, []);
        await store.devicesTouch([quietLaptop.deviceId], T0 + 200); // a busy linked device does not save it
        const edge = await addUser(store, 3);
        const edgeLaptop = await linkDevice(store, edge, 'laptop');
        await store.devicesTouch([edge.deviceId], cutoff); // seen at the cutoff is not before it

        assert.deepEqual(await store.devicesRetireOrphans(cutoff, T0 + 300), [quietLaptop.deviceId]);
        assert.equal(await store.deviceByTokenHash(`token-${quietLaptop.deviceId}`), undefined);
        assert.deepEqual(cursorList(await store.cursorsOf(quietLaptop.deviceId)), []);
        for (const kept of [active, activeLaptop, quiet, edge, edgeLaptop]) {
          assert.ok(await store.deviceByTokenHash(`token-${kept.deviceId}`), `${kept.deviceId} stays active`);
        }
        assert.deepEqual(await store.devicesRetireOrphans(cutoff, T0 + 301), []);
      });

      test('devicesTouch records activity for each device given, and never moves a time back', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        const c = await addUser(store, 3);
        await store.devicesTouch([c.deviceId], T0 + 500);
        await store.devicesTouch([], T0 + 100);
        await store.devicesTouch([a.deviceId, b.deviceId, c.deviceId], T0 + 100);
        const seen = async (d: Account) => (await store.deviceByTokenHash(`token-${d.deviceId}`))?.lastSeenAt;
        assert.equal(await seen(a), T0 + 100);
        assert.equal(await seen(b), T0 + 100);
        assert.equal(await seen(c), T0 + 500, 'a later time stays');
        // The batch counts for retirement as single touches do: both primaries are recent enough.
        await linkDevice(store, a, 'laptop');
        await linkDevice(store, b, 'laptop');
        assert.deepEqual(await store.devicesRetireOrphans(T0 + 50, T0 + 600), []);
      });
    });

    describe('one-time codes', () => {
      const code = (phone: string, codeHash: string) => ({
        phone,
        codeHash,
        expiresAt: T0 + 300_000,
        attempts: 0,
        sentAt: T0,
      });

      test('codePut stores a code that codeGet returns', async (store) => {
        await store.codePut(code(phoneOf(1), 'h1'));
        assert.deepEqual(await store.codeGet(phoneOf(1)), code(phoneOf(1), 'h1'));
        assert.equal(await store.codeGet(phoneOf(2)), undefined);
      });

      test('codeAttemptTake counts attempts up to the maximum, then takes none', async (store) => {
        await store.codePut(code(phoneOf(1), 'h1'));
        for (let n = 1; n <= 3; n++) {
          assert.deepEqual(await store.codeAttemptTake(phoneOf(1), T0, 3), {
            ...code(phoneOf(1), 'h1'),
            attempts: n,
          });
        }
        assert.equal(await store.codeAttemptTake(phoneOf(1), T0, 3), undefined);
        assert.equal((await store.codeGet(phoneOf(1)))?.attempts, 3);
      });

      test('codeAttemptTake takes nothing from an expired or unknown code', async (store) => {
        await store.codePut(code(phoneOf(1), 'h1'));
        assert.equal(await store.codeAttemptTake(phoneOf(1), T0 + 300_000, 5), undefined);
        assert.equal((await store.codeGet(phoneOf(1)))?.attempts, 0);
        assert.equal(await store.codeAttemptTake(phoneOf(2), T0, 5), undefined);
        assert.equal(await store.codeGet(phoneOf(2)), undefined);
      });

      test('racing codeAttemptTake calls take exactly the maximum', async (store) => {
        await store.codePut(code(phoneOf(1), 'h1'));
        const taken = await Promise.all(
          Array.from({ length: 30 }, () => store.codeAttemptTake(phoneOf(1), T0, 5)),
        );
        const counts = taken.flatMap((c) => (c ? [c.attempts] : [])).sort((a, b) => a - b);
        assert.deepEqual(counts, [1, 2, 3, 4, 5]);
        assert.equal((await store.codeGet(phoneOf(1)))?.attempts, 5);
      });

      test('codePut replaces the previous code of the phone and its attempts', async (store) => {
        await store.codePut(code(phoneOf(1), 'h1'));
        await store.codeAttemptTake(phoneOf(1), T0, 5);
        await store.codeAttemptTake(phoneOf(1), T0, 5);
        await store.codePut({ ...code(phoneOf(1), 'h2'), sentAt: T0 + 60_000 });
        assert.deepEqual(await store.codeGet(phoneOf(1)), { ...code(phoneOf(1), 'h2'), sentAt: T0 + 60_000 });
      });

      test('codeConsume deletes the code it names, once, and that phone only', async (store) => {
        await store.codePut(code(phoneOf(1), 'h1'));
        await store.codePut(code(phoneOf(2), 'h2'));
        assert.equal(await store.codeConsume(phoneOf(1), 'h1'), true);
        assert.equal(await store.codeGet(phoneOf(1)), undefined);
        assert.equal((await store.codeGet(phoneOf(2)))?.codeHash, 'h2');
        assert.equal(await store.codeConsume(phoneOf(1), 'h1'), false);
      });

      test('codeConsume leaves a newer code of the phone in place', async (store) => {
        await store.codePut(code(phoneOf(1), 'h1'));
        await store.codePut(code(phoneOf(1), 'h2'));
        assert.equal(await store.codeConsume(phoneOf(1), 'h1'), false);
        assert.equal((await store.codeGet(phoneOf(1)))?.codeHash, 'h2');
      });

      test('of racing codeConsume calls for one code exactly one wins', async (store) => {
        await store.codePut(code(phoneOf(1), 'h1'));
        const won = await Promise.all(Array.from({ length: 20 }, () => store.codeConsume(phoneOf(1), 'h1')));
        assert.equal(won.filter(Boolean).length, 1);
      });

      test('linkCodeTake returns the user once, then undefined', async (store) => {
        const a = await addUser(store, 1);
        await store.linkCodePut('link-1', a.userId, T0 + 60_000);
        assert.equal(await store.linkCodeTake('link-1', T0), a.userId);
        assert.equal(await store.linkCodeTake('link-1', T0), undefined);
      });

      test('of racing linkCodeTake calls for one code exactly one gets the user', async (store) => {
        const a = await addUser(store, 1);
        await store.linkCodePut('link-1', a.userId, T0 + 60_000);
        const got = await Promise.all(Array.from({ length: 20 }, () => store.linkCodeTake('link-1', T0)));
        assert.deepEqual(
          got.filter((u) => u !== undefined),
          [a.userId],
        );
      });

      test('codeAttemptReturn gives back an attempt of the code it names only', async (store) => {
        await store.codePut(code(phoneOf(1), 'h1'));
        await store.codeAttemptTake(phoneOf(1), T0, 5);
        await store.codeAttemptTake(phoneOf(1), T0, 5);
        await store.codeAttemptReturn(phoneOf(1), 'h-other');
        assert.equal((await store.codeGet(phoneOf(1)))?.attempts, 2);
        await store.codeAttemptReturn(phoneOf(1), 'h1');
        assert.equal((await store.codeGet(phoneOf(1)))?.attempts, 1);
        await store.codeAttemptReturn(phoneOf(1), 'h1');
        await store.codeAttemptReturn(phoneOf(1), 'h1');
        assert.equal((await store.codeGet(phoneOf(1)))?.attempts, 0, 'never below zero');
      });

      test('linkCodeTake returns undefined for an expired or unknown code', async (store) => {
        const a = await addUser(store, 1);
        await store.linkCodePut('link-1', a.userId, T0 + 60_000);
        assert.equal(await store.linkCodeTake('link-1', T0 + 60_001), undefined);
        assert.equal(await store.linkCodeTake('link-unknown', T0), undefined);
      });
    });

    registrationLockContract(test);

    describe('chats', () => {
      // Updates carry an empty clientMessageId, as on the wire (protocol.md, Message).
      test('chatCreate stores the update as seq 1 of kind update and returns the chat', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        const info = await store.chatCreate({
          chatId: chatId('g'),
          kind: 'group',
          name: 'Hikers',
          description: 'weekend trips',
          createdBy: a.userId,
          createdByDevice: a.deviceId,
          members: [
            { userId: a.userId, role: 'creator' },
            { userId: b.userId, role: 'member' },
          ],
          now: T0 + 5,
          update: bytes('created'),
        });
        const expected = {
          id: 'g',
          kind: 'group',
          name: 'Hikers',
          description: 'weekend trips',
          createdAt: T0 + 5,
          lastSeq: 1,
          members: [
            { userId: a.userId, role: 'creator', joinedAt: T0 + 5 },
            { userId: b.userId, role: 'member', joinedAt: T0 + 5 },
          ],
          onlyAdminsSend: false,
          onlyAdminsEditInfo: false,
          disappearingSeconds: 0,
          iconMediaId: '',
        };
        const bySortedMembers = (c: ChatInfo | undefined) =>
          c && { ...c, members: [...c.members].sort((x, y) => x.userId.localeCompare(y.userId)) };
        assert.deepEqual(bySortedMembers(info), expected);
        assert.deepEqual(bySortedMembers(await store.chatGet(chatId('g'))), expected);
        const [created, ...rest] = await store.messagesRead(b.deviceId, chatId('g'), 0, 1, 10);
        assert.deepEqual(rest, []);
        assert.deepEqual(created && { ...created, body: text(created.body) }, {
          chatId: 'g',
          seq: 1,
          senderUserId: a.userId,
          senderDeviceId: a.deviceId,
          clientMessageId: '',
          serverTime: T0 + 5,
          kind: 'update',
          body: 'created',
        });
        assert.equal(await store.chatGet(chatId('nope')), undefined);
      });

      test('chatCreate starts a cursor at 0 for every device of every member, but the creating one', async (store) => {
        const a = await addUser(store, 1);
        const aLaptop = await linkDevice(store, a, 'laptop');
        const b = await addUser(store, 2);
        const outsider = await addUser(store, 3);
        await createChat(store, 'g', a, [b]);
        for (const d of [aLaptop, b]) {
          assert.deepEqual(cursorList(await store.cursorsOf(d.deviceId)), [
            { chatId: 'g', ackedSeq: 0, endSeq: undefined, lastSeq: 1 },
          ]);
        }
        // The creating device wrote the CREATED update: it is caught up, with nothing to read.
        const own = await store.cursorsOf(a.deviceId);
        assert.deepEqual(own.chatIds, []);
        assert.equal(caughtUpSeq(own.caughtUp, chatId('g')), 1);
        assert.deepEqual(cursorList(await store.cursorsOf(outsider.deviceId)), []);
        assert.deepEqual(
          await pendingSeqs(store, aLaptop, 'g'),
          [1],
          'other devices of the creator get the update',
        );
        assert.deepEqual(await pendingSeqs(store, a, 'g'), [], 'the creating device does not');
      });

      test('chatDirectFind finds the direct chat of two users from either side, never a group', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        const c = await addUser(store, 3);
        await createChat(store, 'pair-group', a, [b]);
        assert.equal(await store.chatDirectFind(a.userId, b.userId), undefined);
        await createChat(store, 'direct-ab', a, [b], 'direct');
        assert.equal(await store.chatDirectFind(a.userId, b.userId), 'direct-ab');
        assert.equal(await store.chatDirectFind(b.userId, a.userId), 'direct-ab');
        assert.equal(await store.chatDirectFind(a.userId, c.userId), undefined);
      });

      test('chatCreate of a direct chat the pair already has stores nothing and returns that chat', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        const first = await createChat(store, 'direct-ab', a, [b], 'direct', T0);
        const again = await createChat(store, 'direct-ba', b, [a], 'direct', T0 + 9);
        assert.deepEqual(again, first, 'the existing chat, as it is');
        assert.equal(again.id, 'direct-ab');
        assert.equal(await store.chatGet(chatId('direct-ba')), undefined);
        assert.deepEqual(await store.chatGet(chatId('direct-ab')), first);
        assert.deepEqual(seqs(await store.messagesRead(a.deviceId, chatId('direct-ab'), 0, 10, 10)), [1]);
        assert.deepEqual(cursorList(await store.cursorsOf(a.deviceId)), [
          { chatId: 'direct-ab', ackedSeq: 1, endSeq: undefined, lastSeq: 1 },
        ]);
        assert.deepEqual(cursorList(await store.cursorsOf(b.deviceId)), [
          { chatId: 'direct-ab', ackedSeq: 0, endSeq: undefined, lastSeq: 1 },
        ]);
        const group = await createChat(store, 'pair-group', a, [b]);
        assert.equal(group.id, 'pair-group', 'a group of the same two users is still created');
      });

      test('chatCreateBatch answers each input as chatCreate would, in order', async (store) => {
        const [a, b, c] = [await addUser(store, 1), await addUser(store, 2), await addUser(store, 3)];
        const existing = await createChat(store, 'ab', a, [b], 'direct');
        const ac = chatInput('ac', a, [c], 'direct');
        const answers = await store.chatCreateBatch([
          ac,
          chatInput('ba', b, [a], 'direct'), // the pair already has 'ab'
          chatInput('ca', c, [a], 'direct'), // the pair got 'ac' earlier in this batch
          chatInput('g', a, [b, c]),
        ]);
        assert.deepEqual(
          answers.map((x) => x.id),
          ['ac', 'ab', 'ac', 'g'],
        );
        assert.deepEqual(answers[1], existing);
        assert.deepEqual(answers[0], await store.chatGet(chatId('ac')));
        assert.deepEqual(answers[3], await store.chatGet(chatId('g')));
        assert.equal(await store.chatGet(chatId('ba')), undefined);
        assert.equal(await store.chatGet(chatId('ca')), undefined);
        // Members given out of order and one of them twice: answered as reading the chat back gives it.
        const mixed = chatInput('mixed', c, [b, a, b]);
        const [mixedInfo] = await store.chatCreateBatch([mixed]);
        assert.deepEqual(mixedInfo, await store.chatGet(chatId('mixed')));
        assert.deepEqual(
          (await store.chatCreate({ ...mixed, chatId: chatId('mixed2') })).members,
          mixedInfo!.members,
        );
        // Its first message is stored exactly as createdMessage builds it (the node fans that out).
        const [created] = await store.messagesRead(c.deviceId, chatId('ac'), 0, 1, 1);
        const { body, ...fields } = created!;
        const { body: expectedBody, ...expected } = createdMessage(ac);
        assert.deepEqual(fields, expected);
        assert.deepEqual(Buffer.from(body!), Buffer.from(expectedBody!));
        assert.deepEqual(await store.chatCreateBatch([]), []);
        // A failing input fails the call and stores nothing of it.
        const dup = chatInput('g2', a, [b]);
        await assert.rejects(
          store.chatCreateBatch([dup, { ...chatInput('g', a, [c]) }, chatInput('g3', b, [c])]),
        );
        assert.equal(await store.chatGet(chatId('g2')), undefined);
        assert.equal(await store.chatGet(chatId('g3')), undefined);
        // A member who is not a user fails the call with USER_NOT_FOUND and stores nothing.
        const ghost = { ...c, userId: 'no-such-user' as UserId };
        for (const create of [
          (i: ChatCreate[]) => store.chatCreateBatch(i),
          (i: ChatCreate[]) => store.chatCreate(i[i.length - 1]!),
        ]) {
          await assert.rejects(create([chatInput('g4', a, [b]), chatInput('dg', a, [ghost], 'direct')]), {
            code: 'USER_NOT_FOUND',
          });
        }
        assert.equal(await store.chatGet(chatId('g4')), undefined);
        assert.equal(await store.chatGet(chatId('dg')), undefined);
      });

      test('chatSummaries lists the chats the user is a member of', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g1', a, [b]);
        await createChat(store, 'g2', a, []);
        assert.deepEqual(sortedIds(await store.chatSummaries(a.userId)), ['g1', 'g2']);
        assert.deepEqual(sortedIds(await store.chatSummaries(b.userId)), ['g1']);
        assert.deepEqual(await store.chatSummaries(userId('user-9')), []);
      });
    });

    describe('chatMembersPage', () => {
      test('pages through every chat in id order with members in chatGet order and the send rule', async (store) => {
        const [a, b, c] = [await addUser(store, 1), await addUser(store, 2), await addUser(store, 3)];
        for (const id of ['c3', 'c1', 'c2']) await createChat(store, id, a, [b, c]);
        await store.chatMutate({
          chatId: chatId('c2'),
          actorUserId: a.userId,
          actorDeviceId: a.deviceId,
          now: T0 + 1,
          update: new TextEncoder().encode('settings'),
          settings: { onlyAdminsSend: true, onlyAdminsEditInfo: false },
        });
        const first = await store.chatMembersPage('', 2);
        assert.deepEqual(
          first.map((x) => x.chatId),
          ['c1', 'c2'],
        );
        const rest = await store.chatMembersPage(first[1]!.chatId, 2);
        assert.deepEqual(
          rest.map((x) => x.chatId),
          ['c3'],
        );
        assert.deepEqual(await store.chatMembersPage(rest[0]!.chatId, 2), []);
        for (const page of [...first, ...rest]) {
          const chat = (await store.chatGet(page.chatId))!;
          assert.deepEqual(
            page.members,
            chat.members.map((m) => ({ userId: m.userId, role: m.role })),
          );
          assert.equal(page.kind, chat.kind);
          assert.equal(page.onlyAdminsSend, chat.onlyAdminsSend);
        }
        assert.equal(first[1]!.onlyAdminsSend, true);
      });
    });

    describe('chatCreateMany', () => {
      test('stores each chat as chatCreate does: members, roles, seq 1 and its update', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        const c = await addUser(store, 3);
        const one = await createChat(store, 'one', a, [b, c], 'group', T0 + 5);
        const created = await store.chatCreateMany([
          chatInput('many', a, [b, c], 'group', T0 + 5),
          chatInput('ab', a, [b], 'direct', T0 + 6),
        ]);
        assert.equal(created, 2);
        assert.deepEqual(await store.chatGet(chatId('many')), { ...one, id: 'many', name: 'many' });
        assert.deepEqual(await store.chatGet(chatId('ab')), {
          id: 'ab',
          kind: 'direct',
          name: 'ab',
          description: '',
          createdAt: T0 + 6,
          lastSeq: 1,
          members: [
            { userId: a.userId, role: 'creator', joinedAt: T0 + 6 },
            { userId: b.userId, role: 'member', joinedAt: T0 + 6 },
          ],
          onlyAdminsSend: false,
          onlyAdminsEditInfo: false,
          disappearingSeconds: 0,
          iconMediaId: '',
        });
        assert.equal(await store.chatDirectFind(b.userId, a.userId), 'ab');
        const [update] = await store.messagesRead(c.deviceId, chatId('one'), 0, 10, 10);
        assert.deepEqual(
          (await store.messagesRead(c.deviceId, chatId('many'), 0, 10, 10)).map((m) => ({
            ...m,
            body: text(m.body),
          })),
          [{ ...update!, chatId: 'many', body: 'created many' }],
        );
        assert.deepEqual(
          (await store.messagesRead(b.deviceId, chatId('ab'), 0, 10, 10)).map((m) => ({
            ...m,
            body: text(m.body),
          })),
          [
            {
              chatId: 'ab',
              seq: 1,
              senderUserId: a.userId,
              senderDeviceId: a.deviceId,
              clientMessageId: '',
              serverTime: T0 + 6,
              kind: 'update',
              body: 'created ab',
            },
          ],
        );
        assert.deepEqual(sortedIds(await store.chatSummaries(c.userId)), ['many', 'one']);
      });

      test('a device that adds its own user (a join) starts after its update; the user\u2019s other devices get it', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        const bLaptop = await linkDevice(store, b, 'laptop');
        await createChat(store, 'g', a, []);
        await sendMany(store, 'g', a, 2); // seqs 2..3
        const joined = await store.chatMutate({
          chatId: chatId('g'),
          actorUserId: b.userId,
          actorDeviceId: b.deviceId,
          now: T0 + 1,
          update: bytes('b joined'),
          addMembers: [{ userId: b.userId, role: 'member' }],
        });
        assert.equal(joined.seq, 4);
        assert.deepEqual(await cursorIn(store, b, 'g'), {
          chatId: 'g',
          ackedSeq: 4,
          endSeq: undefined,
          lastSeq: 4,
        });
        assert.deepEqual(await pendingSeqs(store, b, 'g'), []);
        assert.deepEqual(await cursorIn(store, bLaptop, 'g'), {
          chatId: 'g',
          ackedSeq: 3,
          endSeq: undefined,
          lastSeq: 4,
        });
        assert.deepEqual(await pendingSeqs(store, bLaptop, 'g'), [4], 'nothing from before the join');
        assert.deepEqual(await pendingSeqs(store, a, 'g'), [4], 'the other members get the join');
      });

      test('new cursors start at 0 for every active device, or acked at ackedSeq with nothing pending', async (store) => {
        const a = await addUser(store, 1);
        const aLaptop = await linkDevice(store, a, 'laptop');
        const b = await addUser(store, 2);
        const outsider = await addUser(store, 3);
        assert.equal(await store.chatCreateMany([chatInput('g0', a, [b])]), 1);
        assert.equal(await store.chatCreateMany([chatInput('g1', a, [b])], { ackedSeq: 1 }), 1);
        for (const d of [a, aLaptop, b]) {
          assert.deepEqual(await cursorIn(store, d, 'g0'), {
            chatId: 'g0',
            // The creating device wrote the CREATED update: its cursor starts after it.
            ackedSeq: d === a ? 1 : 0,
            endSeq: undefined,
            lastSeq: 1,
          });
          assert.deepEqual(await cursorIn(store, d, 'g1'), {
            chatId: 'g1',
            ackedSeq: 1,
            endSeq: undefined,
            lastSeq: 1,
          });
          assert.deepEqual(await pendingSeqs(store, d, 'g1'), []);
        }
        assert.deepEqual(await pendingSeqs(store, aLaptop, 'g0'), [1], 'as after chatCreate');
        assert.deepEqual(cursorList(await store.cursorsOf(outsider.deviceId)), []);
        // The next message is pending as usual.
        await sendMany(store, 'g1', b, 1);
        assert.deepEqual(await pendingSeqs(store, aLaptop, 'g1'), [2]);
        await assert.rejects(store.chatCreateMany([chatInput('g2', a, [b])], { ackedSeq: 2 }), {
          code: 'INVALID_ARGUMENT',
        });
        assert.equal(await store.chatGet(chatId('g2')), undefined);
      });

      test('skips direct pairs that have a chat or repeat in the call, and counts only chats created', async (store) => {
        const [a, b, c, d] = [
          await addUser(store, 1),
          await addUser(store, 2),
          await addUser(store, 3),
          await addUser(store, 4),
        ];
        const ab = await createChat(store, 'ab', a, [b], 'direct');
        const created = await store.chatCreateMany([
          chatInput('ba', b, [a], 'direct', T0 + 1),
          chatInput('ac', a, [c], 'direct', T0 + 1),
          chatInput('ca', c, [a], 'direct', T0 + 1),
          chatInput('group-ab', a, [b], 'group', T0 + 1),
          chatInput('ad', a, [d], 'direct', T0 + 1),
        ]);
        assert.equal(created, 3);
        assert.equal(await store.chatGet(chatId('ba')), undefined);
        assert.equal(await store.chatGet(chatId('ca')), undefined);
        assert.deepEqual(await store.chatGet(chatId('ab')), ab, 'the existing chat is left as it is');
        assert.equal(await store.chatDirectFind(c.userId, a.userId), 'ac');
        assert.deepEqual(seqs(await store.messagesRead(b.deviceId, chatId('ab'), 0, 10, 10)), [1]);
        assert.deepEqual(
          cursorList(await store.cursorsOf(a.deviceId))
            .map((x) => x.chatId)
            .sort(),
          ['ab', 'ac', 'ad', 'group-ab'],
        );
        assert.deepEqual(
          cursorList(await store.cursorsOf(c.deviceId)).map((x) => x.chatId),
          ['ac'],
        );
        assert.equal(
          await store.chatCreateMany([chatInput('dc', d, [c], 'direct'), chatInput('da', d, [a], 'direct')]),
          1,
        );
        assert.equal(await store.chatCreateMany([]), 0);
      });

      test('a chat id already in use fails the whole call and stores nothing', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        const c = await addUser(store, 3);
        const g = await createChat(store, 'g', a, [b]);
        await assert.rejects(
          store.chatCreateMany([chatInput('ac', a, [c], 'direct'), chatInput('g', c, [a])]),
        );
        assert.equal(await store.chatGet(chatId('ac')), undefined);
        assert.equal(await store.chatDirectFind(a.userId, c.userId), undefined);
        assert.deepEqual(await store.chatGet(chatId('g')), g);
        assert.deepEqual(cursorList(await store.cursorsOf(c.deviceId)), []);
        assert.equal(await store.chatCreateMany([chatInput('ac', a, [c], 'direct')]), 1);
      });
    });

    describe('messageCommit', () => {
      test('assigns gap-free increasing seqs within one batch, per chat', async (store) => {
        const a = await addUser(store, 1);
        await createChat(store, 'g', a, []);
        await createChat(store, 'h', a, []);
        const results = await store.messageCommit([
          send('g', a, 'm1', 'one', T0 + 1),
          send('h', a, 'm2', 'two', T0 + 2),
          send('g', a, 'm3', 'three', T0 + 3),
          send('g', a, 'm4', 'four', T0 + 4),
        ]);
        assert.deepEqual(results, [
          { ok: true, seq: 2, serverTime: T0 + 1, duplicate: false },
          { ok: true, seq: 2, serverTime: T0 + 2, duplicate: false },
          { ok: true, seq: 3, serverTime: T0 + 3, duplicate: false },
          { ok: true, seq: 4, serverTime: T0 + 4, duplicate: false },
        ]);
        const stored = await store.messagesRead(a.deviceId, chatId('g'), 1, 10, 10);
        assert.deepEqual(
          stored.map((m) => [m.seq, m.kind, m.clientMessageId, text(m.body), m.serverTime]),
          [
            [2, 'payload', 'm1', 'one', T0 + 1],
            [3, 'payload', 'm3', 'three', T0 + 3],
            [4, 'payload', 'm4', 'four', T0 + 4],
          ],
        );
      });

      test('continues seqs across batches without gaps', async (store) => {
        const a = await addUser(store, 1);
        await createChat(store, 'g', a, []);
        assert.deepEqual(await sendMany(store, 'g', a, 2), [2, 3]);
        assert.deepEqual(
          (await store.messageCommit([send('g', a, 'x'), send('g', a, 'y'), send('g', a, 'z')])).map(seqOf),
          [4, 5, 6],
        );
        assert.equal((await store.chatGet(chatId('g')))?.lastSeq, 6);
        assert.deepEqual(
          seqs(await store.messagesRead(a.deviceId, chatId('g'), 0, 100, 100)),
          [1, 2, 3, 4, 5, 6],
        );
      });

      test('a repeat within the same batch returns the first seq with duplicate: true', async (store) => {
        const a = await addUser(store, 1);
        await createChat(store, 'g', a, []);
        const results = await store.messageCommit([
          send('g', a, 'm1', 'first', T0 + 1),
          send('g', a, 'm1', 'again', T0 + 2),
          send('g', a, 'm2', 'second', T0 + 3),
        ]);
        assert.deepEqual(results, [
          { ok: true, seq: 2, serverTime: T0 + 1, duplicate: false },
          { ok: true, seq: 2, serverTime: T0 + 1, duplicate: true },
          { ok: true, seq: 3, serverTime: T0 + 3, duplicate: false },
        ]);
        const stored = await store.messagesRead(a.deviceId, chatId('g'), 1, 10, 10);
        assert.deepEqual(
          stored.map((m) => [m.seq, text(m.body)]),
          [
            [2, 'first'],
            [3, 'second'],
          ],
        );
      });

      test('a repeat in a later batch returns the first result with duplicate: true and stores nothing', async (store) => {
        const a = await addUser(store, 1);
        await createChat(store, 'g', a, []);
        await commitOne(store, send('g', a, 'm1', 'first', T0 + 1));
        const again = await commitOne(store, send('g', a, 'm1', 'again', T0 + 9));
        assert.deepEqual(again, { ok: true, seq: 2, serverTime: T0 + 1, duplicate: true });
        assert.equal((await store.chatGet(chatId('g')))?.lastSeq, 2);
        const stored = await store.messagesRead(a.deviceId, chatId('g'), 1, 10, 10);
        assert.deepEqual(
          stored.map((m) => [m.seq, text(m.body), m.serverTime]),
          [[2, 'first', T0 + 1]],
        );
        assert.equal(seqOf(await commitOne(store, send('g', a, 'm2'))), 3, 'the repeat consumed no seq');
      });

      test('the same clientMessageId from another device is a new message', async (store) => {
        const a = await addUser(store, 1);
        const laptop = await linkDevice(store, a, 'laptop');
        await createChat(store, 'g', a, []);
        const results = await store.messageCommit([send('g', a, 'm1'), send('g', laptop, 'm1')]);
        assert.deepEqual(
          results.map((r) => r.ok && [r.seq, r.duplicate]),
          [
            [2, false],
            [3, false],
          ],
        );
      });

      test('rejects a non-member with NOT_A_MEMBER without consuming a seq', async (store) => {
        const a = await addUser(store, 1);
        const outsider = await addUser(store, 2);
        await createChat(store, 'g', a, []);
        const results = await store.messageCommit([
          send('g', a, 'm1'),
          send('g', outsider, 'o1'),
          send('g', a, 'm2'),
        ]);
        assert.deepEqual(results, [
          { ok: true, seq: 2, serverTime: T0, duplicate: false },
          { ok: false, code: 'NOT_A_MEMBER' },
          { ok: true, seq: 3, serverTime: T0, duplicate: false },
        ]);
        assert.equal((await store.chatGet(chatId('g')))?.lastSeq, 3);
      });

      test('rejects an unknown chat with CHAT_NOT_FOUND without consuming a seq', async (store) => {
        const a = await addUser(store, 1);
        await createChat(store, 'g', a, []);
        const results = await store.messageCommit([send('nope', a, 'm1'), send('g', a, 'm2')]);
        assert.deepEqual(results, [
          { ok: false, code: 'CHAT_NOT_FOUND' },
          { ok: true, seq: 2, serverTime: T0, duplicate: false },
        ]);
        assert.equal(await store.chatGet(chatId('nope')), undefined);
      });

      test('a rejected send is not remembered: the same clientMessageId commits once the sender is a member', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g', a, []);
        assert.deepEqual(await commitOne(store, send('g', b, 'b1')), { ok: false, code: 'NOT_A_MEMBER' });
        await store.chatMutate({
          chatId: chatId('g'),
          actorUserId: a.userId,
          actorDeviceId: a.deviceId,
          now: T0,
          update: bytes('add b'),
          addMembers: [{ userId: b.userId, role: 'member' }],
        });
        assert.deepEqual(await commitOne(store, send('g', b, 'b1')), {
          ok: true,
          seq: 3,
          serverTime: T0,
          duplicate: false,
        });
      });

      test('a delete for everyone: a group creator may delete any message, a direct chat\u2019s creator only their own', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        const DAY = 86_400_000;
        const windows = { editMs: 15 * 60_000, deleteMs: 2 * DAY };
        const del = (chat: string, refSeq: number, id: string, from = a): SendCommit => ({
          ...send(chat, from, id, '', T0 + 3 * DAY),
          payload: undefined,
          meta: { type: 'delete', refSeq, reaction: '', mentions: [], forwardCount: 0 },
          windows,
        });
        for (const kind of ['group', 'direct'] as const) await createChat(store, kind, a, [b], kind);
        const [inGroup, inDirect, ownDirect] = (
          await store.messageCommit([
            send('group', b, 'g1'),
            send('direct', b, 'd1'),
            send('direct', a, 'd2'),
          ])
        ).map(seqOf);
        const results = await store.messageCommit([
          del('group', inGroup!, 'del-g'),
          del('direct', inDirect!, 'del-d'),
          del('direct', ownDirect!, 'del-own'),
          del('direct', inDirect!, 'del-by-sender', b),
        ]);
        assert.deepEqual(
          results.map((r) => (r.ok ? 'ok' : r.code)),
          ['ok', 'PERMISSION_DENIED', 'DELETE_WINDOW_PASSED', 'DELETE_WINDOW_PASSED'],
        );
      });
    });

    describe('reading and acking', () => {
      test('messagesRead gives each device its own per-device body, and undefined to a device without one', async (store) => {
        const a = await addUser(store, 1);
        const aLaptop = await linkDevice(store, a, 'laptop');
        const b = await addUser(store, 2);
        const c = await addUser(store, 3);
        await createChat(store, 'g', a, [b, c]);
        const perDevice = { [aLaptop.deviceId]: 'for a laptop', [b.deviceId]: 'for b' };
        assert.equal(seqOf(await commitOne(store, send('g', a, 'm1', perDevice))), 2);
        assert.equal(seqOf(await commitOne(store, send('g', a, 'm2', 'for everyone'))), 3);
        const bodies = async (d: Account) =>
          (await store.messagesRead(d.deviceId, chatId('g'), 1, 3, 10)).map((m) => text(m.body));
        assert.deepEqual(await bodies(aLaptop), ['for a laptop', 'for everyone']);
        assert.deepEqual(await bodies(b), ['for b', 'for everyone']);
        assert.deepEqual(await bodies(c), [undefined, 'for everyone']);
        assert.deepEqual(await bodies(a), [undefined, 'for everyone']);
        const [m1] = await store.messagesRead(c.deviceId, chatId('g'), 1, 2, 10);
        assert.equal(m1?.kind, 'payload', 'a message without a body for this device is still listed');
      });

      test('messagesRead returns seqs in (afterSeq, upToSeq], ascending, at most limit', async (store) => {
        const a = await addUser(store, 1);
        await createChat(store, 'g', a, []);
        await sendMany(store, 'g', a, 5);
        assert.deepEqual(seqs(await store.messagesRead(a.deviceId, chatId('g'), 2, 5, 10)), [3, 4, 5]);
        assert.deepEqual(seqs(await store.messagesRead(a.deviceId, chatId('g'), 0, 6, 2)), [1, 2]);
        assert.deepEqual(seqs(await store.messagesRead(a.deviceId, chatId('g'), 6, 6, 10)), []);
      });

      test('cursorsOf reports each chat with its acked seq and last seq', async (store) => {
        const a = await addUser(store, 1);
        await createChat(store, 'g', a, []);
        await createChat(store, 'h', a, []);
        await sendMany(store, 'g', a, 3);
        await store.cursorsAck([{ deviceId: a.deviceId, chatId: chatId('g'), seq: 2 }]);
        const cursors = cursorList(await store.cursorsOf(a.deviceId)).map((c) => ({
          ...c,
          endSeq: c.endSeq,
        }));
        cursors.sort((x, y) => x.chatId.localeCompare(y.chatId));
        assert.deepEqual(cursors, [
          { chatId: 'g', ackedSeq: 2, endSeq: undefined, lastSeq: 4 },
          { chatId: 'h', ackedSeq: 1, endSeq: undefined, lastSeq: 1 },
        ]);
        assert.deepEqual(cursorList(await store.cursorsOf(deviceId('user-9/phone'))), []);
      });

      test('cursorsOf keeps caught-up chats apart, as one string with their acked seq', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g', a, [b]);
        await createChat(store, 'h', a, [b]);
        await createChat(store, 'i', a, [b]);
        await sendMany(store, 'g', a, 2); // seqs 2..3
        await store.cursorsAck([
          { deviceId: b.deviceId, chatId: chatId('g'), seq: 3 },
          { deviceId: b.deviceId, chatId: chatId('h'), seq: 1 },
        ]);
        const cursors = await store.cursorsOf(b.deviceId);
        // Only the chat with something after its cursor is a column entry.
        assert.deepEqual(cursors.chatIds, ['i']);
        assert.deepEqual([cursors.ackedSeqs, cursors.endSeqs, cursors.lastSeqs], [[0], [0], [1]]);
        assert.equal(cursors.caughtUp, '\ng\t3\nh\t1', 'by chat id');
        assert.equal(caughtUpSeq(cursors.caughtUp, chatId('g')), 3);
        assert.equal(caughtUpSeq(cursors.caughtUp, chatId('h')), 1);
        assert.equal(caughtUpSeq(cursors.caughtUp, chatId('i')), undefined);
        assert.equal(caughtUpSeq(cursors.caughtUp, chatId('')), undefined);
      });

      test('cursorsAck moves cursors forward only and counts the ones that moved', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g', a, [b]);
        await sendMany(store, 'g', a, 4);
        const ack = (d: Account, seq: number) => ({ deviceId: d.deviceId, chatId: chatId('g'), seq });
        assert.equal(await store.cursorsAck([ack(b, 3), ack(a, 2)]), 2);
        assert.equal(await store.cursorsAck([ack(b, 2)]), 0, 'backwards');
        assert.equal(await store.cursorsAck([ack(b, 3)]), 0, 'same seq');
        assert.equal((await cursorIn(store, b, 'g'))?.ackedSeq, 3);
        assert.deepEqual(await pendingSeqs(store, b, 'g'), [4, 5]);
        assert.equal(await store.cursorsAck([ack(b, 5)]), 1);
        assert.deepEqual(await cursorIn(store, b, 'g'), {
          chatId: 'g',
          ackedSeq: 5,
          endSeq: undefined,
          lastSeq: 5,
        });
        assert.equal(
          await store.cursorsAck([{ deviceId: b.deviceId, chatId: chatId('nope'), seq: 1 }]),
          0,
          'no cursor, nothing moved',
        );
      });

      test('cursorsAck moves a cursor listed several times to its highest seq and counts it once', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g', a, [b]);
        await sendMany(store, 'g', a, 5);
        const ack = (d: Account, seq: number) => ({ deviceId: d.deviceId, chatId: chatId('g'), seq });
        assert.equal(await store.cursorsAck([ack(b, 2), ack(b, 4), ack(a, 3), ack(b, 3), ack(a, 3)]), 2);
        assert.equal((await cursorIn(store, b, 'g'))?.ackedSeq, 4, 'the highest, whatever the order');
        assert.equal((await cursorIn(store, a, 'g'))?.ackedSeq, 3);
        assert.equal(await store.cursorsAck([ack(b, 4), ack(b, 4), ack(b, 2)]), 0, 'nothing moved');
        assert.equal(await store.cursorsAck([ack(b, 6), ack(b, 5)]), 1);
        assert.equal((await cursorIn(store, b, 'g'))?.ackedSeq, 6);
      });

      test('cursorsAck deletes a bounded cursor acked through its end seq twice in one call, counting it once', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g', a, [b]);
        await store.chatMutate({
          chatId: chatId('g'),
          actorUserId: a.userId,
          actorDeviceId: a.deviceId,
          now: T0 + 1,
          update: bytes('removed'),
          removeUserIds: [b.userId],
        });
        const ack = (seq: number) => ({ deviceId: b.deviceId, chatId: chatId('g'), seq });
        assert.equal(await store.cursorsAck([ack(1), ack(2), ack(2)]), 1);
        assert.equal(await cursorIn(store, b, 'g'), undefined);
      });

      test('a device linked after messages were sent starts at the last seq with nothing pending', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g', a, [b]);
        await sendMany(store, 'g', a, 3);
        const bLaptop = await linkDevice(store, b, 'laptop');
        assert.deepEqual(await cursorIn(store, bLaptop, 'g'), {
          chatId: 'g',
          ackedSeq: 4,
          endSeq: undefined,
          lastSeq: 4,
        });
        assert.deepEqual(await pendingSeqs(store, bLaptop, 'g'), []);
        await sendMany(store, 'g', a, 1);
        assert.deepEqual(await pendingSeqs(store, bLaptop, 'g'), [5]);
      });
    });

    describe('chatMutate', () => {
      const mutate = (
        store: Store,
        actor: Account,
        now: number,
        change: Partial<Parameters<Store['chatMutate']>[0]>,
      ) =>
        store.chatMutate({
          chatId: chatId('g'),
          actorUserId: actor.userId,
          actorDeviceId: actor.deviceId,
          now,
          update: bytes(`update at ${now}`),
          ...change,
        });

      test('adding members past maxMembers is GROUP_FULL and stores nothing, even when adds race', async (store) => {
        const a = await addUser(store, 1);
        const others = await Promise.all([2, 3, 4, 5, 6, 7].map((n) => addUser(store, n)));
        await createChat(store, 'g', a, []);
        const add = (users: readonly Account[], now: number) =>
          mutate(store, a, now, {
            addMembers: users.map((u) => ({ userId: u.userId, role: 'member' as Role })),
            maxMembers: 4,
          }).then(
            () => 'ok',
            (e: { code?: string }) => e.code,
          );
        assert.equal(await add(others.slice(0, 4), T0 + 1), 'GROUP_FULL', 'five members at once');
        assert.deepEqual(memberIds(await store.chatGet(chatId('g'))), [a.userId]);
        assert.equal((await store.chatGet(chatId('g')))?.lastSeq, 1, 'the refused update is not stored');
        const results = await Promise.all(others.map((u, i) => add([u], T0 + 2 + i)));
        assert.deepEqual(
          [results.filter((r) => r === 'ok').length, results.filter((r) => r === 'GROUP_FULL').length],
          [3, 3],
        );
        const chat = await store.chatGet(chatId('g'));
        assert.equal(chat?.members.length, 4);
        assert.equal(chat?.lastSeq, 4, 'one update per accepted add, none for the refused ones');
        for (const u of others) {
          const joined: boolean = chat?.members.some((m) => m.userId === u.userId) ?? false;
          assert.equal((await cursorIn(store, u, 'g')) !== undefined, joined, 'refused users get no cursor');
        }
      });

      test('adding members stores the update and starts their cursors at its seq - 1', async (store) => {
        const a = await addUser(store, 1);
        const c = await addUser(store, 3);
        const cLaptop = await linkDevice(store, c, 'laptop');
        await createChat(store, 'g', a, []);
        await sendMany(store, 'g', a, 2);
        const update = await mutate(store, a, T0 + 7, { addMembers: [{ userId: c.userId, role: 'admin' }] });
        assert.deepEqual(
          { ...update, body: text(update.body) },
          {
            chatId: 'g',
            seq: 4,
            senderUserId: a.userId,
            senderDeviceId: a.deviceId,
            clientMessageId: '',
            serverTime: T0 + 7,
            kind: 'update',
            body: `update at ${T0 + 7}`,
          },
        );
        const chat = await store.chatGet(chatId('g'));
        assert.equal(chat?.lastSeq, 4);
        assert.deepEqual(
          chat?.members.find((m) => m.userId === c.userId),
          { userId: c.userId, role: 'admin', joinedAt: T0 + 7 },
        );
        for (const d of [c, cLaptop]) {
          assert.deepEqual(await cursorIn(store, d, 'g'), {
            chatId: 'g',
            ackedSeq: 3,
            endSeq: undefined,
            lastSeq: 4,
          });
          assert.deepEqual(
            await pendingSeqs(store, d, 'g'),
            [4],
            'the new member reads its own "added" update',
          );
        }
      });

      test('adding a user who is already a member does not move their cursors', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g', a, [b]);
        await sendMany(store, 'g', a, 2);
        await mutate(store, a, T0 + 1, { addMembers: [{ userId: b.userId, role: 'member' }] });
        assert.equal(
          (await cursorIn(store, b, 'g'))?.ackedSeq,
          0,
          'only an ack from the device moves its cursor',
        );
        assert.deepEqual(await pendingSeqs(store, b, 'g'), [1, 2, 3, 4]);
      });

      test('a member removed and added again gets nothing sent while it was out', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g', a, [b]);
        assert.equal((await mutate(store, a, T0 + 1, { removeUserIds: [b.userId] })).seq, 2);
        await sendMany(store, 'g', a, 2);
        const readded = await mutate(store, a, T0 + 2, {
          addMembers: [{ userId: b.userId, role: 'member' }],
        });
        assert.equal(readded.seq, 5);
        assert.equal((await cursorIn(store, b, 'g'))?.endSeq, undefined);
        const pending = await pendingSeqs(store, b, 'g');
        assert.deepEqual(
          pending.filter((s) => s > 2),
          [5],
          'seqs 3 and 4 were sent while b was out',
        );
        assert.deepEqual(seqs(await store.messagesHistory(b.deviceId, chatId('g'), { limit: 50 })), [5]);
      });

      test('removing a member bounds its cursors at the removal update: nothing after it is pending', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        const bLaptop = await linkDevice(store, b, 'laptop');
        await createChat(store, 'g', a, [b]);
        await sendMany(store, 'g', a, 1);
        const removal = await mutate(store, a, T0 + 1, { removeUserIds: [b.userId] });
        assert.equal(removal.seq, 3);
        await sendMany(store, 'g', a, 2);
        for (const d of [b, bLaptop]) {
          assert.deepEqual(await cursorIn(store, d, 'g'), {
            chatId: 'g',
            ackedSeq: 0,
            endSeq: 3,
            lastSeq: 5,
          });
          assert.deepEqual(await pendingSeqs(store, d, 'g'), [1, 2, 3]);
        }
        assert.deepEqual(memberIds(await store.chatGet(chatId('g'))), [a.userId]);
        assert.deepEqual(await store.chatSummaries(b.userId), []);
      });

      test('a removed member cursor is deleted once its device acks through the end seq', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        const bLaptop = await linkDevice(store, b, 'laptop');
        await createChat(store, 'g', a, [b]);
        await mutate(store, a, T0 + 1, { removeUserIds: [b.userId] });
        const ack = (seq: number) => [{ deviceId: b.deviceId, chatId: chatId('g'), seq }];
        assert.equal(await store.cursorsAck(ack(1)), 1);
        assert.deepEqual(await cursorIn(store, b, 'g'), { chatId: 'g', ackedSeq: 1, endSeq: 2, lastSeq: 2 });
        assert.equal(await store.cursorsAck(ack(2)), 1);
        assert.equal(await cursorIn(store, b, 'g'), undefined);
        assert.equal((await cursorIn(store, bLaptop, 'g'))?.endSeq, 2, 'each device acks for itself');
      });

      test('messageCommit from a removed member fails with NOT_A_MEMBER', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g', a, [b]);
        await mutate(store, a, T0 + 1, { removeUserIds: [b.userId] });
        assert.deepEqual(await commitOne(store, send('g', b, 'b1')), { ok: false, code: 'NOT_A_MEMBER' });
        assert.equal((await store.chatGet(chatId('g')))?.lastSeq, 2);
      });

      test('name, description and role changes apply and each stores the next update', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g', a, [b]);
        assert.equal((await mutate(store, a, T0 + 1, { name: 'Renamed' })).seq, 2);
        let chat = await store.chatGet(chatId('g'));
        assert.deepEqual([chat?.name, chat?.description], ['Renamed', '']);
        assert.equal((await mutate(store, a, T0 + 2, { description: 'About' })).seq, 3);
        chat = await store.chatGet(chatId('g'));
        assert.deepEqual([chat?.name, chat?.description], ['Renamed', 'About']);
        assert.equal(chat?.iconMediaId, '', 'no icon until one is set');
        const icon = 'a'.repeat(64);
        assert.equal((await mutate(store, a, T0 + 2, { iconMediaId: icon })).seq, 4);
        assert.equal((await store.chatGet(chatId('g')))?.iconMediaId, icon);
        const [summary] = await store.chatSummaries(b.userId, [chatId('g')]);
        assert.equal(summary?.iconMediaId, icon, 'chat summaries carry the icon');
        assert.equal((await mutate(store, a, T0 + 2, { iconMediaId: '' })).seq, 5);
        assert.equal((await store.chatGet(chatId('g')))?.iconMediaId, '', 'an empty id removes the icon');
        assert.equal(
          (await mutate(store, a, T0 + 3, { setRole: { userId: b.userId, role: 'admin' } })).seq,
          6,
        );
        chat = await store.chatGet(chatId('g'));
        assert.equal(chat?.members.find((m) => m.userId === b.userId)?.role, 'admin');
        assert.equal(chat?.lastSeq, 6);
        const kinds = (await store.messagesRead(b.deviceId, chatId('g'), 0, 4, 10)).map((m) => m.kind);
        assert.deepEqual(kinds, ['update', 'update', 'update', 'update']);
      });

      test('chatMutate on an unknown chat fails with CHAT_NOT_FOUND', async (store) => {
        const a = await addUser(store, 1);
        await assert.rejects(mutate(store, a, T0, { chatId: chatId('nope'), name: 'x' }), {
          name: 'ParleyError',
          code: 'CHAT_NOT_FOUND',
        });
      });

      test('pinning or unpinning in an unknown chat fails with CHAT_NOT_FOUND, an unknown message with NOT_FOUND', async (store) => {
        const a = await addUser(store, 1);
        const pin = { seq: 2, expiresAt: T0 + 1000, now: T0, max: 3 };
        const unknown = { name: 'ParleyError', code: 'CHAT_NOT_FOUND' };
        await assert.rejects(mutate(store, a, T0, { chatId: chatId('nope'), pin }), unknown);
        await assert.rejects(mutate(store, a, T0, { chatId: chatId('nope'), unpinSeq: 2 }), unknown);
        await createChat(store, 'g', a, []);
        const missing = { name: 'ParleyError', code: 'NOT_FOUND' };
        await assert.rejects(mutate(store, a, T0, { pin }), missing, 'no message 2 in g');
        await assert.rejects(mutate(store, a, T0, { unpinSeq: 2 }), missing, 'nothing pinned');
        await sendMany(store, 'g', a, 1);
        await mutate(store, a, T0, { pin });
        assert.deepEqual(await store.pinsActive(chatId('g'), T0), [
          { seq: 2, pinnedBy: a.userId, expiresAt: T0 + 1000 },
        ]);
        assert.equal((await store.chatGet(chatId('g')))?.lastSeq, 3, 'refused mutations consumed no seq');
      });
    });

    describe('messagesHistory', () => {
      /** Chat g by user 1 with messages m0..m9 at seqs 2..11. */
      async function tenMessages(store: Store) {
        const a = await addUser(store, 1);
        await createChat(store, 'g', a, []);
        await sendMany(store, 'g', a, 10);
        return a;
      }

      test('with no bound returns the newest page, newest first', async (store) => {
        const a = await tenMessages(store);
        const page = await store.messagesHistory(a.deviceId, chatId('g'), { limit: 3 });
        assert.deepEqual(
          page.map((m) => [m.seq, text(m.body)]),
          [
            [11, 'm9'],
            [10, 'm8'],
            [9, 'm7'],
          ],
        );
      });

      test('beforeSeq pages backwards, newest first', async (store) => {
        const a = await tenMessages(store);
        const before = async (seq: number) =>
          seqs(await store.messagesHistory(a.deviceId, chatId('g'), { beforeSeq: seq, limit: 3 }));
        assert.deepEqual(await before(9), [8, 7, 6]);
        assert.deepEqual(await before(3), [2, 1]);
        assert.deepEqual(await before(1), []);
      });

      test('afterSeq pages forwards, oldest first', async (store) => {
        const a = await tenMessages(store);
        const after = async (seq: number) =>
          seqs(await store.messagesHistory(a.deviceId, chatId('g'), { afterSeq: seq, limit: 2 }));
        assert.deepEqual(await after(0), [1, 2]);
        assert.deepEqual(await after(8), [9, 10]);
        assert.deepEqual(await after(10), [11]);
        assert.deepEqual(await after(11), []);
      });

      test('a member added later sees nothing from before its join', async (store) => {
        const a = await tenMessages(store);
        const c = await addUser(store, 3);
        const added = await store.chatMutate({
          chatId: chatId('g'),
          actorUserId: a.userId,
          actorDeviceId: a.deviceId,
          now: T0 + 1,
          update: bytes('add c'),
          addMembers: [{ userId: c.userId, role: 'member' }],
        });
        assert.equal(added.seq, 12);
        await sendMany(store, 'g', a, 1);
        const history = (range: { beforeSeq?: number; afterSeq?: number }) =>
          store.messagesHistory(c.deviceId, chatId('g'), { ...range, limit: 50 }).then(seqs);
        assert.deepEqual(await history({}), [13, 12]);
        assert.deepEqual(await history({ beforeSeq: 12 }), []);
        assert.deepEqual(await history({ afterSeq: 0 }), [12, 13]);
        assert.equal((await store.messagesHistory(a.deviceId, chatId('g'), { limit: 50 })).length, 13);
      });
    });

    describe('messagesExpire', () => {
      /** Chat g (created at T0) with messages at T0+10, T0+20, T0+30; b gets per-device bodies. */
      async function aging(store: Store) {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        await createChat(store, 'g', a, [b]);
        for (const t of [10, 20, 30]) {
          await commitOne(store, send('g', a, `m${t}`, { [b.deviceId]: `body ${t}` }, T0 + t));
        }
        return { a, b };
      }

      test('deletes only messages stored before the cutoff, with their per-device bodies', async (store) => {
        const { b } = await aging(store);
        assert.equal(await store.messagesExpire(T0 + 20, 100), 2);
        const left = await store.messagesRead(b.deviceId, chatId('g'), 0, 100, 100);
        assert.deepEqual(
          left.map((m) => [m.seq, text(m.body)]),
          [
            [3, 'body 20'],
            [4, 'body 30'],
          ],
        );
        assert.equal(await store.messagesExpire(T0 + 20, 100), 0);
      });

      test('deletes at most limit messages per call', async (store) => {
        const { b } = await aging(store);
        assert.equal(await store.messagesExpire(T0 + 1000, 3), 3);
        assert.equal(await store.messagesExpire(T0 + 1000, 3), 1);
        assert.equal(await store.messagesExpire(T0 + 1000, 3), 0);
        assert.deepEqual(await store.messagesRead(b.deviceId, chatId('g'), 0, 100, 100), []);
      });

      test('the receipt marks that cover only expired messages go with them; kept ones keep their times', async (store, fixture) => {
        const { b } = await aging(store); // seqs: 1 created at T0, then 2, 3, 4
        const g = chatId('g');
        for (const seq of [2, 3])
          await store.receiptsDelivered([{ chatId: g, userId: b.userId, seq }], T0 + 10 * seq);
        await store.chatReadMark(g, b.userId, 4, T0 + 40);
        const marks = await fixture.receiptMarks?.(g);
        if (marks) assert.deepEqual(marks, ['1:2', '1:3', '1:4', '2:4']);
        assert.equal(await store.messagesExpire(T0 + 20, 100), 2, 'seqs 1 and 2');
        const ofB = async (seq: number) =>
          (await store.receiptDetails(g, seq)).find((x) => x.userId === b.userId);
        assert.deepEqual(await ofB(3), { userId: b.userId, deliveredAt: T0 + 30, readAt: T0 + 40 });
        assert.deepEqual(await ofB(4), { userId: b.userId, deliveredAt: T0 + 40, readAt: T0 + 40 });
        if (marks)
          assert.deepEqual(await fixture.receiptMarks!(g), ['1:3', '1:4', '2:4'], 'the mark through 2 went');
        assert.equal(await store.messagesExpire(T0 + 1000, 100), 2, 'seqs 3 and 4');
        if (marks) assert.deepEqual(await fixture.receiptMarks!(g), [], 'no message left, no mark');
      });

      test('seqs continue after expiry: a seq is never reused', async (store) => {
        const { a } = await aging(store);
        await store.messagesExpire(T0 + 1000, 100);
        assert.equal(seqOf(await commitOne(store, send('g', a, 'after', 'x', T0 + 2000))), 5);
        assert.equal((await store.chatGet(chatId('g')))?.lastSeq, 5);
      });
    });

    describe('scale', () => {
      test('a 1024-member group can be created and messaged with per-device bodies', async (store) => {
        const users: Account[] = [];
        for (let n = 1; n <= 1024; n++) users.push(await addUser(store, n));
        const [creator, ...others] = users as [Account, ...Account[]];
        const chat = await createChat(store, 'big', creator, others);
        assert.equal(chat.members.length, 1024);
        const last = others[others.length - 1]!;
        assert.deepEqual(await cursorIn(store, last, 'big'), {
          chatId: 'big',
          ackedSeq: 0,
          endSeq: undefined,
          lastSeq: 1,
        });
        const perDevice = Object.fromEntries(others.map((u) => [u.deviceId, `for ${u.userId}`]));
        const results = await store.messageCommit([
          send('big', creator, 'm1', perDevice),
          send('big', last, 'm2', 'hi'),
        ]);
        assert.deepEqual(results.map(seqOf), [2, 3]);
        for (const u of [others[0]!, others[511]!, last]) {
          const got = await store.messagesRead(u.deviceId, chatId('big'), 0, 3, 10);
          assert.deepEqual(
            got.map((m) => text(m.body)),
            ['created big', `for ${u.userId}`, 'hi'],
          );
        }
        assert.deepEqual(await pendingSeqs(store, last, 'big'), [1, 2]);
      });

      test('chatCreateMany creates 20,100 direct chats, every pair of 201 users, in one call', async (store) => {
        const users: Account[] = [];
        for (let n = 1; n <= 201; n++) users.push(await addUser(store, n));
        const inputs: ChatCreate[] = [];
        for (const [i, u] of users.entries()) {
          for (const v of users.slice(i + 1)) inputs.push(chatInput(`d${inputs.length}`, u, [v], 'direct'));
        }
        assert.equal(await store.chatCreateMany(inputs, { ackedSeq: 1 }), 20_100);
        const last = users[200]!;
        const cursors = cursorList(await store.cursorsOf(last.deviceId));
        assert.equal(cursors.length, 200);
        assert.ok(cursors.every((c) => c.ackedSeq === 1 && c.lastSeq === 1));
        assert.equal(await store.chatDirectFind(last.userId, users[0]!.userId), 'd199');
        assert.deepEqual(memberIds(await store.chatGet(chatId('d20099'))), [users[199]!.userId, last.userId]);
        assert.deepEqual(seqs(await store.messagesRead(last.deviceId, chatId('d20099'), 0, 10, 10)), [1]);
      });
    });

    describe('presence records', () => {
      test('a new user has no last-seen time and the default visibility', async (store) => {
        const a = await addUser(store, 1);
        assert.deepEqual(await store.userPresenceGet(a.userId), {
          lastSeenAt: 0,
          visibility: 'everyone',
          readReceipts: true,
        });
        assert.equal(await store.userPresenceGet(userId('nobody-here')), undefined);
      });

      test('last seen only moves forward; visibility is kept per user', async (store) => {
        const a = await addUser(store, 1);
        await store.userLastSeenSet(a.userId, T0 + 50);
        await store.userLastSeenSet(a.userId, T0 + 10);
        await store.userVisibilitySet(a.userId, 'contacts');
        assert.deepEqual(await store.userPresenceGet(a.userId), {
          lastSeenAt: T0 + 50,
          visibility: 'contacts',
          readReceipts: true,
        });
      });

      test('usersSharingChat and usersHaveDirectChat follow chat membership', async (store) => {
        const [a, b, c, d] = [
          await addUser(store, 1),
          await addUser(store, 2),
          await addUser(store, 3),
          await addUser(store, 4),
        ];
        await createChat(store, 'dm', a, [b], 'direct');
        await createChat(store, 'grp', a, [c], 'group');
        assert.deepEqual(
          await store.usersSharingChat(a.userId, [b.userId, c.userId, d.userId]),
          new Set([b.userId, c.userId]),
        );
        assert.equal(await store.usersHaveDirectChat(b.userId, a.userId), true);
        assert.equal(await store.usersHaveDirectChat(a.userId, c.userId), false);
      });
    });

    describe('read position and chat summaries', () => {
      test('chatReadMark moves forward only, is capped at the last seq, and counts unread from others', async (store) => {
        const [a, b] = [await addUser(store, 1), await addUser(store, 2)];
        await createChat(store, 'g', a, [b]);
        await sendMany(store, 'g', a, 3);
        await sendMany(store, 'g', b, 1);
        const pos = async (seq: number) => {
          const r = await store.chatReadMark(chatId('g'), b.userId, seq, T0);
          return { readSeq: r.readSeq, unreadCount: r.unreadCount };
        };
        assert.deepEqual(await pos(2), { readSeq: 2, unreadCount: 2 });
        assert.deepEqual(await pos(1), { readSeq: 2, unreadCount: 2 });
        assert.deepEqual(await pos(999), { readSeq: 5, unreadCount: 0 });
        await assert.rejects(store.chatReadMark(chatId('g'), userId('stranger'), 1, T0), {
          code: 'NOT_A_MEMBER',
        });
      });

      test('chatSummaries report the newest message and the caller\u2019s unread count', async (store) => {
        const [a, b] = [await addUser(store, 1), await addUser(store, 2)];
        await createChat(store, 'g', a, [b]);
        await sendMany(store, 'g', a, 2, T0 + 5);
        const [s] = await store.chatSummaries(b.userId);
        assert.equal(s!.unreadCount, 2);
        assert.deepEqual(s!.lastMessage, {
          seq: 3,
          senderUserId: a.userId,
          serverTime: T0 + 5,
          isUpdate: false,
        });
        const [own] = await store.chatSummaries(a.userId, [chatId('g')]);
        assert.equal(own!.unreadCount, 0);
      });
    });

    describe('group settings and invites', () => {
      test('chatMutate changes settings, keeping the one not given', async (store) => {
        const [a, b] = [await addUser(store, 1), await addUser(store, 2)];
        await createChat(store, 'g', a, [b]);
        const base = {
          chatId: chatId('g'),
          actorUserId: a.userId,
          actorDeviceId: a.deviceId,
          now: T0,
          update: bytes('s'),
        };
        await store.chatMutate({ ...base, settings: { onlyAdminsSend: true } });
        await store.chatMutate({ ...base, settings: { onlyAdminsEditInfo: true } });
        const chat = await store.chatGet(chatId('g'));
        assert.deepEqual([chat?.onlyAdminsSend, chat?.onlyAdminsEditInfo], [true, true]);
      });

      test('an invite code belongs to one chat until replaced or revoked', async (store) => {
        const [a, b] = [await addUser(store, 1), await addUser(store, 2)];
        await createChat(store, 'g', a, [b]);
        await store.inviteSet(chatId('g'), 'code-1', a.userId, T0);
        assert.equal(await store.inviteFind('code-1'), 'g');
        await store.inviteSet(chatId('g'), 'code-2', a.userId, T0);
        assert.equal(await store.inviteFind('code-1'), undefined);
        assert.equal(await store.inviteRevoke(chatId('g')), true);
        assert.equal(await store.inviteFind('code-2'), undefined);
        assert.equal(await store.inviteRevoke(chatId('g')), false);
      });
    });

    describe('receipts', () => {
      test('delivered and read positions only move forward, reads imply delivery, each move is timed', async (store) => {
        const [a, b] = [await addUser(store, 1), await addUser(store, 2)];
        await createChat(store, 'g', a, [b]);
        await sendMany(store, 'g', a, 4); // seqs 2..5
        const [d1] = await store.receiptsDelivered(
          [{ chatId: chatId('g'), userId: b.userId, seq: 3 }],
          T0 + 1,
        );
        assert.deepEqual(d1, {
          chatId: 'g',
          userId: b.userId,
          deliveredSeq: 3,
          readSeq: 0,
          at: T0 + 1,
          previousDeliveredSeq: 0,
          previousReadSeq: 0,
          senders: [a.userId],
        });
        assert.deepEqual(
          await store.receiptsDelivered([{ chatId: chatId('g'), userId: b.userId, seq: 2 }], T0 + 2),
          [],
        );
        const read = await store.chatReadMark(chatId('g'), b.userId, 4, T0 + 3);
        assert.deepEqual([read.change?.deliveredSeq, read.change?.readSeq], [4, 4]);
        const details = await store.receiptDetails(chatId('g'), 3);
        const ofB = details.find((x) => x.userId === b.userId);
        assert.deepEqual(ofB, { userId: b.userId, deliveredAt: T0 + 1, readAt: T0 + 3 });
        const five = (await store.receiptDetails(chatId('g'), 5)).find((x) => x.userId === b.userId);
        assert.deepEqual(five, { userId: b.userId, deliveredAt: undefined, readAt: undefined });
      });

      test('a move names the senders of the messages it covers, and no earlier ones', async (store) => {
        const [a, b, c] = [await addUser(store, 1), await addUser(store, 2), await addUser(store, 3)];
        await createChat(store, 'g', a, [b, c]);
        await sendMany(store, 'g', a, 1); // seq 2
        await sendMany(store, 'g', b, 1); // seq 3
        const deliver = async (seq: number) =>
          (await store.receiptsDelivered([{ chatId: chatId('g'), userId: c.userId, seq }], T0 + seq))[0]
            ?.senders;
        assert.deepEqual(await deliver(2), [a.userId]);
        // Only delivered moves: the message of `a` was covered before, so only `b` is named.
        assert.deepEqual(await deliver(3), [b.userId]);
        // A read covers every message delivered and not read yet.
        const read = await store.chatReadMark(chatId('g'), c.userId, 3, T0 + 10);
        assert.deepEqual(new Set(read.change?.senders), new Set([a.userId, b.userId]));
        await sendMany(store, 'g', a, 1); // seq 4
        const persisted = await store.acksPersist(
          [{ deviceId: c.deviceId, userId: c.userId, chatId: chatId('g'), seq: 4 }],
          T0 + 11,
        );
        assert.deepEqual(persisted[0]?.senders, [a.userId]);
      });

      test('one pass moves a member who is also a sender another move covers: position and stamp both kept', async (store) => {
        const [a, b, c] = [await addUser(store, 1), await addUser(store, 2), await addUser(store, 3)];
        await createChat(store, 'g', a, [b, c]);
        await sendMany(store, 'g', a, 1); // seq 2
        await sendMany(store, 'g', b, 1); // seq 3
        const changes = await store.receiptsDelivered(
          [
            { chatId: chatId('g'), userId: b.userId, seq: 3 },
            { chatId: chatId('g'), userId: c.userId, seq: 3 },
          ],
          T0 + 10,
        );
        assert.deepEqual(
          changes.map((x) => [x.userId, x.deliveredSeq, new Set(x.senders)]),
          [
            [b.userId, 3, new Set([a.userId])],
            [c.userId, 3, new Set([a.userId, b.userId])],
          ],
        );
        const byUser = (x: { userId: string }, y: { userId: string }) => x.userId.localeCompare(y.userId);
        // b's row took its own move and the stamp of c's move over b's message.
        assert.deepEqual(await store.receiptsSince(b.userId, T0 + 5), [
          { chatId: 'g', userId: c.userId, deliveredSeq: 3, readSeq: 0, at: T0 + 10 },
        ]);
        assert.deepEqual(
          (await store.receiptsSince(a.userId, T0 + 5)).sort(byUser),
          [
            { chatId: 'g', userId: b.userId, deliveredSeq: 3, readSeq: 0, at: T0 + 10 },
            { chatId: 'g', userId: c.userId, deliveredSeq: 3, readSeq: 0, at: T0 + 10 },
          ].sort(byUser),
        );
        const details = (await store.receiptDetails(chatId('g'), 2)).sort(byUser);
        assert.deepEqual(
          details,
          [
            { userId: a.userId, deliveredAt: undefined, readAt: undefined },
            { userId: b.userId, deliveredAt: T0 + 10, readAt: undefined },
            { userId: c.userId, deliveredAt: T0 + 10, readAt: undefined },
          ].sort(byUser),
        );
      });

      test('receiptSenders, messageSender and receiptsSince', async (store) => {
        const [a, b, c] = [await addUser(store, 1), await addUser(store, 2), await addUser(store, 3)];
        await createChat(store, 'g', a, [b, c]);
        await sendMany(store, 'g', a, 1); // seq 2
        await sendMany(store, 'g', c, 1); // seq 3
        assert.deepEqual(
          new Set(await store.receiptSenders(chatId('g'), 0, 3)),
          new Set([a.userId, c.userId]),
        );
        assert.equal(await store.messageSender(chatId('g'), 3), c.userId);
        assert.equal(
          await store.messageSender(chatId('g'), 1),
          undefined,
          'chat updates have no sender to tell',
        );
        await store.receiptsDelivered([{ chatId: chatId('g'), userId: b.userId, seq: 3 }], T0 + 10);
        const since = await store.receiptsSince(a.userId, T0 + 5);
        assert.deepEqual(since, [
          { chatId: 'g', userId: b.userId, deliveredSeq: 3, readSeq: 0, at: T0 + 10 },
        ]);
        assert.deepEqual(await store.receiptsSince(a.userId, T0 + 10), []);
        // The move covered c's message too, so c is told; b (the mover) sent nothing covered.
        assert.deepEqual(await store.receiptsSince(c.userId, T0 + 5), since);
        assert.deepEqual(await store.receiptsSince(b.userId, T0 + 5), []);
        // A later move over c's messages only: a's catch-up has nothing new to read.
        await sendMany(store, 'g', c, 1); // seq 4
        await store.receiptsDelivered([{ chatId: chatId('g'), userId: b.userId, seq: 4 }], T0 + 20);
        assert.deepEqual(await store.receiptsSince(a.userId, T0 + 10), []);
        assert.deepEqual(await store.receiptsSince(c.userId, T0 + 10), [
          { chatId: 'g', userId: b.userId, deliveredSeq: 4, readSeq: 0, at: T0 + 20 },
        ]);
        // Several users at once, each answer at its question's index (the same user may be asked twice).
        assert.deepEqual(
          await store.receiptsSinceMany([
            { userId: c.userId, since: T0 + 10 },
            { userId: a.userId, since: T0 + 10 },
            { userId: c.userId, since: T0 + 5 },
          ]),
          [
            [{ chatId: 'g', userId: b.userId, deliveredSeq: 4, readSeq: 0, at: T0 + 20 }],
            [],
            await store.receiptsSince(c.userId, T0 + 5),
          ],
        );
        assert.deepEqual(await store.receiptsSinceMany([]), []);
        // A move in another of a's chats: a's catch-up reads that chat, and only that one.
        await createChat(store, 'h', a, [b]);
        await sendMany(store, 'h', a, 1); // seq 2
        assert.deepEqual(await store.receiptsSince(a.userId, T0 + 25), []);
        await store.receiptsDelivered([{ chatId: chatId('h'), userId: b.userId, seq: 2 }], T0 + 30);
        assert.deepEqual(await store.receiptsSince(a.userId, T0 + 25), [
          { chatId: 'h', userId: b.userId, deliveredSeq: 2, readSeq: 0, at: T0 + 30 },
        ]);
        assert.deepEqual(await store.receiptsSince(a.userId, T0 + 30), []);
        // One pass: two members move over the same message, and a member of another chat of its sender.
        await sendMany(store, 'g', a, 1); // seq 5
        await sendMany(store, 'h', a, 1); // seq 3
        await store.receiptsDelivered(
          [
            { chatId: chatId('g'), userId: b.userId, seq: 5 },
            { chatId: chatId('g'), userId: c.userId, seq: 5 },
            { chatId: chatId('h'), userId: b.userId, seq: 3 },
          ],
          T0 + 40,
        );
        const byChatAndUser = (
          x: { chatId: string; userId: string },
          y: { chatId: string; userId: string },
        ) => `${x.chatId} ${x.userId}`.localeCompare(`${y.chatId} ${y.userId}`);
        assert.deepEqual((await store.receiptsSince(a.userId, T0 + 30)).sort(byChatAndUser), [
          { chatId: 'g', userId: b.userId, deliveredSeq: 5, readSeq: 0, at: T0 + 40 },
          { chatId: 'g', userId: c.userId, deliveredSeq: 5, readSeq: 0, at: T0 + 40 },
          { chatId: 'h', userId: b.userId, deliveredSeq: 3, readSeq: 0, at: T0 + 40 },
        ]);
        assert.deepEqual(await store.receiptsSince(a.userId, T0 + 40), []);
        await store.userReadReceiptsSet(b.userId, false);
        assert.equal((await store.userPresenceGet(b.userId))?.readReceipts, false);
      });
    });

    describe('acksPersist', () => {
      test('moves cursors and delivered positions in one call, as cursorsAck then receiptsDelivered', async (store) => {
        const [a, b] = [await addUser(store, 1), await addUser(store, 2)];
        const tablet = await linkDevice(store, b, 'tablet');
        await createChat(store, 'g', a, [b]);
        await sendMany(store, 'g', a, 3); // seqs 2..4
        const ack = (device: { deviceId: DeviceId }, seq: number) => ({
          deviceId: device.deviceId,
          userId: b.userId,
          chatId: chatId('g'),
          seq,
        });
        const changes = await store.acksPersist([ack(b, 2), ack(b, 3), ack(tablet, 2)], T0 + 1);
        assert.deepEqual(changes, [
          {
            chatId: 'g',
            userId: b.userId,
            deliveredSeq: 3,
            readSeq: 0,
            at: T0 + 1,
            previousDeliveredSeq: 0,
            previousReadSeq: 0,
            senders: [a.userId],
          },
        ]);
        const cursor = async (d: { deviceId: DeviceId }) =>
          cursorList(await store.cursorsOf(d.deviceId)).find((c) => c.chatId === 'g')?.ackedSeq;
        assert.deepEqual([await cursor(b), await cursor(tablet)], [3, 2]);
        // Nothing moves again; an ack of a chat the user is not in moves nothing and fails nothing.
        assert.deepEqual(await store.acksPersist([ack(b, 3), ack(tablet, 1)], T0 + 2), []);
        const stranger = await addUser(store, 3);
        assert.deepEqual(
          await store.acksPersist(
            [{ deviceId: stranger.deviceId, userId: stranger.userId, chatId: chatId('g'), seq: 4 }],
            T0 + 3,
          ),
          [],
        );
        assert.deepEqual(await store.acksPersist([], T0 + 4), []);
        const details = (await store.receiptDetails(chatId('g'), 3)).find((x) => x.userId === b.userId);
        assert.deepEqual(details, { userId: b.userId, deliveredAt: T0 + 1, readAt: undefined });
      });

      test('a flush of hundreds of acks moves every cursor and every member, each once', async (store) => {
        // More acks than a store may write in one transaction (SQLite writes them in slices).
        const owner = await addUser(store, 1);
        const members = [];
        for (let i = 2; i <= 151; i++) members.push(await addUser(store, i));
        await createChat(store, 'big', owner, members);
        const phones = members.map((m) => ({
          deviceId: m.deviceId,
          userId: m.userId,
          chatId: chatId('big'),
        }));
        const tablets = [];
        for (const m of members.slice(0, 100)) {
          const t = await linkDevice(store, m, 'tablet');
          tablets.push({ deviceId: t.deviceId, userId: m.userId, chatId: chatId('big') });
        }
        await sendMany(store, 'big', owner, 2); // seqs 2..3
        // Phones ack seq 2 and tablets, listed after them, seq 3: 250 acks, each member
        // reported once, with its highest.
        const acks = [...phones.map((p) => ({ ...p, seq: 2 })), ...tablets.map((t) => ({ ...t, seq: 3 }))];
        const changes = await store.acksPersist(acks, T0 + 1);
        assert.equal(changes.length, members.length);
        assert.deepEqual(new Set(changes.map((c) => c.userId)), new Set(members.map((m) => m.userId)));
        const withTablet = new Set(tablets.map((t) => t.userId));
        for (const c of changes) {
          assert.equal(c.previousDeliveredSeq, 0);
          assert.equal(c.deliveredSeq, withTablet.has(c.userId) ? 3 : 2, c.userId);
        }
        for (const [d, seq] of [
          [phones[0]!, 2],
          [phones.at(-1)!, 2],
          [tablets[0]!, 3],
          [tablets[99]!, 3],
        ] as const) {
          const c = cursorList(await store.cursorsOf(d.deviceId)).find((x) => x.chatId === 'big');
          assert.equal(c?.ackedSeq, seq, `cursor of ${d.deviceId}`);
        }
        const details = await store.receiptDetails(chatId('big'), 2);
        assert.equal(details.filter((x) => x.deliveredAt === T0 + 1).length, members.length);
        // The same flush again moves nothing.
        assert.deepEqual(await store.acksPersist(acks, T0 + 2), []);
      });

      test('a delivery covering view-once messages drops their payload, but not for their sender', async (store) => {
        const [a, b] = [await addUser(store, 1), await addUser(store, 2)];
        const laptop = await linkDevice(store, a, 'laptop');
        await createChat(store, 'g', a, [b]);
        const [s1] = (
          await store.messageCommit([{ ...send('g', a, 'v1', 'look once'), meta: viewOnceMeta }])
        ).map(seqOf);
        // The sender's own other device acking does not open it.
        await store.acksPersist(
          [{ deviceId: laptop.deviceId, userId: a.userId, chatId: chatId('g'), seq: s1! }],
          T0,
        );
        const kept = await store.messagesRead(b.deviceId, chatId('g'), 0, 10, 10);
        assert.equal(text(kept.find((m) => m.seq === s1)?.body), 'look once');
        await store.acksPersist(
          [{ deviceId: b.deviceId, userId: b.userId, chatId: chatId('g'), seq: s1! }],
          T0 + 1,
        );
        const gone = (await store.messagesRead(laptop.deviceId, chatId('g'), 0, 10, 10)).find(
          (m) => m.seq === s1,
        );
        assert.ok(gone && (gone.body === undefined || gone.body.length === 0));
      });
    });

    describe('view once', () => {
      test('the first recipient delivery drops the payload, shared or per device', async (store) => {
        const [a, b] = [await addUser(store, 1), await addUser(store, 2)];
        const tablet = await linkDevice(store, b, 'tablet');
        await createChat(store, 'g', a, [b]);
        const shared = { ...send('g', a, 'v1', 'look once'), meta: viewOnceMeta };
        const perDevice = {
          ...send('g', a, 'v2', { [b.deviceId]: 'for phone', [tablet.deviceId]: 'for tablet' }),
          meta: viewOnceMeta,
        };
        const [s1, s2] = (await store.messageCommit([shared, perDevice])).map(seqOf);
        const before = await store.messagesRead(tablet.deviceId, chatId('g'), 0, 10, 10);
        assert.deepEqual(
          before.filter((m) => m.kind === 'payload').map((m) => text(m.body)),
          ['look once', 'for tablet'],
        );
        await store.receiptsDelivered([{ chatId: chatId('g'), userId: b.userId, seq: s2! }], T0 + 1);
        const after = await store.messagesRead(tablet.deviceId, chatId('g'), 0, 10, 10);
        for (const seq of [s1, s2]) {
          const m = after.find((x) => x.seq === seq);
          assert.ok(m, 'the message itself stays');
          assert.ok(m.body === undefined || m.body.length === 0, `payload of seq ${seq} is gone`);
        }
      });
    });

    describe('key directory', () => {
      const key = (n: number) => new Uint8Array([5, n & 0xff, n >> 8]);
      const signed = (id: number) => ({ id, publicKey: key(id), signature: new Uint8Array(64).fill(id) });
      const upload = (deviceId: DeviceId, oneTime: number[], extra: Partial<KeysUploadInput> = {}) => ({
        deviceId,
        identityKey: key(1000),
        registrationId: 77,
        signedPreKey: signed(1),
        lastResortKey: signed(2),
        oneTimePreKeys: oneTime.map((id) => ({ id, publicKey: key(id) })),
        replaceOneTime: false,
        maxOneTime: 200,
        now: T0,
        ...extra,
      });
      const HOUR = 3_600_000;
      let askers = 0;
      /** A take by a user who never asked before (unless named), with a budget that never binds. */
      const take = (store: Store, target: UserId, over: Partial<BundleTake> = {}) =>
        store.keysTakeBundles({
          userId: target,
          requester: userId(`asker-${++askers}`),
          now: T0,
          repeatWindowMs: 24 * HOUR,
          oneTimePerDevicePerHour: 1_000_000,
          ...over,
        });

      test('a first upload needs every key; the identity never changes afterwards', async (store) => {
        const a = await addUser(store, 1);
        await assert.rejects(store.keysUpload({ ...upload(a.deviceId, []), lastResortKey: undefined }), {
          code: 'INVALID_ARGUMENT',
        });
        assert.deepEqual(await store.keysUpload(upload(a.deviceId, [1, 2])), { oneTimeCount: 2 });
        await assert.rejects(store.keysUpload(upload(a.deviceId, [], { identityKey: key(999) })), {
          code: 'IDENTITY_KEY_MISMATCH',
        });
        await assert.rejects(store.keysUpload(upload(a.deviceId, [], { registrationId: 78 })), {
          code: 'IDENTITY_KEY_MISMATCH',
        });
        // Later uploads may omit the identity, rotate the signed key and add one-time keys.
        assert.deepEqual(
          await store.keysUpload({
            deviceId: a.deviceId,
            signedPreKey: signed(9),
            oneTimePreKeys: [{ id: 3, publicKey: key(3) }],
            replaceOneTime: false,
            maxOneTime: 200,
            now: T0 + 1,
          }),
          { oneTimeCount: 3 },
        );
        const [bundle] = await take(store, a.userId);
        assert.deepEqual(bundle?.signedPreKey, signed(9));
        assert.deepEqual(bundle?.identityKey, key(1000));
        assert.equal(bundle?.registrationId, 77);
        await assert.rejects(store.keysUpload(upload(a.deviceId, [2])), { code: 'INVALID_ARGUMENT' });
        assert.equal(await store.keysOneTimeCount(a.deviceId), 2, 'a rejected upload changes nothing');
      });

      test('each bundle consumes one one-time prekey, then the last-resort key alone', async (store) => {
        const a = await addUser(store, 1);
        const tablet = await linkDevice(store, a, 'tablet');
        await store.keysUpload(upload(a.deviceId, [1, 2]));
        await store.keysUpload(upload(tablet.deviceId, [7], { identityKey: key(2000) }));
        const first = await take(store, a.userId);
        assert.deepEqual(
          first.map((b) => [b.deviceId, b.oneTimePreKey?.id, b.oneTimeRemaining]),
          [
            [a.deviceId, 1, 1],
            [tablet.deviceId, 7, 0],
          ],
        );
        const second = await take(store, a.userId);
        assert.deepEqual(
          second.map((b) => [b.oneTimePreKey?.id, b.oneTimeRemaining]),
          [
            [2, 0],
            [undefined, 0],
          ],
        );
        assert.deepEqual(second[1]?.lastResortKey, signed(2));
        const third = await take(store, a.userId);
        assert.deepEqual(
          third.map((b) => b.oneTimePreKey),
          [undefined, undefined],
        );
        assert.equal(await store.keysOneTimeCount(a.deviceId), 0);
      });

      test('bundles limited to some devices consume only those devices’ keys', async (store) => {
        const a = await addUser(store, 1);
        const tablet = await linkDevice(store, a, 'tablet');
        await store.keysUpload(upload(a.deviceId, [1, 2]));
        await store.keysUpload(upload(tablet.deviceId, [7, 8], { identityKey: key(2000) }));
        const only = await take(store, a.userId, { deviceIds: [tablet.deviceId] });
        assert.deepEqual(
          only.map((b) => [b.deviceId, b.oneTimePreKey?.id]),
          [[tablet.deviceId, 7]],
        );
        assert.equal(await store.keysOneTimeCount(a.deviceId), 2, 'the phone’s keys are untouched');
        assert.deepEqual(await take(store, a.userId, { deviceIds: ['d_other' as DeviceId] }), []);
      });

      test('concurrent takes never hand out the same one-time prekey', async (store) => {
        const a = await addUser(store, 1);
        await store.keysUpload(
          upload(
            a.deviceId,
            Array.from({ length: 50 }, (_, i) => i + 1),
          ),
        );
        const taken = (await Promise.all(Array.from({ length: 60 }, () => take(store, a.userId))))
          .flat()
          .map((b) => b.oneTimePreKey?.id)
          .filter((id) => id !== undefined);
        assert.equal(taken.length, 50);
        assert.equal(new Set(taken).size, 50);
      });

      test('a requester gets a device\u2019s one-time prekey once per repeat window, then bundles without', async (store) => {
        const a = await addUser(store, 1);
        const tablet = await linkDevice(store, a, 'tablet');
        await store.keysUpload(upload(a.deviceId, [1, 2, 3, 4]));
        await store.keysUpload(upload(tablet.deviceId, [7, 8], { identityKey: key(2000) }));
        const asker = userId('stranger');
        const ids = async (over: Partial<BundleTake>) =>
          (await take(store, a.userId, { requester: asker, ...over })).map((b) => b.oneTimePreKey?.id);
        assert.deepEqual(await ids({ deviceIds: [a.deviceId] }), [1]);
        assert.deepEqual(await ids({ now: T0 + 1 }), [undefined, 7], 'the phone\u2019s again: none');
        for (let i = 0; i < 10; i++) assert.deepEqual(await ids({ now: T0 + 2 + i }), [undefined, undefined]);
        assert.equal(await store.keysOneTimeCount(a.deviceId), 3, 'one taken, however often asked');
        const [bundle] = await take(store, a.userId, { requester: asker, now: T0 + 20 });
        assert.deepEqual([bundle?.signedPreKey, bundle?.lastResortKey], [signed(1), signed(2)]);
        assert.equal(bundle?.oneTimeRemaining, 3);
        assert.deepEqual(await ids({ now: T0 + 24 * HOUR + 1 }), [2, 8], 'a new window, a new key');
        assert.deepEqual(
          (await take(store, a.userId)).map((b) => b.oneTimePreKey?.id),
          [3, undefined],
        );
      });

      test('a device hands out at most oneTimePerDevicePerHour one-time prekeys per hour, whoever asks', async (store) => {
        const a = await addUser(store, 1);
        await store.keysUpload(
          upload(
            a.deviceId,
            Array.from({ length: 20 }, (_, i) => i + 1),
          ),
        );
        const budget = { oneTimePerDevicePerHour: 3 };
        const given = async (now: number, n: number) => {
          let count = 0;
          for (let i = 0; i < n; i++)
            if ((await take(store, a.userId, { ...budget, now }))[0]?.oneTimePreKey) count++;
          return count;
        };
        assert.equal(await given(T0, 5), 3);
        assert.equal(await given(T0 + HOUR - 1, 2), 0, 'still within the hour of the first three');
        assert.equal(await store.keysOneTimeCount(a.deviceId), 17);
        assert.equal(await given(T0 + HOUR, 5), 3, 'the first three are an hour old');
        // Many requesters at once, as on several nodes: the budget still holds exactly.
        const racing = await Promise.all(
          Array.from({ length: 12 }, () => take(store, a.userId, { ...budget, now: T0 + 3 * HOUR })),
        );
        assert.equal(racing.filter(([b]) => b?.oneTimePreKey).length, 3);
        const asker = userId('eager');
        const same = await Promise.all(
          Array.from({ length: 6 }, () =>
            take(store, a.userId, { requester: asker, oneTimePerDevicePerHour: 100, now: T0 + 3 * HOUR }),
          ),
        );
        assert.equal(
          same.filter(([b]) => b?.oneTimePreKey).length,
          1,
          'one requester racing itself gets one',
        );
        assert.equal(await store.keysOneTimeCount(a.deviceId), 20 - 3 - 3 - 3 - 1);
      });

      test('replaceOneTime drops the old keys; the limit counts what is stored', async (store) => {
        const a = await addUser(store, 1);
        await store.keysUpload(upload(a.deviceId, [1, 2, 3], { maxOneTime: 4 }));
        await assert.rejects(store.keysUpload(upload(a.deviceId, [4, 5], { maxOneTime: 4 })), {
          code: 'INVALID_ARGUMENT',
        });
        assert.deepEqual(
          await store.keysUpload(upload(a.deviceId, [4, 5], { replaceOneTime: true, maxOneTime: 4 })),
          {
            oneTimeCount: 2,
          },
        );
        const [bundle] = await take(store, a.userId);
        assert.equal(bundle?.oneTimePreKey?.id, 4);
      });

      test('revoked devices and devices without keys have no bundle or identity', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        const tablet = await linkDevice(store, a, 'tablet');
        await linkDevice(store, a, 'laptop');
        await store.keysUpload(upload(a.deviceId, [1]));
        await store.keysUpload(upload(tablet.deviceId, [1], { identityKey: key(2000) }));
        await store.deviceRevoke(tablet.deviceId, T0 + 1);
        assert.deepEqual(
          (await take(store, a.userId)).map((x) => x.deviceId),
          [a.deviceId],
        );
        assert.deepEqual(await store.keysIdentities([a.userId, b.userId, a.userId]), [
          { userId: a.userId, deviceId: a.deviceId, registrationId: 77, identityKey: key(1000) },
        ]);
        assert.deepEqual(await take(store, b.userId), []);
      });

      test('keysOneTimeCounts counts for each active device with keys, and leaves out the others', async (store) => {
        const a = await addUser(store, 1);
        const b = await addUser(store, 2);
        const tablet = await linkDevice(store, a, 'tablet');
        const laptop = await linkDevice(store, a, 'laptop');
        await store.keysUpload(upload(a.deviceId, [1, 2, 3]));
        await store.keysUpload(upload(tablet.deviceId, [], { identityKey: key(2000) }));
        await store.keysUpload(upload(b.deviceId, [5], { identityKey: key(3000) }));
        await store.deviceRevoke(tablet.deviceId, T0 + 1);
        await take(store, a.userId); // one of the phone's is handed out
        const counts = await store.keysOneTimeCounts([
          a.deviceId,
          tablet.deviceId,
          laptop.deviceId,
          b.deviceId,
        ]);
        assert.deepEqual(
          [...counts].sort(([x], [y]) => (x < y ? -1 : 1)),
          [
            [a.deviceId, 2],
            [b.deviceId, 1],
          ],
          'the revoked tablet and the laptop without keys are absent',
        );
        assert.equal((await store.keysOneTimeCounts([])).size, 0);
      });
    });

    describe('account erasure', () => accountEraseContract(test));
    describe('contact discovery', () => discoveryContract(test));
    describe('blocking, reports and moderation', () => moderationContract(test));
    describe('mutes and do-not-disturb', () => mutesContract(test));
    describe('media references and access', () => mediaContract(test));

    describe('profiles', () => profilesContract(test));
    describe('push outbox', () => pushContract(test));

    describe('lifecycle', () => {
      test('ping resolves while the store is open', async (store) => {
        await store.ping();
      });
    });
  });
}
