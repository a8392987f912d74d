/**
 * The Store contract for the push outbox (ports/store-push.ts), run by storeContract against
 * every backend: registrations move with their token, jobs are written only with a stored
 * message and coalesce per device, a lease is held by one owner, a finish by a lost lease
 * does nothing, messages coalesced during a send keep a job, and dead letters come back.
 */
import assert from 'node:assert/strict';
import type { SendCommit, Store } from './store.js';
import { type Account, addUser, bytes, chatInput, T0 } from './store-fixtures.js';
import type { PushRecipient } from './store-push.js';
import type { ChatId, UserId } from './types.js';

type Test = (title: string, body: (store: Store) => Promise<void>) => void;

function send(
  chatId: string,
  from: Account,
  id: string,
  to: readonly PushRecipient[],
  dueAt = T0 + 2000,
): SendCommit {
  return {
    chatId: chatId as ChatId,
    senderUserId: from.userId,
    senderDeviceId: from.deviceId,
    clientMessageId: id,
    serverTime: T0,
    payload: bytes(id),
    devicePayloads: undefined,
    push: { dueAt, to },
  };
}

const fcm = (token: string) => ({ platform: 'fcm' as const, token });

async function pair(store: Store): Promise<{ a: Account; b: Account; to: PushRecipient[] }> {
  const a = await addUser(store, 1);
  const b = await addUser(store, 2);
  await store.chatCreate(chatInput('g', a, [b]));
  await store.pushRegister(
    { deviceId: b.deviceId, userId: b.userId, platform: 'fcm', tokenKey: 't-b', target: fcm('t-b') },
    T0,
  );
  return { a, b, to: [{ deviceId: b.deviceId, userId: b.userId }] };
}

export function pushContract(test: Test): void {
  test('a token registered by a second device moves to it, with its pending job', async (store) => {
    const { a, b, to } = await pair(store);
    await store.messageCommit([send('g', a, 'm1', to)]);
    const moved = await store.pushRegister(
      { deviceId: a.deviceId, userId: a.userId, platform: 'fcm', tokenKey: 't-b', target: fcm('t-b') },
      T0 + 1,
    );
    assert.deepEqual(moved, [b.deviceId]);
    assert.equal(await store.pushRegistrationGet(b.deviceId), undefined);
    assert.equal((await store.pushRegistrationGet(a.deviceId))?.tokenKey, 't-b');
    assert.deepEqual(
      await store.pushJobsLease('n1', T0 + 10_000, 1000, 10),
      [],
      'the job went with the token',
    );
    assert.deepEqual(await store.pushRegisteredPage('', 10), [{ deviceId: a.deviceId, userId: a.userId }]);
    assert.equal(await store.pushUnregister([a.deviceId, b.deviceId]), 1);
  });

  test("a job keeps its newest message's sealed preview, and none when that message had none", async (store) => {
    const { a, b, to } = await pair(store);
    const withPreview = (preview: Uint8Array | undefined) => to.map((r) => ({ ...r, preview }));
    const first = new Uint8Array([1, 0, 255, 7]);
    // Two batches and one batch with two messages for the device: the newest wins each time.
    await store.messageCommit([send('g', a, 'p1', withPreview(first))]);
    let [job] = await store.pushJobsLease('n1', T0 + 2000, 1, 10);
    assert.deepEqual(job?.preview, first);
    await store.pushJobsFinish([{ job: job!, end: { kind: 'done' }, attempt: undefined }], T0 + 2000, 20);
    const second = new Uint8Array(1024).fill(9);
    await store.messageCommit([
      send('g', a, 'p2', withPreview(first)),
      send('g', a, 'p3', withPreview(second)),
    ]);
    [job] = await store.pushJobsLease('n1', T0 + 2000, 1, 10);
    assert.equal(job?.messageCount, 2);
    assert.deepEqual(job?.preview, second);
    await store.pushJobsFinish([{ job: job!, end: { kind: 'done' }, attempt: undefined }], T0 + 2000, 20);
    await store.messageCommit([
      send('g', a, 'p4', withPreview(first)),
      send('g', a, 'p5', withPreview(undefined)),
    ]);
    [job] = await store.pushJobsLease('n1', T0 + 2000, 1, 10);
    assert.equal(job?.preview, undefined, 'the newest message came without a preview');
    // Operators see the job, never the preview.
    const [status] = (await store.pushStatus(b.userId)).filter((s) => s.deviceId === b.deviceId);
    assert.ok(status?.job && !('preview' in status.job));
  });

  test('jobs are written only for stored messages and coalesce per device, keeping their due time', async (store) => {
    const { a, to } = await pair(store);
    const results = await store.messageCommit([
      send('g', a, 'm1', to),
      send('nope', a, 'm2', to),
      send('g', a, 'm3', to, T0 + 9999),
    ]);
    assert.deepEqual(
      results.map((r) => r.ok),
      [true, false, true],
    );
    await store.messageCommit([send('g', a, 'm1', to)]); // a duplicate records nothing
    assert.deepEqual(await store.pushJobsLease('n1', T0 + 1999, 1000, 10), [], 'not due yet');
    const [job] = await store.pushJobsLease('n1', T0 + 2000, 1000, 10);
    assert.equal(job?.messageCount, 2);
    assert.equal(job?.chatId, 'g');
    assert.equal(job?.lastSeq, (results[2] as { seq: number }).seq);
    assert.equal(job?.createdAt, T0);
    assert.deepEqual(job?.target, fcm('t-b'));
  });

  test('one owner holds a lease until it runs out; a finish by a lost lease does nothing', async (store) => {
    const { a, b, to } = await pair(store);
    await store.messageCommit([send('g', a, 'm1', to)]);
    const [first] = await store.pushJobsLease('n1', T0 + 2000, 1000, 10);
    assert.ok(first);
    assert.deepEqual(await store.pushJobsLease('n2', T0 + 2999, 1000, 10), [], 'leased by n1');
    const [taken] = await store.pushJobsLease('n2', T0 + 3000, 1000, 10);
    assert.equal(taken?.leaseOwner, 'n2', 'the lease ran out');
    await store.pushJobsFinish([{ job: first, end: { kind: 'done' }, attempt: undefined }], T0 + 3001, 20);
    const [status] = (await store.pushStatus(b.userId)).filter((s) => s.deviceId === b.deviceId);
    assert.equal(status?.job?.leaseOwner, 'n2', "n1's finish did nothing");
    await store.pushJobsFinish(
      [
        {
          job: taken,
          end: { kind: 'done' },
          attempt: { at: T0 + 3002, platform: 'fcm', outcome: 'sent', status: 200, reason: '', latencyMs: 5 },
        },
      ],
      T0 + 3002,
      20,
    );
    const [after] = (await store.pushStatus(b.userId)).filter((s) => s.deviceId === b.deviceId);
    assert.equal(after?.job, undefined);
    assert.equal(after?.attempts.length, 1);
  });

  test('ends written together each act as if alone: sent, retried, dead, invalid token, and a lost lease', async (store) => {
    const a = await addUser(store, 1);
    const others: Account[] = [];
    for (let i = 2; i <= 6; i++) {
      const u = await addUser(store, i);
      others.push(u);
      await store.pushRegister(
        {
          deviceId: u.deviceId,
          userId: u.userId,
          platform: 'fcm',
          tokenKey: `t-${i}`,
          target: fcm(`t-${i}`),
        },
        T0,
      );
    }
    await store.chatCreate(chatInput('g', a, others));
    const to = others.map((u) => ({ deviceId: u.deviceId, userId: u.userId }));
    await store.messageCommit([send('g', a, 'm1', to)]);
    const jobs = await store.pushJobsLease('n1', T0 + 2000, 1000, 10);
    assert.equal(jobs.length, 5);
    const job = (i: number) => jobs.find((j) => j.deviceId === others[i]!.deviceId)!;
    // n1's leases run out; n2 takes one of the jobs before n1's ends are written.
    const [stolen] = await store.pushJobsLease('n2', T0 + 3000, 1000, 1);
    const lost = others.findIndex((u) => u.deviceId === stolen?.deviceId);
    const sent = {
      at: T0 + 3001,
      platform: 'fcm' as const,
      outcome: 'sent' as const,
      status: 200,
      reason: '',
      latencyMs: 1,
    };
    const rest = [0, 1, 2, 3, 4].filter((i) => i !== lost);
    await store.pushJobsFinish(
      [
        { job: job(rest[0]!), end: { kind: 'done' }, attempt: sent },
        { job: job(rest[1]!), end: { kind: 'retry', dueAt: T0 + 9000 }, attempt: undefined },
        { job: job(rest[2]!), end: { kind: 'dead', reason: 'rejected: x' }, attempt: undefined },
        { job: job(rest[3]!), end: { kind: 'invalid-token' }, attempt: undefined },
        { job: job(lost), end: { kind: 'done' }, attempt: sent },
      ],
      T0 + 3001,
      20,
    );
    const status = async (i: number) =>
      (await store.pushStatus(others[i]!.userId)).find((s) => s.deviceId === others[i]!.deviceId);
    const done = await status(rest[0]!);
    assert.equal(done?.job, undefined);
    assert.equal(done?.attempts.length, 1);
    assert.equal((await status(rest[1]!))?.job?.attempts, 1, 'retried');
    assert.equal((await status(rest[1]!))?.job?.dueAt, T0 + 9000);
    assert.deepEqual(
      (await status(rest[2]!))?.deadLetters.map((d) => d.reason),
      ['rejected: x'],
    );
    assert.equal(await store.pushRegistrationGet(others[rest[3]!]!.deviceId), undefined, 'token gone');
    const taken = await status(lost);
    assert.equal(taken?.job?.leaseOwner, 'n2', "n1's end of a job n2 holds did nothing");
    assert.equal(taken?.attempts.length, 0);
  });

  test('messages coalesced while a job is sent keep a job of their own', async (store) => {
    const { a, b, to } = await pair(store);
    await store.messageCommit([send('g', a, 'm1', to)]);
    const [job] = await store.pushJobsLease('n1', T0 + 2000, 30_000, 10);
    await store.messageCommit([send('g', a, 'm2', to)]);
    await store.pushJobsFinish([{ job: job!, end: { kind: 'done' }, attempt: undefined }], T0 + 2001, 20);
    const [again] = await store.pushJobsLease('n1', T0 + 2001, 30_000, 10);
    assert.equal(again?.messageCount, 1, 'the message that came during the send');
    await store.pushJobsFinish(
      [{ job: again!, end: { kind: 'invalid-token' }, attempt: undefined }],
      T0 + 2002,
      20,
    );
    assert.equal(await store.pushRegistrationGet(b.deviceId), undefined);
  });

  test('retries count attempts, dead letters come back, and only the last attempts are kept', async (store) => {
    const { a, b, to } = await pair(store);
    await store.messageCommit([send('g', a, 'm1', to)]);
    const attempt = (at: number) => ({
      at,
      platform: 'fcm' as const,
      outcome: 'retry' as const,
      status: 503,
      reason: 'x',
      latencyMs: 1,
    });
    let now = T0 + 2000;
    for (let i = 0; i < 3; i++) {
      const [job] = await store.pushJobsLease('n1', now, 1000, 10);
      assert.equal(job?.attempts, i);
      await store.pushJobsFinish(
        [{ job: job!, end: { kind: 'retry', dueAt: now + 10 }, attempt: attempt(now) }],
        now,
        2,
      );
      now += 10;
    }
    const [job] = await store.pushJobsLease('n1', now, 1000, 10);
    await store.pushJobsFinish(
      [{ job: job!, end: { kind: 'dead', reason: 'gave up' }, attempt: attempt(now) }],
      now,
      2,
    );
    const [status] = (await store.pushStatus(b.userId)).filter((s) => s.deviceId === b.deviceId);
    assert.equal(status?.job, undefined);
    assert.deepEqual(
      status?.attempts.map((x) => x.at),
      [now, now - 10],
      'the newest two, newest first',
    );
    assert.deepEqual(
      status?.deadLetters.map((d) => [d.reason, d.attempts, d.messageCount]),
      [['gave up', 4, 1]],
    );
    assert.equal(await store.pushDeadRetry('nobody' as UserId, now), 0);
    assert.equal(await store.pushDeadRetry(undefined, now), 1);
    const [back] = await store.pushJobsLease('n1', now, 1000, 10);
    assert.equal(back?.messageCount, 1);
    assert.equal(back?.attempts, 0);
  });

  test("accountErase removes the user's registrations, jobs, attempts and dead letters", async (store) => {
    const { a, b, to } = await pair(store);
    await store.messageCommit([send('g', a, 'm1', to)]);
    await store.accountErase({ userId: b.userId, codeKeys: [], leftChatIds: [] });
    assert.equal(await store.pushRegistrationGet(b.deviceId), undefined);
    assert.deepEqual(await store.pushStatus(b.userId), []);
    assert.deepEqual(await store.pushJobsLease('n1', T0 + 10_000, 1000, 10), []);
  });
}
