// Refreshes the README's screenshots of the web client (docs/screenshots/*.png): runs the
// browser test that takes them, with PARLEY_SCREENSHOTS_DIR pointing there. Needs a build
// (`npm run screenshots` builds first) and Chromium (see packages/server/test/web/chromium.ts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', 'test/web/screenshots.test'], {
  cwd: root,
  stdio: 'inherit',
  // CI=true: without Chromium this fails instead of skipping, so no stale images pass for new ones.
  env: { ...process.env, CI: 'true', PARLEY_SCREENSHOTS_DIR: `${root}docs/screenshots` },
});
process.exit(r.status ?? 1);
