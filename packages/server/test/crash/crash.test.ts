/**
 * Crash tests (real child processes, SIGKILL): every acked message reaches every recipient
 * device exactly once after SDK dedupe. The negative control runs the same checker against
 * a node that acks before committing and must see loss. PARLEY_CRASH_RUNS sets the count.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crashRun } from './crash-run.js';

const runs = Number(process.env.PARLEY_CRASH_RUNS ?? 20);

describe('crash safety', () => {
  for (let i = 0; i < runs; i++) {
    // Kill moments spread over 150..1500 ms of traffic, shuffled by the run number.
    const killAfterMs = 150 + ((i * 617) % 1350);
    it(`run ${i + 1}/${runs}: SIGKILL after ${killAfterMs} ms loses nothing that was acked`, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'parley-crash-'));
      try {
        const c = await crashRun({ dataDir, killAfterMs });
        console.log(
          `crash run ${i + 1}: sent=${c.sent} acked=${c.acked} delivered=${c.delivered} duplicatesRemoved=${c.duplicatesRemoved} lost=${c.lost}`,
        );
        assert.ok(c.acked > 0, 'the run acked messages before the kill');
        assert.equal(c.lost, 0, 'every acked message reached every recipient device');
        assert.equal(c.appDuplicates, 0, 'no message was shown twice');
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }

  it('negative control: the checker reports loss when the node acks before committing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-crash-neg-'));
    try {
      const c = await crashRun({ dataDir, killAfterMs: 600, unsafe: true });
      console.log(
        `negative control: sent=${c.sent} acked=${c.acked} delivered=${c.delivered} duplicatesRemoved=${c.duplicatesRemoved} lost=${c.lost}`,
      );
      assert.ok(c.lost > 0, 'acking before commit must lose acked messages on SIGKILL');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
