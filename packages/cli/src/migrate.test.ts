import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const main = new URL('./main.js', import.meta.url).pathname;

async function parley(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [main, ...args], {
      env: { PATH: process.env.PATH },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('parley migrate', () => {
  it('creates or upgrades the SQLite database in --data-dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-migrate-'));
    try {
      const r = await parley('migrate', '--data-dir', dir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /is up to date/);
      assert.ok(existsSync(join(dir, 'parley.db')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad store setting with a clear message', async () => {
    const r = await parley('migrate', '--store', 'mysql://x');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid setting store/);
  });

  const url = process.env.PARLEY_TEST_POSTGRES_URL;
  it('applies PostgreSQL migrations once', {
    skip: url ? false : 'PARLEY_TEST_POSTGRES_URL is not set',
  }, async () => {
    const schema = `parley_m_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    try {
      const store = `${url}${url!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const first = await parley('migrate', '--store', store);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /applied migrations 1/);
      const second = await parley('migrate', '--store', store);
      assert.match(second.stdout, /schema is up to date/);
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.schema_migrations`);
      assert.ok(rows[0].n >= 1);
    } finally {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });
});
