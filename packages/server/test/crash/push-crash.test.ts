/**
 * Push crash test (real child processes, SIGKILL): the node is killed while messages are
 * being committed and pushed; after the restart every offline registered device has a push
 * naming the chat's last stored message, no push names a message that was never stored, and
 * an acked message is always stored. A kill between the provider's answer and the job's
 * removal sends that one job again (at least once; its collapse id makes the phone show one):
 * such duplicates are counted and reported, at most one per device. The negative control
 * pushes before committing and must be caught. PARLEY_CRASH_RUNS sets the count (default 20).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type PushCounts, pushCheck, pushCrashRun } from './push-crash-run.js';

const runs = Number(process.env.PARLEY_CRASH_RUNS ?? 20);
const concurrency = Number(process.env.PARLEY_CRASH_CONCURRENCY ?? 2);
const RUN_TIMEOUT_MS = 90_000;

const line = (c: PushCounts) =>
  `acked=${c.acked} stored=${c.stored} pushes=${c.pushes} unstored=${c.unstored} lost=${c.lost} duplicates=${c.duplicates} ackedMissing=${c.ackedMissing}`;

async function inTempDir<T>(fn: (dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-push-crash-'));
  try {
    return await fn(dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('the push checker', () => {
  const stored = [
    { seq: 2, key: 'a' },
    { seq: 3, key: 'b' },
  ];
  it('counts a push naming an unstored message, a device without its last push, and a duplicate', () => {
    const c = pushCheck(
      [
        { deviceId: 'd1', chatId: 'c', seq: 3 },
        { deviceId: 'd1', chatId: 'c', seq: 3 },
        { deviceId: 'd2', chatId: 'c', key: 'never-stored' },
        { deviceId: 'd2', chatId: 'c', seq: 2 },
      ],
      stored,
      ['d1', 'd2'],
      new Map([
        ['a', 2],
        ['x', 9],
      ]),
    );
    assert.deepEqual([c.unstored, c.lost, c.duplicates, c.ackedMissing], [1, 1, 1, 1]);
  });
});

describe('push crash safety', { concurrency }, () => {
  for (let i = 0; i < runs; i++) {
    const killAfterMs = 150 + ((i * 617) % 1350);
    it(
      `run ${i + 1}/${runs}: SIGKILL after ${killAfterMs} ms: every offline device gets its push, none for an unstored message`,
      { timeout: RUN_TIMEOUT_MS },
      () =>
        inTempDir(async (dataDir) => {
          const c = await pushCrashRun({ dataDir, killAfterMs });
          console.log(`push crash run ${i + 1}: ${line(c)}`);
          assert.ok(c.acked > 0, 'the run acked messages before the kill');
          assert.equal(c.ackedMissing, 0, 'every acked message is stored');
          assert.equal(c.unstored, 0, 'no push names a message that was never stored');
          assert.equal(c.lost, 0, "every offline device got a push naming the chat's last message");
          assert.ok(c.duplicates <= 2, 'at most the job in flight at the kill is sent again, per device');
        }),
    );
  }

  it('negative control: pushing before the commit is caught', { timeout: RUN_TIMEOUT_MS }, () =>
    inTempDir(async (dataDir) => {
      const c = await pushCrashRun({ dataDir, killAfterMs: 1200, unsafe: true });
      console.log(`push negative control: ${line(c)}`);
      assert.ok(c.unstored > 0, 'the checker sees pushes naming messages that were never stored');
    }),
  );
});
