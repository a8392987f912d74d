/**
 * Smoke test of the push scenario (not part of `npm test`, like smoke.test.ts): 200 offline
 * devices, each must get exactly one push through the local APNs, with the default coalesce
 * window and with none. No timing asserts.
 * Run: `npm run build && node --test bench/dist/src/push-smoke.test.js`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from './main.js';

test('the push scenario delivers exactly one push to each of 200 offline devices', {
  timeout: 300_000,
}, async () => {
  const r = await run(['push', '--quick', '--devices', '200'], false);
  const s = r.results[0]!;
  assert.equal(s.error, undefined);
  assert.equal(r.code, 0);
  const value = (name: string) => {
    const f = s.figures.find((x) => x.name === name);
    assert.ok(f, `figure "${name}"`);
    return f.value;
  };
  for (const tag of ['(coalesce 2 s (default))', '(coalesce 0)']) {
    assert.equal(value(`pushes received ${tag}`), 200);
    assert.equal(value(`devices without a push ${tag}`), 0);
    assert.equal(value(`duplicate pushes ${tag}`), 0);
    assert.equal(value(`pushes refused by the APNs or to unknown tokens ${tag}`), 0);
    assert.equal(value(`sends refused ${tag}`), 0);
    assert.ok((value(`commit-to-push p50 ${tag}`) ?? Number.NaN) >= 0, 'latencies were measured');
  }
  assert.ok(s.cpu.serverSec > 0 && s.cpu.genSec > 0);
});
