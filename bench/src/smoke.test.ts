/**
 * Smoke test of the benchmark (not part of `npm test`: bench/dist is outside packages/):
 * runs every scenario with --quick and checks each produced its figures. No timing asserts.
 * Run: `npm run build && node --test bench/dist/src/smoke.test.js`.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { run } from './main.js';

test('every scenario runs with --quick and reports figures', { timeout: 600_000 }, async () => {
  const r = await run(['--quick'], false);
  assert.equal(r.code, 0, `every scenario finished: ${r.results.map((x) => x.error ?? 'ok').join(', ')}`);
  const names = r.results.map((x) => x.name);
  assert.deepEqual(names, [
    'idle',
    'direct',
    'direct-sparse',
    'group',
    'offline-sync',
    'reconnect-storm',
    'restart',
    'create-chats',
    'push',
    'media',
  ]);
  for (const s of r.results) {
    assert.ok(s.figures.length > 0, `${s.name} has figures`);
    assert.ok(
      s.figures.some((f) => f.value !== null && Number.isFinite(f.value)),
      `${s.name} has at least one value`,
    );
    assert.ok(s.cpu.serverSec > 0, `${s.name} measured server CPU`);
    // media's client is the coordinator itself: it has no generator processes.
    if (s.name !== 'media') assert.ok(s.cpu.genSec > 0, `${s.name} measured generator CPU`);
  }
  assert.ok(r.reportBase && existsSync(`${r.reportBase}.md`) && existsSync(`${r.reportBase}.json`));
});
