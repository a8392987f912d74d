/**
 * What a copy of the data directory gives away: its files are readable by their owner only,
 * and the stored digest of a pending code is keyed with the server secret, so it cannot be
 * matched against the million possible codes without that key. A node that shares its store
 * refuses to start without the secret.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalBus, LocalBusNetwork } from '../src/adapters/bus/local/local-bus.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { createNode, openNode } from '../src/node.js';
import { http, nextPhone, startNode } from './harness.js';
import { registerViaLog } from './register-via-log.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'parley-secrets-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const modeOf = (path: string) => statSync(path).mode & 0o777;
const SECRET_A = 'secret-a-0123456789abcdef0123456789abcdef';
const SECRET_B = 'secret-b-0123456789abcdef0123456789abcdef';

/** A dev-mode node with the console SMS provider (which writes sms-codes.log) on `dataDir`. */
function devNode(dataDir: string) {
  const config = loadConfig({
    overrides: { port: 0, host: '127.0.0.1', logLevel: 'silent', dev: true, dataDir },
  });
  return createNode(config, { log: createLogger('silent') });
}

describe('files in the data directory', () => {
  it('the database with its -wal and -shm, sms-codes.log, server-secret and media are 0600', async () => {
    const dataDir = tempDir();
    const node = devNode(dataDir);
    const port = await node.start();
    try {
      const url = `http://127.0.0.1:${port}`;
      const creds = await registerViaLog(url, dataDir, nextPhone());
      const body = Buffer.from('media body');
      const id = createHash('sha256').update(body).digest('hex');
      const put = await fetch(`${url}/v1/media/${id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${creds.token}`, 'content-length': String(body.length) },
        body,
      });
      assert.equal(put.status, 201);
      for (const f of ['parley.db', 'parley.db-wal', 'parley.db-shm', 'sms-codes.log', 'server-secret']) {
        assert.equal(modeOf(join(dataDir, f)).toString(8), '600', f);
      }
      assert.equal(modeOf(join(dataDir, 'media', id.slice(0, 2), id)).toString(8), '600', 'media body');
      assert.equal(modeOf(dataDir).toString(8), '700', 'data dir');
    } finally {
      await node.stop();
    }
  });

  it('files an older version left readable by others are narrowed to 0600', async () => {
    const dataDir = tempDir();
    for (const f of ['parley.db', 'sms-codes.log']) {
      writeFileSync(join(dataDir, f), '');
      chmodSync(join(dataDir, f), 0o644);
    }
    const node = devNode(dataDir);
    const port = await node.start();
    try {
      assert.equal(modeOf(join(dataDir, 'parley.db')).toString(8), '600');
      await registerViaLog(`http://127.0.0.1:${port}`, dataDir, nextPhone());
      assert.equal(modeOf(join(dataDir, 'sms-codes.log')).toString(8), '600');
    } finally {
      await node.stop();
    }
  });
});

describe('the server secret', () => {
  it('keys the stored code digest: not SHA-256 of phone and code, and useless under another key', async () => {
    const dataDir = tempDir();
    const phone = nextPhone();
    let t = await startNode({ dataDir, serverSecret: SECRET_A });
    assert.equal((await http(`${t.url}/v1/auth/code`, 'POST', { phone })).status, 200);
    const code = t.sms.codes.get(phone)!;
    const stored = (await t.node.store.codeGet(phone))!.codeHash;
    await t.stop();

    // The old digest, which a copy of the database let anyone match against every code.
    const unkeyed = createHash('sha256').update(`${phone}\0${code}`).digest('base64url');
    assert.notEqual(stored, unkeyed);
    const under = (key: string) =>
      createHmac('sha256', key).update(`code\0${phone}\0${code}`).digest('base64url');
    assert.equal(stored, under(SECRET_A));
    assert.notEqual(stored, under(SECRET_B));

    // The same database under another secret does not accept the code...
    t = await startNode({ dataDir, serverSecret: SECRET_B });
    const refused = await http(`${t.url}/v1/auth/verify`, 'POST', { phone, code });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'CODE_INVALID');
    await t.stop();
    // ...and under its own secret it does.
    t = await startNode({ dataDir, serverSecret: SECRET_A });
    assert.equal((await http(`${t.url}/v1/auth/verify`, 'POST', { phone, code })).status, 200);
    await t.stop();
  });

  it('a lone SQLite node generates <dataDir>/server-secret once and keeps using it', async () => {
    const dataDir = tempDir();
    const phone = nextPhone();
    let t = await startNode({ dataDir });
    const file = join(dataDir, 'server-secret');
    const secret = readFileSync(file, 'utf8');
    assert.match(secret, /^[0-9a-f]{64}\n$/);
    assert.equal(modeOf(file).toString(8), '600');
    assert.equal((await http(`${t.url}/v1/auth/code`, 'POST', { phone })).status, 200);
    const code = t.sms.codes.get(phone)!;
    await t.stop();
    t = await startNode({ dataDir });
    assert.equal(readFileSync(file, 'utf8'), secret);
    assert.equal((await http(`${t.url}/v1/auth/verify`, 'POST', { phone, code })).status, 200);
    await t.stop();
  });

  it('a node on PostgreSQL without it refuses to start, naming the setting, before connecting', async () => {
    // Nothing listens on port 1: a connection attempt would fail with another message.
    const config = loadConfig({
      overrides: { store: 'postgres://parley@127.0.0.1:1/parley', dataDir: tempDir(), logLevel: 'silent' },
    });
    await assert.rejects(openNode(config), (err: { code: string; message: string }) => {
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.match(err.message, /serverSecret .*PARLEY_SERVER_SECRET/);
      return true;
    });
  });

  it('a node sharing a bus with others without it refuses to start', () => {
    const config = loadConfig({ overrides: { dataDir: tempDir(), logLevel: 'silent' } });
    const bus = new LocalBus({ nodeId: 'n1', network: new LocalBusNetwork() });
    assert.throws(() => createNode(config, { bus }), /serverSecret is not set/);
  });

  it('comes from PARLEY_SERVER_SECRET_FILE, and a bad one is named without being shown', () => {
    const file = join(tempDir(), 'secret');
    writeFileSync(file, `${SECRET_A}\n`, { mode: 0o600 });
    assert.equal(loadConfig({ env: { PARLEY_SERVER_SECRET_FILE: file } }).serverSecret, SECRET_A);
    assert.throws(
      () => loadConfig({ env: { PARLEY_SERVER_SECRET_FILE: file, PARLEY_SERVER_SECRET: SECRET_B } }),
      /PARLEY_SERVER_SECRET or PARLEY_SERVER_SECRET_FILE, not both/,
    );
    assert.throws(
      () => loadConfig({ env: { PARLEY_SERVER_SECRET_FILE: join(file, 'missing') } }),
      /cannot read PARLEY_SERVER_SECRET_FILE/,
    );
    assert.throws(
      () => loadConfig({ env: { PARLEY_SERVER_SECRET: 'short-secret-value' } }),
      (err: Error) =>
        /serverSecret .*at least 32/.test(err.message) && !err.message.includes('short-secret-value'),
    );
  });
});
