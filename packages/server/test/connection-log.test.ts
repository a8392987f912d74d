/**
 * A connection's lines in the node's log: opened and closed, each naming the connection,
 * its device and its user, the close with its code and how long the connection lasted. The
 * welcome a binary client gets first is read back with the protocol's own decoder.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { SUPPORTED_VERSIONS } from '@parley/protocol';
import pino from 'pino';
import { type Creds, RawClient, register, startNode, type TestNode } from './harness.js';

let t: TestNode;
let alice: Creds;
let logFile: string;

before(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-connection-log-'));
  logFile = join(dataDir, 'node.log');
  const log = pino({ level: 'info' }, pino.destination({ dest: logFile, sync: true }));
  t = await startNode({ dataDir }, { log });
  alice = await register(t);
});
after(async () => {
  await t.stop();
  rmSync(t.dataDir, { recursive: true, force: true });
});

const lines = () =>
  readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

it('a connection logs its opening and its close with its id, device and user', async () => {
  const c = await RawClient.connect(t, alice, { encoding: 'proto' });
  const welcome = await c.waitFor((f) => f.body.case === 'welcome');
  assert.equal(welcome.body.case, 'welcome');
  if (welcome.body.case === 'welcome') {
    const w = welcome.body.value;
    assert.equal(w.deviceId, alice.deviceId);
    assert.equal(w.userId, alice.userId);
    assert.deepEqual(w.supportedVersions, [...SUPPORTED_VERSIONS]);
    assert.ok(Math.abs(Number(w.serverTime) - Date.now()) < 60_000, 'the server time is now');
  }
  await c.close();
  const deadline = Date.now() + 10_000;
  while (!lines().some((l) => l.msg === 'connection closed')) {
    assert.ok(Date.now() < deadline, 'the close is logged');
    await new Promise((r) => setTimeout(r, 20));
  }
  const opened = lines().find((l) => l.msg === 'connection opened')!;
  const closed = lines().find((l) => l.msg === 'connection closed')!;
  assert.match(String(opened.connId), /^[0-9a-f]{8}$/);
  for (const l of [opened, closed]) {
    assert.equal(l.connId, opened.connId);
    assert.equal(l.deviceId, alice.deviceId);
    assert.equal(l.userId, alice.userId);
  }
  assert.equal(opened.encoding, 'proto');
  assert.equal(closed.code, 1005, 'a client close without a code');
  assert.equal(closed.seconds, 0);
  assert.ok(!readFileSync(logFile, 'utf8').includes(alice.token), 'no token in the log');
});
