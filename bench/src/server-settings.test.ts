import assert from 'node:assert/strict';
import { it } from 'node:test';
import { benchServerExtraSettings, benchServerSettings } from './server-proc.js';

it("PARLEY_BENCH_SERVER_SETTINGS adds the run's own node settings, and refuses what is not a JSON object", () => {
  assert.deepEqual(benchServerExtraSettings({}), {});
  assert.deepEqual(
    benchServerExtraSettings({ PARLEY_BENCH_SERVER_SETTINGS: '{"sqliteReaderMmapBytes":1073741824}' }),
    { sqliteReaderMmapBytes: 1073741824 },
  );
  assert.throws(() => benchServerExtraSettings({ PARLEY_BENCH_SERVER_SETTINGS: '{sqlite' }), /is not JSON/);
  assert.throws(() => benchServerExtraSettings({ PARLEY_BENCH_SERVER_SETTINGS: '[1]' }), /a JSON object/);
  // The bench's own settings still apply on top: a run cannot turn durability off by accident.
  const before = process.env.PARLEY_BENCH_SERVER_SETTINGS;
  process.env.PARLEY_BENCH_SERVER_SETTINGS = '{"unsafeAckBeforeCommit":true,"ackFlushMs":20}';
  try {
    const s = benchServerSettings('FULL');
    assert.equal(s.unsafeAckBeforeCommit, false);
    assert.equal(s.ackFlushMs, 20);
  } finally {
    if (before === undefined) delete process.env.PARLEY_BENCH_SERVER_SETTINGS;
    else process.env.PARLEY_BENCH_SERVER_SETTINGS = before;
  }
});
