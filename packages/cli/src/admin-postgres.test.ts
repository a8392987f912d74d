/**
 * `parley admin` as real processes against a PostgreSQL store (a fresh schema of
 * PARLEY_TEST_POSTGRES_URL): reports listed and shown with phone numbers, a suspension and its
 * lifting by phone number, stats, and the audit, with the same results the store then reads.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { PostgresStore, type Store } from '@parley/server';
import pg from 'pg';

const url = process.env.PARLEY_TEST_POSTGRES_URL;
const main = new URL('./main.js', import.meta.url).pathname;

test('parley admin on PostgreSQL: reports, report, suspend, unsuspend, stats, audit', {
  skip: url ? false : 'PARLEY_TEST_POSTGRES_URL is not set',
}, async () => {
  const schema = `parley_admin_${randomBytes(4).toString('hex')}`;
  const storeUrl = `${url}${url!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const root = new pg.Client({ connectionString: url });
  await root.connect();
  await root.query(`CREATE SCHEMA ${schema}`);
  let store: Store | undefined;
  const admin = async (...args: string[]) => {
    try {
      const r = await promisify(execFile)(process.execPath, [main, 'admin', ...args, '--store', storeUrl], {
        env: { PATH: process.env.PATH, PARLEY_ADMIN_ACTOR: 'ops-test' },
      });
      return { code: 0, out: r.stdout, err: r.stderr };
    } catch (e) {
      const x = e as { code: number; stdout: string; stderr: string };
      return { code: x.code, out: x.stdout, err: x.stderr };
    }
  };
  try {
    store = await PostgresStore.open(storeUrl, { poolSize: 2 });
    const users = [] as Array<{ id: string; phone: string }>;
    for (const n of [1, 2]) {
      const id = `u_admin${n}`;
      const phone = `+1415555020${n}`;
      await store.primaryRegister({
        userId: id as never,
        phone,
        phoneHash: new TextEncoder().encode(`h${n}`),
        deviceId: `d_admin${n}` as never,
        tokenHash: `t${n}`,
        name: 'phone',
        now: 1,
      });
      users.push({ id, phone });
    }
    const [a, b] = users as [{ id: string; phone: string }, { id: string; phone: string }];
    await store.reportCreate({
      id: 'r_pg1',
      reporterUserId: a.id as never,
      targetUserId: b.id as never,
      chatId: undefined,
      reason: 'scam',
      detail: 'asked for money',
      messages: [
        { seq: 4, senderUserId: b.id as never, serverTime: 1_767_225_600_000, text: 'send me $500' },
      ],
      createdAt: 1_767_225_600_000,
    });

    const list = await admin('reports');
    assert.equal(list.code, 0, list.err);
    assert.match(
      list.out,
      new RegExp(
        `r_pg1\\s+open .* scam .* by \\${a.phone} \\(${a.id}\\)\\s+about \\${b.phone} \\(${b.id}\\)`,
      ),
    );
    const one = await admin('report', 'r_pg1', '--json');
    assert.equal(JSON.parse(one.out).messages[0].text, 'send me $500');
    const s = await admin('suspend', b.phone, '--reason', 'scam');
    assert.equal(s.code, 0, s.err);
    assert.match(s.err, /"msg":"admin action"/);
    assert.ok(!s.err.includes('$500'), 'no message content in the log');
    assert.equal((await store.userSuspension(b.id as never))?.reason, 'scam');
    assert.match((await admin('suspend', b.id)).out, /already suspended/);
    const stats = JSON.parse((await admin('stats', '--json')).out);
    assert.deepEqual(stats, {
      accounts: 2,
      devices: 2,
      chats: 0,
      messages: 0,
      reports: 1,
      openReports: 1,
      suspended: 1,
    });
    assert.match((await admin('unsuspend', b.phone)).out, /unsuspended/);
    assert.equal(await store.userSuspension(b.id as never), undefined);
    const audit = await store.auditList(10);
    assert.deepEqual(
      audit.map((e) => [e.actor, e.action, e.target]),
      [
        ['ops-test', 'unsuspend', b.id],
        ['ops-test', 'suspend', b.id],
      ],
    );
    assert.equal((await admin('report', 'r_nope')).code, 1);
  } finally {
    await store?.close();
    await root.query(`DROP SCHEMA ${schema} CASCADE`);
    await root.end();
  }
});
