/**
 * Debian's Chromium for the browser tests, driven by playwright-core (which downloads no
 * browser). Found as PARLEY_CHROMIUM, `chromium` on PATH, or /usr/bin/chromium. Without it the
 * web tests are skipped on a developer's machine and FAIL in CI (CI=true), where .ci/run installs
 * it with apt-get.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium executable, or undefined when the machine has none. */
export function findChromium(): string | undefined {
  const fromEnv = process.env.PARLEY_CHROMIUM;
  if (fromEnv) return executable(fromEnv) ? fromEnv : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser'])
      if (executable(join(dir, name))) return join(dir, name);
  }
  return ['/usr/bin/chromium', '/usr/lib/chromium/chromium'].find(executable);
}

const MISSING = 'Chromium is not installed (apt-get install chromium), or set PARLEY_CHROMIUM';

/** For describe(): skip without Chromium on a developer's machine; never in CI (the test fails there). */
export function chromiumSkip(): string | false {
  if (findChromium() || process.env.CI) return false;
  console.log(`# skipping the browser tests: ${MISSING}`);
  return MISSING;
}

/** Launches headless Chromium; throws (fails the test) when there is none. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(MISSING);
  return chromium.launch({
    executablePath,
    headless: true,
    // The tests run as root in CI, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    timeout: 60_000,
  });
}
