/**
 * The repository's test runner (scripts/run-tests.mjs), run on throwaway test files: no fixed
 * time ceiling cancels a test that takes its time, a run that stalls is stopped by the stall
 * guard, and the output ends with a summary naming every failed and cancelled test, closed by
 * the line `N passed, N failed, N skipped`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const runner = new URL('../../../../scripts/run-tests.mjs', import.meta.url).pathname;

const FIXTURES: Record<string, string> = {
  // Sorted first: node reports files in order, so a file that never ends hides those after it.
  'a-ok.test.mjs': `import { test } from 'node:test';
test('passes', () => {});`,
  'b-slow.test.mjs': `import { test } from 'node:test';
test('takes its time', { timeout: 120_000 }, () => new Promise((r) => setTimeout(r, 3000)));`,
  'c-fail.test.mjs': `import assert from 'node:assert/strict';
import { test } from 'node:test';
test('adds up', () => assert.equal(1 + 1, 3));`,
  'z-hang.test.mjs': `import { test } from 'node:test';
test('never settles', () => new Promise(() => setInterval(() => {}, 1000)));`,
};

function withoutTestContext(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _, ...rest } = env;
  return rest;
}

function run(files: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runner, ...files], {
      // Without node's marker of a test process, so the runner starts a run of its own.
      env: { ...withoutTestContext(process.env), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('the test runner', () => {
  it('names failed and stalled tests at the end, closes with the totals line and exits non-zero', {
    timeout: 180_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-runner-'));
    try {
      for (const [name, text] of Object.entries(FIXTURES)) writeFileSync(join(dir, name), text);
      // The guard looks every 5 s; 0.1 min stops the hung file about 10 s after the last event.
      const { code, out } = await run(
        Object.keys(FIXTURES).map((f) => join(dir, f)),
        { PARLEY_TEST_STALL_MINUTES: '0.1' },
      );
      assert.equal(code, 1, out);
      const lines = out.trimEnd().split('\n');
      assert.equal(lines.at(-1), '2 passed, 2 failed, 0 skipped', out);
      const summary = out.slice(out.lastIndexOf('test summary'));
      assert.match(summary, /FAILED \(1\):\n\s+✖ \S*c-fail\.test\.mjs › adds up/);
      assert.match(summary, /2 !== 3/);
      assert.match(summary, /CANCELLED \(1\):\n\s+⊘ \S*z-hang\.test\.mjs/);
      assert.match(summary, /PARLEY_TEST_STALL_MINUTES/);
      assert.doesNotMatch(summary, /a-ok|b-slow/, 'passing tests are not listed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails a run in which no test ran', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-runner-'));
    try {
      writeFileSync(join(dir, 'a-empty.test.mjs'), '// no tests here\n');
      const { code, out } = await run([join(dir, 'a-empty.test.mjs')], {});
      assert.equal(code, 1, out);
      assert.match(out, /result: FAIL \(no test ran\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 0 with the totals line last when every test passes', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-runner-'));
    try {
      writeFileSync(join(dir, 'a-ok.test.mjs'), FIXTURES['a-ok.test.mjs']!);
      const { code, out } = await run([join(dir, 'a-ok.test.mjs')], {});
      assert.equal(code, 0, out);
      assert.equal(out.trimEnd().split('\n').at(-1), '1 passed, 0 failed, 0 skipped', out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
