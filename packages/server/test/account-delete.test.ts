/**
 * Deleting an account over real HTTP and sockets, on SQLite and (with
 * PARLEY_TEST_POSTGRES_URL) PostgreSQL: the other members get the usual chat updates, the
 * account's sockets close, its media goes, its number registers afresh, and a scan of every
 * table of the real database finds the user id, number or number hash only in the rows
 * docs/accounts.md says are kept.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Chat, ChatKind, CloseCodes, MessageType, Role } from '@parley/protocol';
import { KIND_UPDATE } from '../src/adapters/store/message-rows.js';
import { PostgresStore } from '../src/adapters/store/postgres/postgres-store.js';
import { dropSchema, freshSchema } from '../src/adapters/store/postgres/testing.js';
import type { Store } from '../src/ports/store.js';
import { type ChatId, cursorList, type DeviceId } from '../src/ports/types.js';
import { type Hit, scanPostgres, scanSqlite } from './db-scan.js';
import {
  createGroup,
  http,
  linkDevice,
  RawClient,
  register,
  startNode,
  type TestNode,
  text,
} from './harness.js';
import { makeKeys } from './key-fixtures.js';

const url = process.env.PARLEY_TEST_POSTGRES_URL;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const utf8 = (s: string) => new TextEncoder().encode(s);

async function putMedia(t: TestNode, body: Uint8Array, token: string): Promise<string> {
  const id = sha(body);
  const res = await fetch(`${t.url}/v1/media/${id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}` },
    body,
  });
  assert.ok(res.status === 201 || res.status === 200, `upload: ${res.status}`);
  return id;
}

/** Waits until the device's cursor in the chat is acked through `seq` (acks are flushed in batches). */
async function acked(store: Store, deviceId: string, chatId: string, seq: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const c = cursorList(await store.cursorsOf(deviceId as DeviceId)).find((x) => x.chatId === chatId);
    if (!c || c.ackedSeq >= seq) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`device ${deviceId} never acked ${chatId} through ${seq}`);
}

const backends: Array<{
  name: string;
  skip?: string;
  start: () => Promise<{
    t: TestNode;
    scan: (needles: Uint8Array[]) => Promise<Hit[]>;
    done: () => Promise<void>;
  }>;
}> = [
  {
    name: 'SQLite',
    start: async () => {
      const t = await startNode();
      return {
        t,
        scan: async (needles) => scanSqlite(join(t.dataDir, 'parley.db'), needles),
        done: () => t.stop(),
      };
    },
  },
  {
    name: 'PostgreSQL',
    ...(url === undefined && { skip: 'PARLEY_TEST_POSTGRES_URL is not set' }),
    start: async () => {
      const schema = freshSchema();
      const store = await PostgresStore.open(url!, { schema, poolSize: 8 });
      const t = await startNode({}, { store });
      return {
        t,
        scan: (needles) => scanPostgres(url!, schema, needles),
        done: async () => {
          await t.stop();
          await dropSchema(url!, schema);
        },
      };
    },
  },
];

for (const backend of backends) {
  describe(`deleting an account (${backend.name})`, { ...(backend.skip && { skip: backend.skip }) }, () => {
    let t: TestNode;
    let scan: (needles: Uint8Array[]) => Promise<Hit[]>;
    let done: () => Promise<void>;
    before(async () => {
      if (backend.skip) return;
      ({ t, scan, done } = await backend.start());
    });
    after(() => done?.());

    it('erases the account: members are told, sockets close, media goes, the number registers afresh, and no row names the user except those documented as kept', async () => {
      const store = t.node.store;
      const dan = await register(t);
      const danLaptop = await linkDevice(t, dan);
      const [amy, ben, cat] = [await register(t), await register(t), await register(t)];
      const d = await RawClient.connect(t, dan);
      const dl = await RawClient.connect(t, danLaptop);
      const a = await RawClient.connect(t, amy);
      const b = await RawClient.connect(t, ben);
      // Keys both ways: prekey grants name dan as requester and as owner.
      await d.call({ case: 'uploadKeys', value: makeKeys(3).upload });
      await a.call({ case: 'uploadKeys', value: makeKeys(3).upload });
      await a.call({ case: 'getPreKeyBundles', value: { userId: dan.userId } });
      await d.call({ case: 'getPreKeyBundles', value: { userId: amy.userId } });
      // An encrypted profile: its row names dan.
      await d.call({ case: 'setProfile', value: { version: 1n, ciphertext: text('sealed profile') } });

      // A direct chat with amy, a group dan created with amy and ben (dan its only admin), a
      // group amy created with dan, one with cat (offline: what dan sends there stays
      // pending), and one everybody else left.
      const direct = (
        await d.call<{ chat: Chat }>({
          case: 'createChat',
          value: { kind: ChatKind.DIRECT, memberUserIds: [amy.userId], name: '' },
        })
      ).chat.id;
      const g1 = await createGroup(d, [amy.userId, ben.userId], 'dan’s group');
      const g2 = await createGroup(a, [dan.userId], 'amy’s group');
      const g3 = await createGroup(d, [cat.userId], 'with cat');
      const g4 = await createGroup(d, [ben.userId], 'soon alone');
      await b.call({ case: 'leaveChat', value: { chatId: g4 } });
      const send = async (c: RawClient, chatId: string, id: string, meta?: Record<string, unknown>) => {
        // A reaction carries no payload.
        const payload = meta?.type === MessageType.REACTION ? {} : { payload: text(`body ${id}`) };
        const value = { chatId, clientMessageId: id, ...payload, ...(meta && { meta }) };
        return Number((await c.call<{ seq: bigint }>({ case: 'send', value })).seq);
      };
      await send(d, direct, 'd1');
      const g1Hello = await send(d, g1, 'g1-1');
      const mention = await send(a, g1, 'g1-2', { mentions: [dan.userId] });
      await send(d, g1, 'g1-3', { type: MessageType.REACTION, refSeq: BigInt(mention), reaction: '👍' });
      await d.call({ case: 'pin', value: { chatId: g1, seq: BigInt(g1Hello), duration: 1 } });
      await d.call({ case: 'createInvite', value: { chatId: g1 } });
      await d.call({ case: 'markRead', value: { chatId: g1, seq: BigInt(mention) } });
      await send(d, g2, 'g2-1');
      const pendingForCat = await send(d, g3, 'g3-1');
      await send(d, g4, 'g4-1');
      const amyHash = new Uint8Array(createHash('sha256').update(amy.phone).digest());
      await d.call({ case: 'discover', value: { phoneHashes: [amyHash] } });
      const onlyDans = await putMedia(t, utf8('dan’s photo'), dan.token);
      const shared = await putMedia(t, utf8('a forwarded photo'), dan.token);
      await putMedia(t, utf8('a forwarded photo'), amy.token);
      await http(`${t.url}/v1/devices/link-code`, 'POST', {}, dan.token);
      // A registration-lock PIN: registering the number afresh below needs none once it is erased.
      assert.equal(
        (await http(`${t.url}/v1/account/pin`, 'PUT', { pin: '24681357' }, dan.token)).status,
        200,
      );

      const lastSeq = new Map<string, number>();
      for (const chatId of [direct, g1, g2, g3]) {
        const chat = (await store.chatGet(chatId as ChatId))!;
        lastSeq.set(chatId, chat.lastSeq);
        if (chatId !== g3) {
          await acked(store, amy.deviceId, chatId, chat.lastSeq);
          if (chatId === g1) await acked(store, ben.deviceId, chatId, chat.lastSeq);
        }
      }

      const needles = [
        utf8(dan.userId),
        utf8(dan.phone),
        new Uint8Array(createHash('sha256').update(dan.phone).digest()),
        utf8(createHash('sha256').update(dan.phone).digest('hex')),
      ];
      // The scan finds what names dan while the account exists (a negative control).
      const before = new Set((await scan(needles)).map((h) => h.table));
      for (const table of ['users', 'devices', 'members', 'messages', 'reactions', 'pins', 'invites']) {
        assert.ok(before.has(table), `before deletion the scan finds dan in ${table}`);
      }
      for (const table of [
        'receipt_marks',
        'one_time_grants',
        'link_codes',
        'media_uploads',
        'registration_locks',
        'discovery_lookups',
      ]) {
        assert.ok(before.has(table), `before deletion the scan finds dan in ${table}`);
      }

      // Only the primary may ask; a wrong code, or a registration code, deletes nothing.
      const denied = await http(`${t.url}/v1/account/delete-code`, 'POST', {}, danLaptop.token);
      assert.equal(denied.body.error.code, 'PERMISSION_DENIED');
      const sent = await http(`${t.url}/v1/account/delete-code`, 'POST', {}, dan.token);
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.phone, dan.phone);
      const deleteCode = t.sms.codes.get(dan.phone)!;
      assert.equal((await http(`${t.url}/v1/auth/code`, 'POST', { phone: dan.phone })).status, 200);
      const registrationCode = t.sms.codes.get(dan.phone)!;
      if (registrationCode !== deleteCode) {
        const wrong = await http(`${t.url}/v1/account`, 'DELETE', { code: registrationCode }, dan.token);
        assert.equal(wrong.body.error.code, 'CODE_INVALID');
      }
      const r = await http(`${t.url}/v1/account`, 'DELETE', { code: deleteCode }, dan.token);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body, { chatsLeft: 4, chatsDropped: 1 });

      // Both of dan's sockets close; his credentials are gone.
      assert.equal(await d.closed, CloseCodes.REVOKED);
      assert.equal(await dl.closed, CloseCodes.REVOKED);
      assert.equal((await http(`${t.url}/v1/devices`, 'GET', undefined, dan.token)).status, 401);
      // The other members were told, and dan's group, left without an admin, promoted one.
      const chat1 = await a.call<{ chat: Chat }>({ case: 'getChat', value: { chatId: g1 } });
      assert.deepEqual(chat1.chat.members.map((m) => m.userId).sort(), [amy.userId, ben.userId].sort());
      assert.deepEqual(chat1.chat.members.map((m) => m.role).sort(), [Role.MEMBER, Role.ADMIN].sort());
      await a.waitFor(
        (f) =>
          f.body.case === 'deliver' &&
          f.body.value.messages.some((m) => m.chatId === direct && m.body.case === 'chatUpdate'),
      );
      // Media only dan uploaded is gone; media amy uploaded too stays.
      assert.equal((await http(`${t.url}/v1/media/${onlyDans}`, 'GET', undefined, amy.token)).status, 404);
      assert.equal(
        (await fetch(`${t.url}/v1/media/${shared}`, { headers: { authorization: `Bearer ${amy.token}` } }))
          .status,
        200,
      );

      // What still names dan: exactly what docs/accounts.md lists as kept.
      const hits = await scan(needles);
      const row = (h: Hit) => `${h.table}.${h.column} ${String(h.row.chat_id)}#${String(h.row.seq)}`;
      for (const h of hits) {
        assert.equal(h.table, 'messages', `only messages may name dan, found ${row(h)}`);
        const chatId = String(h.row.chat_id);
        const seq = Number(h.row.seq);
        const sender = String(h.row.sender_user);
        if (sender === dan.userId) {
          // (1) dan's messages not yet received by every other member's devices: all of the
          // chat with cat (she never connected), and the updates the deletion stored (dan left,
          // an admin was promoted).
          const storedByDeletion = seq > (lastSeq.get(chatId) ?? Number.POSITIVE_INFINITY);
          assert.ok(
            chatId === g3 || storedByDeletion,
            `dan’s message ${row(h)} was received everywhere yet kept`,
          );
        } else {
          // (2) other users' messages that name dan: chat updates and mentions.
          const update = h.column === 'body' && Number(h.row.kind) === KIND_UPDATE;
          assert.ok(update || h.column === 'mentions', `another user’s message ${row(h)} names dan`);
        }
      }
      // dan's device ids remain only as the sending device of those kept messages.
      for (const h of await scan([utf8(dan.deviceId), utf8(danLaptop.deviceId)])) {
        assert.equal(`${h.table}.${h.column}`, 'messages.sender_device', row(h));
      }
      const found = new Set(hits.map((h) => `${String(h.row.chat_id)}#${Number(h.row.seq)}`));
      assert.ok(found.has(`${g3}#${pendingForCat}`), 'the message cat has not fetched is kept');
      assert.ok(found.has(`${g1}#${mention}`), 'amy’s message mentioning dan is kept');
      assert.ok(!found.has(`${g1}#${g1Hello}`), 'a message received everywhere is erased');
      assert.ok(!hits.some((h) => String(h.row.chat_id) === g4), 'the chat nobody else was in is gone');

      // Cat still gets what dan sent her, then the update that he left.
      const c = await RawClient.connect(t, cat);
      const got = await c.waitForMessages(1, g3);
      assert.equal(Number(got[0]!.seq), pendingForCat);
      // The number registers afresh, as a new user that discovery finds.
      const again = await register(t, dan.phone);
      assert.notEqual(again.userId, dan.userId);
      const [user] = await store.usersByPhoneHash([createHash('sha256').update(dan.phone).digest()]);
      assert.equal(user?.userId, again.userId);
      await Promise.all([a.close(), b.close(), c.close()]);
    });
  });
}

describe('account deletion refuses malformed requests with stable codes', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode();
  });
  after(() => t.stop());

  it('answers each malformed request with its code and deletes nothing', async () => {
    const dan = await register(t);
    const laptop = await linkDevice(t, dan);
    // A null token sends none.
    const del = (body: unknown, token: string | null = dan.token) =>
      http(`${t.url}/v1/account`, 'DELETE', body, token ?? undefined);
    const ask = (body: unknown, token: string | null = dan.token) =>
      http(`${t.url}/v1/account/delete-code`, 'POST', body, token ?? undefined);
    type Answer = Promise<{ status: number; body: { error?: { code: string } } }>;
    const cases: Array<[string, () => Answer, number, string]> = [
      ['no token', () => del({ code: '123456' }, null), 401, 'UNAUTHENTICATED'],
      ['a bad token', () => del({ code: '123456' }, 'nope'), 401, 'UNAUTHENTICATED'],
      ['not JSON', () => del('{"code":'), 400, 'INVALID_ARGUMENT'],
      ['an array', () => del('[]'), 400, 'INVALID_ARGUMENT'],
      ['a string', () => del('"123456"'), 400, 'INVALID_ARGUMENT'],
      ['an empty body', () => del(undefined), 400, 'INVALID_ARGUMENT'],
      ['no code', () => del({}), 400, 'INVALID_ARGUMENT'],
      ['a numeric code', () => del({ code: 123456 }), 400, 'INVALID_ARGUMENT'],
      ['a null code', () => del({ code: null }), 400, 'INVALID_ARGUMENT'],
      ['an unknown field', () => del({ code: '123456', phone: dan.phone }), 400, 'INVALID_ARGUMENT'],
      ['a huge code', () => del({ code: '1'.repeat(65) }), 400, 'INVALID_ARGUMENT'],
      ['a body over 16 KiB', () => del({ code: '1'.repeat(20_000) }), 400, 'INVALID_ARGUMENT'],
      ['a code of 5 digits', () => del({ code: '12345' }), 400, 'CODE_INVALID'],
      ['a code never requested', () => del({ code: '123456' }), 400, 'CODE_INVALID'],
      ['a linked device', () => del({ code: '123456' }, laptop.token), 403, 'PERMISSION_DENIED'],
      ['asking with a field', () => ask({ phone: dan.phone }), 400, 'INVALID_ARGUMENT'],
      ['asking with an array', () => ask('[1]'), 400, 'INVALID_ARGUMENT'],
      ['asking with bad JSON', () => ask('{'), 400, 'INVALID_ARGUMENT'],
      ['asking without a token', () => ask({}, null), 401, 'UNAUTHENTICATED'],
      ['asking from a linked device', () => ask({}, laptop.token), 403, 'PERMISSION_DENIED'],
    ];
    for (const [what, answer, status, code] of cases) {
      const r = await answer();
      assert.equal(r.body?.error?.code, code, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.status, status, what);
    }
    // A code used up by wrong guesses deletes nothing either.
    assert.equal((await ask({})).status, 200);
    const right = t.sms.codes.get(dan.phone)!;
    const wrong = right === '000000' ? '000001' : '000000';
    let last = '';
    for (let i = 0; i < 6; i++) last = (await del({ code: wrong })).body.error.code;
    assert.equal(last, 'TOO_MANY_ATTEMPTS');
    assert.equal((await del({ code: right })).body.error.code, 'TOO_MANY_ATTEMPTS');
    const devices = await http(`${t.url}/v1/devices`, 'GET', undefined, dan.token);
    assert.equal(devices.status, 200);
    assert.equal(devices.body.devices.length, 2);
  });
});
