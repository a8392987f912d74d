/**
 * The group size limit under concurrency: adds and invite joins racing on a group one or two
 * members short of the limit end with the group at exactly the limit, the rest refused with
 * GROUP_FULL. The check runs in the store's transaction, not before it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Chat, ChatKind, Role } from '@parley/protocol';
import {
  answerCode,
  type Creds,
  createGroup,
  RawClient,
  register,
  startNode,
  type TestNode,
} from './harness.js';

const LIMIT = 6;

describe('group size limit', () => {
  let t: TestNode;
  let admins: Creds[];
  let candidates: Creds[];

  before(async () => {
    // The SQLite worker (the default) makes every store call asynchronous, so racing requests interleave.
    t = await startNode({ maxGroupMembers: LIMIT, codeRequestsPerHour: 1000, authAttemptsPerMinute: 1000 });
    admins = [];
    for (let i = 0; i < 4; i++) admins.push(await register(t));
    candidates = [];
    for (let i = 0; i < LIMIT + 2; i++) candidates.push(await register(t));
  });
  after(() => t.stop());

  const members = async (c: RawClient, chatId: string) =>
    (await c.call<{ chat: Chat }>({ case: 'getChat', value: { chatId } })).chat.members.map((m) => m.userId);

  it('creating a group with more members than the limit is GROUP_FULL', async () => {
    const a = await RawClient.connect(t, admins[0]!);
    const answer = await a.request({
      case: 'createChat',
      value: {
        kind: ChatKind.GROUP,
        memberUserIds: candidates.slice(0, LIMIT).map((u) => u.userId),
        name: 'big',
      },
    });
    assert.equal(answerCode(answer), 'GROUP_FULL');
    const exact = await createGroup(
      a,
      candidates.slice(0, LIMIT - 1).map((u) => u.userId),
      'exact',
    );
    assert.equal((await members(a, exact)).length, LIMIT);
    await a.close();
  });

  it('concurrent adds by four admins to a group two short of the limit: two succeed, two get GROUP_FULL', async (ctx) => {
    const clients = await Promise.all(admins.map((u) => RawClient.connect(t, u)));
    ctx.after(() => Promise.all(clients.map((c) => c.close())));
    const [a] = clients;
    const chatId = await createGroup(
      a!,
      admins.slice(1).map((u) => u.userId),
      'race',
    );
    for (const u of admins.slice(1)) {
      await a!.call({ case: 'setRole', value: { chatId, userId: u.userId, role: Role.ADMIN } });
    }
    const answers = await Promise.all(
      clients.map((c, i) =>
        c.request({ case: 'addMembers', value: { chatId, userIds: [candidates[i]!.userId] } }),
      ),
    );
    const codes = answers.map(answerCode).sort();
    assert.deepEqual(codes, ['GROUP_FULL', 'GROUP_FULL', 'chatResult', 'chatResult']);
    const now = await members(a!, chatId);
    assert.equal(now.length, LIMIT, 'the group ends at exactly the limit');
    // An invite join to the full group is refused the same way.
    const invite = await a!.call<{ code: string }>({ case: 'createInvite', value: { chatId } });
    const late = await RawClient.connect(t, candidates[LIMIT]!);
    ctx.after(() => late.close());
    assert.equal(
      answerCode(await late.request({ case: 'joinByInvite', value: { code: invite.code } })),
      'GROUP_FULL',
    );
    assert.equal((await members(a!, chatId)).length, LIMIT);
  });

  it('concurrent invite joins to a group one short of the limit: one joins, the others get GROUP_FULL', async (ctx) => {
    const a = await RawClient.connect(t, admins[0]!);
    ctx.after(() => a.close());
    const chatId = await createGroup(
      a,
      candidates.slice(0, LIMIT - 2).map((u) => u.userId),
      'invites',
    );
    const invite = await a.call<{ code: string }>({ case: 'createInvite', value: { chatId } });
    const joiners = await Promise.all(
      candidates.slice(LIMIT - 2, LIMIT + 2).map((u) => RawClient.connect(t, u)),
    );
    ctx.after(() => Promise.all(joiners.map((c) => c.close())));
    const answers = await Promise.all(
      joiners.map((c) => c.request({ case: 'joinByInvite', value: { code: invite.code } })),
    );
    const codes = answers.map(answerCode).sort();
    assert.deepEqual(codes, ['GROUP_FULL', 'GROUP_FULL', 'GROUP_FULL', 'chatResult']);
    assert.equal((await members(a, chatId)).length, LIMIT);
  });
});
