import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Chat, ChatUpdateKind, Role } from '@parley/protocol';
import {
  answerCode,
  type Creds,
  createGroup,
  RawClient,
  register,
  startNode,
  type TestNode,
  text,
} from './harness.js';

const code = answerCode;
const roleOf = (chat: Chat, userId: string) => chat.members.find((m) => m.userId === userId)?.role;

describe('group administration', () => {
  let t: TestNode;
  let alice: Creds;
  let bob: Creds;
  let carol: Creds;
  let dave: Creds;

  before(async () => {
    t = await startNode({ maxGroupMembers: 4 });
    [alice, bob, carol, dave] = [await register(t), await register(t), await register(t), await register(t)];
  });
  after(() => t.stop());

  const group = (c: RawClient, members: string[]) => createGroup(c, members, 'club');

  it('admins promote and demote members; members and the creator\u2019s role are protected', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = await group(a, [bob.userId, carol.userId]);
    assert.equal(
      code(await b.request({ case: 'addMembers', value: { chatId, userIds: [dave.userId] } })),
      'PERMISSION_DENIED',
    );
    const promoted = await a.call<{ chat: Chat }>({
      case: 'setRole',
      value: { chatId, userId: bob.userId, role: Role.ADMIN },
    });
    assert.equal(roleOf(promoted.chat, bob.userId), Role.ADMIN);
    await b.waitFor(
      (f) =>
        f.body.case === 'deliver' &&
        f.body.value.messages.some(
          (m) => m.body.case === 'chatUpdate' && m.body.value.kind === ChatUpdateKind.ROLE_CHANGED,
        ),
    );
    assert.equal(
      code(await b.request({ case: 'setRole', value: { chatId, userId: alice.userId, role: Role.MEMBER } })),
      'PERMISSION_DENIED',
    );
    const c = await RawClient.connect(t, carol);
    assert.equal(
      code(await c.request({ case: 'setRole', value: { chatId, userId: bob.userId, role: Role.MEMBER } })),
      'PERMISSION_DENIED',
    );
    const demoted = await b.call<{ chat: Chat }>({
      case: 'setRole',
      value: { chatId, userId: bob.userId, role: Role.MEMBER },
    });
    assert.equal(roleOf(demoted.chat, bob.userId), Role.MEMBER);
    assert.equal(
      code(await a.request({ case: 'setRole', value: { chatId, userId: bob.userId, role: Role.CREATOR } })),
      'INVALID_ARGUMENT',
    );
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('"only admins can send" and "only admins can edit info" are enforced and announced', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = await group(a, [bob.userId]);
    const renamed = await b.call<{ chat: Chat }>({ case: 'updateChat', value: { chatId, name: 'by bob' } });
    assert.equal(renamed.chat.name, 'by bob', 'members may edit info by default');
    assert.equal(
      code(await b.request({ case: 'updateChat', value: { chatId, onlyAdminsSend: true } })),
      'PERMISSION_DENIED',
    );
    const set = await a.call<{ chat: Chat }>({
      case: 'updateChat',
      value: { chatId, onlyAdminsSend: true, onlyAdminsEditInfo: true },
    });
    assert.deepEqual([set.chat.onlyAdminsSend, set.chat.onlyAdminsEditInfo], [true, true]);
    await b.waitFor(
      (f) =>
        f.body.case === 'deliver' &&
        f.body.value.messages.some(
          (m) =>
            m.body.case === 'chatUpdate' &&
            m.body.value.kind === ChatUpdateKind.SETTINGS_CHANGED &&
            m.body.value.onlyAdminsSend,
        ),
    );
    assert.equal(
      code(await b.request({ case: 'send', value: { chatId, clientMessageId: 'm', payload: text('no') } })),
      'PERMISSION_DENIED',
    );
    assert.equal(
      code(await b.request({ case: 'updateChat', value: { chatId, name: 'nope' } })),
      'PERMISSION_DENIED',
    );
    assert.equal(
      code(await a.request({ case: 'send', value: { chatId, clientMessageId: 'm', payload: text('yes') } })),
      'sendResult',
    );
    await Promise.all([a.close(), b.close()]);
  });

  it('invite links let people join until revoked, within the member limit', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const c = await RawClient.connect(t, carol);
    const d = await RawClient.connect(t, dave);
    const chatId = await group(a, [bob.userId]);
    assert.equal(code(await b.request({ case: 'createInvite', value: { chatId } })), 'PERMISSION_DENIED');
    const invite = await a.call<{ code: string }>({ case: 'createInvite', value: { chatId } });
    const joined = await c.call<{ chat: Chat }>({ case: 'joinByInvite', value: { code: invite.code } });
    assert.equal(roleOf(joined.chat, carol.userId), Role.MEMBER);
    await b.waitFor(
      (f) =>
        f.body.case === 'deliver' &&
        f.body.value.messages.some(
          (m) => m.body.case === 'chatUpdate' && m.body.value.kind === ChatUpdateKind.JOINED_BY_INVITE,
        ),
    );
    await a.call({ case: 'revokeInvite', value: { chatId } });
    assert.equal(code(await d.request({ case: 'joinByInvite', value: { code: invite.code } })), 'NOT_FOUND');
    // A fresh code works, but the group (limit 4 here) fills up.
    const second = await a.call<{ code: string }>({ case: 'createInvite', value: { chatId } });
    await d.call({ case: 'joinByInvite', value: { code: second.code } });
    const eve = await register(t);
    const e = await RawClient.connect(t, eve);
    assert.equal(code(await e.request({ case: 'joinByInvite', value: { code: second.code } })), 'GROUP_FULL');
    await Promise.all([a, b, c, d, e].map((x) => x.close()));
  });

  it('the last admin leaving makes the longest-standing member an admin', async () => {
    const a = await RawClient.connect(t, alice);
    const b = await RawClient.connect(t, bob);
    const chatId = await group(a, [bob.userId]);
    await a.call({ case: 'addMembers', value: { chatId, userIds: [carol.userId] } }); // carol joins later
    await a.call({ case: 'leaveChat', value: { chatId } });
    const seen = await b.waitFor(
      (f) =>
        f.body.case === 'deliver' &&
        f.body.value.messages.some(
          (m) => m.body.case === 'chatUpdate' && m.body.value.kind === ChatUpdateKind.ROLE_CHANGED,
        ),
    );
    assert.ok(seen);
    const chat = await b.call<{ chat: Chat }>({ case: 'getChat', value: { chatId } });
    assert.equal(roleOf(chat.chat, bob.userId), Role.ADMIN);
    assert.equal(roleOf(chat.chat, carol.userId), Role.MEMBER);
    await Promise.all([a.close(), b.close()]);
  });
});
