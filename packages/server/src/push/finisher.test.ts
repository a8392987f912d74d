import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { ManualClock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import { type Account, addUser, bytes, chatInput, T0 } from '../ports/store-fixtures.js';
import type { PushAttempt, PushJob, PushJobFinish } from '../ports/store-push.js';
import type { ChatId } from '../ports/types.js';
import { PushJobFinisher } from './finisher.js';

const sent: PushAttempt = {
  at: T0 + 2000,
  platform: 'fcm',
  outcome: 'sent',
  status: 200,
  reason: '',
  latencyMs: 1,
};

/** A SQLite store with one leased push job for each of `n` devices, and the calls of pushJobsFinish. */
async function leased(n: number) {
  const store = new SqliteStore({ path: ':memory:' });
  const sender = await addUser(store, 1);
  const to: Account[] = [];
  for (let i = 0; i < n; i++) {
    const u = await addUser(store, i + 2);
    to.push(u);
    const target = { platform: 'fcm' as const, token: `t-${i}` };
    await store.pushRegister({ ...u, platform: 'fcm', tokenKey: target.token, target }, T0);
  }
  await store.chatCreate(chatInput('g', sender, to));
  await store.messageCommit([
    {
      chatId: 'g' as ChatId,
      senderUserId: sender.userId,
      senderDeviceId: sender.deviceId,
      clientMessageId: 'm1',
      serverTime: T0,
      payload: bytes('m1'),
      devicePayloads: undefined,
      push: { dueAt: T0, to },
    },
  ]);
  const jobs = await store.pushJobsLease('n1', T0 + 1000, 30_000, n);
  assert.equal(jobs.length, n);
  const calls: number[] = [];
  const counted: Pick<Store, 'pushJobsFinish'> = {
    pushJobsFinish: (ends, now, keep) => {
      calls.push(ends.length);
      return store.pushJobsFinish(ends, now, keep);
    },
  };
  const finisher = new PushJobFinisher({
    store: counted,
    clock: new ManualClock(T0 + 2000),
    keepAttempts: 20,
  });
  const jobOf = async (job: PushJob) =>
    (await store.pushStatus(job.userId)).find((s) => s.deviceId === job.deviceId)?.job;
  return { store, jobs, calls, finisher, jobOf };
}

it('writes a lone end at once and the ends that came meanwhile together, in one transaction', async () => {
  const { store, jobs, calls, finisher, jobOf } = await leased(5);
  await Promise.all(jobs.map((job) => finisher.finish({ job, end: { kind: 'done' }, attempt: sent })));
  assert.deepEqual(calls, [1, 4]);
  for (const job of jobs) assert.equal(await jobOf(job), undefined, 'every job ended');
  await store.close();
});

it('writes the ends of a failed shared write one by one, so only the bad one fails', async () => {
  const { store, jobs, calls, finisher, jobOf } = await leased(3);
  // A status SQLite cannot store: the write of this end fails in the store.
  const bad: PushJobFinish = {
    job: jobs[2]!,
    end: { kind: 'done' },
    attempt: { ...sent, status: { not: 'a number' } as unknown as number },
  };
  const outcomes = await Promise.allSettled([
    finisher.finish({ job: jobs[0]!, end: { kind: 'done' }, attempt: sent }),
    finisher.finish({ job: jobs[1]!, end: { kind: 'done' }, attempt: sent }),
    finisher.finish(bad),
  ]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'rejected'],
  );
  assert.deepEqual(calls, [1, 2, 1, 1], 'the first alone, then two together, then each again');
  assert.equal(await jobOf(jobs[1]!), undefined);
  assert.equal(
    (await jobOf(jobs[2]!))?.leaseOwner,
    'n1',
    'the bad end changed nothing: its job waits for its lease',
  );
  await store.close();
});
