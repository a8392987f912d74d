/**
 * Graceful shutdown and startup checks on a real child process: SIGTERM finishes the sends
 * already taken, closes sockets with 1001 and exits 0; unsafe durability is refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ChatKind, CloseCodes } from '@parley/protocol';
import { freePort, startChild } from './crash/crash-run.js';
import { RawClient, text } from './harness.js';
import { registerViaLog } from './register-via-log.js';

describe('process lifecycle', () => {
  it('SIGTERM commits the sends already taken, closes sockets with 1001 and exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-shutdown-'));
    try {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      let child = await startChild(dataDir, port);
      const alice = await registerViaLog(url, dataDir, '+14153000001');
      const bob = await registerViaLog(url, dataDir, '+14153000002');
      const a = await RawClient.connect({ url }, alice);
      const { chat } = await a.call<{ chat: { id: string } }>({
        case: 'createChat',
        value: { kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'x' },
      });
      const answers = Array.from({ length: 300 }, (_, i) =>
        a
          .request({
            case: 'send',
            value: { chatId: chat.id, clientMessageId: `t${i}`, payload: text(`t${i}`) },
          })
          .catch(() => undefined),
      );
      await new Promise((r) => setTimeout(r, 5));
      const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
      child.kill('SIGTERM');
      assert.equal(await a.closed, CloseCodes.GOING_AWAY);
      assert.equal(await exited, 0);
      const acked = (await Promise.all(answers)).filter((f) => f?.body.case === 'sendResult').length;
      child = await startChild(dataDir, port);
      try {
        const b = await RawClient.connect({ url }, bob);
        await b.waitFor((f) => f.body.case === 'deliver' && !f.body.value.backlog);
        const got = b.messages.filter((m) => m.body.case === 'payload').length;
        assert.ok(got >= acked, `all ${acked} acknowledged sends were stored (got ${got})`);
        await b.close();
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start with synchronous=NORMAL unless unsafe durability is allowed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-unsafe-'));
    try {
      const script = new URL('./crash/child.js', import.meta.url).pathname;
      const r = spawnSync(
        process.execPath,
        [script, '--port', '0', '--data-dir', dataDir, '--sqlite-synchronous', 'NORMAL'],
        {
          encoding: 'utf8',
          timeout: 10_000,
        },
      );
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /allowUnsafeDurability/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
