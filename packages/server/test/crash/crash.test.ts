/**
 * Crash tests (real child processes, SIGKILL): every acked message reaches every recipient
 * device, in per-chat seq order without gaps, both on devices online during the sends (after
 * SDK de-duplication: exactly once) and on devices that were offline and drain their backlog
 * after the restart (every arrival counted; redeliveries are allowed and reported). Each run
 * checks both kinds, so they share the node restarts. The negative control acks before
 * committing and must see loss on both kinds. PARLEY_CRASH_RUNS sets the count (default 20).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DeliveryCounts } from './crash-check.js';
import { type CrashCounts, crashRun } from './crash-run.js';

const runs = Number(process.env.PARLEY_CRASH_RUNS ?? 20);
/**
 * Runs at once. A run mostly waits (traffic until the kill, node start-up, reconnects), so two
 * at a time halve the suite's time even on a busy two-core machine; each run has its own node,
 * port and data dir. PARLEY_CRASH_CONCURRENCY=1 runs them one by one.
 */
const concurrency = Number(process.env.PARLEY_CRASH_CONCURRENCY ?? 2);
/** A run is a few seconds; a busy machine and the 20 s outbox wait after the restart need more. */
const RUN_TIMEOUT_MS = 90_000;

const line = (c: DeliveryCounts & { duplicatesRemoved?: number }) =>
  `devices=${c.devices} delivered=${c.delivered} duplicates=${c.duplicatesRemoved ?? c.duplicates} lost=${c.lost} gaps=${c.gaps} outOfOrder=${c.outOfOrder} seqMismatches=${c.seqMismatches}${c.examples.length ? ` e.g. ${c.examples.join(' ')}` : ''}`;

function report(name: string, c: CrashCounts): void {
  console.log(`${name}: sent=${c.sent} acked=${c.acked}`);
  console.log(`  online (after SDK de-duplication): ${line(c.online)}`);
  console.log(`  offline until the restart (every arrival): ${line(c.offline)}`);
}

async function inTempDir<T>(prefix: string, fn: (dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await fn(dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function assertNothingLost(c: DeliveryCounts, who: string): void {
  assert.equal(c.lost, 0, `${who}: every acked message reached every recipient device`);
  assert.equal(c.gaps, 0, `${who}: every seq up to each chat's last arrived`);
  assert.equal(c.outOfOrder, 0, `${who}: each chat's messages arrived in seq order`);
  assert.equal(c.seqMismatches, 0, `${who}: each message arrived under the seq its ack gave`);
}

describe('crash safety', { concurrency }, () => {
  for (let i = 0; i < runs; i++) {
    // Kill moments spread over 150..1500 ms of traffic, shuffled by the run number.
    const killAfterMs = 150 + ((i * 617) % 1350);
    it(
      `run ${i + 1}/${runs}: SIGKILL after ${killAfterMs} ms loses nothing that was acked, online or offline`,
      { timeout: RUN_TIMEOUT_MS },
      () =>
        inTempDir('parley-crash-', async (dataDir) => {
          const c = await crashRun({ dataDir, killAfterMs });
          report(`crash run ${i + 1}`, c);
          assert.ok(c.acked > 0, 'the run acked messages before the kill');
          assertNothingLost(c.online, 'online');
          assert.equal(c.online.duplicates, 0, 'online: no message was shown twice');
          assertNothingLost(c.offline, 'offline');
          // Duplicates are allowed (at-least-once) and reported above, never required.
        }),
    );
  }

  it(
    'negative control: acking before committing loses acked messages, seen online and offline',
    { timeout: RUN_TIMEOUT_MS },
    () =>
      inTempDir('parley-crash-neg-', async (dataDir) => {
        const c = await crashRun({ dataDir, killAfterMs: 600, unsafe: true });
        report('negative control', c);
        assert.ok(c.online.lost > 0, 'the checker sees the loss on the online devices');
        assert.ok(c.offline.lost > 0, 'the checker sees the loss on the offline devices');
      }),
  );
});
