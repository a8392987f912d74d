/**
 * `parley admin push status|retry` as real processes, against a SQLite file and a PostgreSQL
 * schema (skipped without PARLEY_TEST_POSTGRES_URL): a device whose push went to the dead
 * letters after a provider's 500s shows its registration by token hash (never the token), its
 * last attempts with status and latency and its dead letter; `retry` puts the job back, due now.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { PostgresStore, SqliteStore, type Store } from '@parley/server';
import pg from 'pg';

const url = process.env.PARLEY_TEST_POSTGRES_URL;
const main = new URL('./main.js', import.meta.url).pathname;
const TOKEN = 'fcm-secret-token:APA91bXYZ';

async function admin(storeArgs: string[], ...args: string[]) {
  try {
    const r = await promisify(execFile)(process.execPath, [main, 'admin', ...args, ...storeArgs], {
      env: { PATH: process.env.PATH, PARLEY_ADMIN_ACTOR: 'ops-test' },
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

/** A user whose device's push was tried three times (500) and dead-lettered. */
async function deadLetteredPush(store: Store): Promise<{ phone: string; deviceId: string }> {
  const phone = '+14155550301';
  for (const [n, p] of [
    [1, phone],
    [2, '+14155550302'],
  ] as const)
    await store.primaryRegister({
      userId: `u_push${n}` as never,
      phone: p,
      phoneHash: new TextEncoder().encode(`h${n}`),
      deviceId: `d_push${n}` as never,
      tokenHash: `t${n}`,
      name: 'phone',
      now: 1,
    });
  await store.pushRegister(
    {
      deviceId: 'd_push1' as never,
      userId: 'u_push1' as never,
      platform: 'fcm',
      tokenKey: TOKEN,
      target: { platform: 'fcm', token: TOKEN },
    },
    1000,
  );
  await store.chatCreate({
    chatId: 'c_push' as never,
    kind: 'direct',
    name: '',
    description: '',
    createdBy: 'u_push2' as never,
    createdByDevice: 'd_push2' as never,
    members: [
      { userId: 'u_push1' as never, role: 'member' },
      { userId: 'u_push2' as never, role: 'member' },
    ],
    now: 1000,
    update: new Uint8Array([1]),
  });
  const [r] = await store.messageCommit([
    {
      chatId: 'c_push' as never,
      senderUserId: 'u_push2' as never,
      senderDeviceId: 'd_push2' as never,
      clientMessageId: 'm1',
      serverTime: 2000,
      payload: new Uint8Array([7]),
      devicePayloads: undefined,
      push: { dueAt: 4000, to: [{ deviceId: 'd_push1' as never, userId: 'u_push1' as never }] },
    },
  ]);
  assert.ok(r?.ok);
  for (let i = 0; i < 3; i++) {
    const [job] = await store.pushJobsLease('node-a', 10_000 * (i + 1), 30_000, 10);
    assert.ok(job, `attempt ${i + 1} leases the job`);
    const attempt = {
      at: job.dueAt,
      platform: 'fcm' as const,
      outcome: 'retry' as const,
      status: 500,
      reason: 'INTERNAL',
      latencyMs: 42,
    };
    const end =
      i < 2
        ? { kind: 'retry' as const, dueAt: 10_000 * (i + 2) }
        : { kind: 'dead' as const, reason: 'gave up after 3 attempts: INTERNAL' };
    await store.pushJobsFinish([{ job, end, attempt }], 10_000 * (i + 1), 20);
  }
  return { phone, deviceId: 'd_push1' };
}

async function check(storeArgs: string[]): Promise<void> {
  const status = await admin(storeArgs, 'push', 'status', '--user', '+14155550301', '--json');
  assert.equal(status.code, 0, status.err);
  assert.ok(!status.out.includes(TOKEN), 'the token is never printed');
  const report = JSON.parse(status.out);
  const device = report.devices.find((d: { deviceId: string }) => d.deviceId === 'd_push1');
  assert.equal(device.registration.platform, 'fcm');
  assert.match(device.registration.tokenHash, /^[0-9a-f]{12}$/);
  assert.equal(device.online, undefined, 'no bus: online is unknown');
  assert.equal(device.job, undefined);
  assert.deepEqual(
    device.attempts.map((a: { outcome: string; status: number; latencyMs: number }) => [
      a.outcome,
      a.status,
      a.latencyMs,
    ]),
    [
      ['retry', 500, 42],
      ['retry', 500, 42],
      ['retry', 500, 42],
    ],
  );
  assert.equal(device.deadLetters.length, 1);
  assert.equal(device.deadLetters[0].messageCount, 1);

  const text = await admin(storeArgs, 'push', 'status', '--user', '+14155550301');
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /push {6}fcm {2}token [0-9a-f]{12}/);
  assert.match(text.out, /retry +500 {2}42 ms {2}INTERNAL/);
  assert.match(
    text.out,
    /dead .*1 message\(s\), chat c_push seq 2, 3 attempt\(s\): gave up after 3 attempts/,
  );
  assert.ok(!text.out.includes(TOKEN));

  const retry = await admin(storeArgs, 'push', 'retry', '--user', '+14155550301', '--json');
  assert.equal(retry.code, 0, retry.err);
  assert.equal(JSON.parse(retry.out).devices, 1);
  const after = JSON.parse((await admin(storeArgs, 'push', 'status', '--user', 'u_push1', '--json')).out);
  const again = after.devices.find((d: { deviceId: string }) => d.deviceId === 'd_push1');
  assert.equal(again.deadLetters.length, 0);
  assert.equal(again.job.messageCount, 1, 'the job is back');
  assert.equal((await admin(storeArgs, 'push', 'status')).code, 2, '--user is required');
}

test('parley admin push on SQLite: status shows attempts and dead letters, retry re-queues', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-admin-push-'));
  try {
    const store = new SqliteStore({ path: join(dir, 'parley.db') });
    await deadLetteredPush(store);
    await store.close();
    await check(['--data-dir', dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parley admin push on PostgreSQL: status shows attempts and dead letters, retry re-queues', {
  skip: url ? false : 'PARLEY_TEST_POSTGRES_URL is not set',
}, async () => {
  const schema = `parley_admin_push_${randomBytes(4).toString('hex')}`;
  const storeUrl = `${url}${url!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const root = new pg.Client({ connectionString: url });
  await root.connect();
  await root.query(`CREATE SCHEMA ${schema}`);
  let store: Store | undefined;
  try {
    store = await PostgresStore.open(storeUrl, { poolSize: 2 });
    await deadLetteredPush(store);
    await check(['--store', storeUrl]);
  } finally {
    await store?.close();
    await root.query(`DROP SCHEMA ${schema} CASCADE`);
    await root.end();
  }
});
