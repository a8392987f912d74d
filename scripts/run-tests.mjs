// Runs every compiled test file (packages/*/dist/**/*.test.js) with node's test runner.
// Pass file filters as arguments: `node scripts/run-tests.mjs chat sdk`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const dist = join(root, 'packages', pkg, 'dist');
  try {
    statSync(dist);
  } catch {
    continue;
  }
  for (const f of readdirSync(dist, { recursive: true })) {
    const p = join(dist, String(f));
    if (p.endsWith('.test.js') && (filters.length === 0 || filters.some((x) => p.includes(x)))) files.push(p);
  }
}
files.sort();
if (files.length === 0) {
  console.error('no test files found: run npm run build first');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
