// Runs every compiled test file (packages/*/dist/**/*.test.js, and bench/dist/src/**/*.test.js but the
// smoke test) with node's test runner.
// Pass file filters as arguments: `node scripts/run-tests.mjs chat sdk`, or test files by path.
//
// There is no fixed time limit per file or per test (tests size their own timeouts): a slow
// machine only makes the run longer. What stops a hung run is a stall guard: when no test has
// started or finished for PARLEY_TEST_STALL_MINUTES (default 20), the run is stopped and what
// was still running is reported as cancelled. The spec reporter's output streams as usual; the
// summary (test-summary.mjs) comes last and names every failed, cancelled and skipped test.
// Exit code: 0 only when nothing failed or was cancelled and node's runner exited with 0.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { TestSummary } from './test-summary.mjs';

const root = new URL('..', import.meta.url).pathname;
// An argument naming an existing test file runs that file; any other is a path filter.
const isFile = (a) => /\.test\.m?js$/.test(a) && statSync(a, { throwIfNoEntry: false })?.isFile();
const filters = process.argv.slice(2).filter((a) => !isFile(a));
const files = process.argv.slice(2).filter(isFile);
// Test files named on the command line, and no filter: run those alone.
const namedOnly = files.length > 0 && filters.length === 0;
for (const pkg of namedOnly ? [] : readdirSync(join(root, 'packages'))) {
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
// The bench's own unit tests too; its smoke test runs every scenario and stays out (bench/README.md).
const benchDist = join(root, 'bench', 'dist', 'src');
if (!namedOnly && statSync(benchDist, { throwIfNoEntry: false })) {
  for (const f of readdirSync(benchDist, { recursive: true })) {
    const p = join(benchDist, String(f));
    if (!p.endsWith('.test.js') || p.endsWith('smoke.test.js')) continue;
    if (filters.length === 0 || filters.some((x) => p.includes(x))) files.push(p);
  }
}
files.sort();
if (files.length === 0) {
  console.error('no test files found: run npm run build first');
  process.exit(1);
}

const stallMinutes = Number(process.env.PARLEY_TEST_STALL_MINUTES ?? 20);
if (!(stallMinutes > 0)) {
  console.error('PARLEY_TEST_STALL_MINUTES must be a positive number of minutes');
  process.exit(1);
}

const summary = new TestSummary(root, files);
const reporter = join(root, 'scripts/summary-reporter.mjs');
// The summary reporter writes to a file of its own, read as it grows, so its lines never mix
// with the output.
const eventDir = mkdtempSync(join(tmpdir(), 'parley-tests-'));
const eventFile = join(eventDir, 'events.jsonl');
closeSync(openSync(eventFile, 'w'));
const child = spawn(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${reporter}`,
    `--test-reporter-destination=${eventFile}`,
    ...files,
  ],
  { stdio: 'inherit', detached: true },
);
const eventFd = openSync(eventFile, 'r');
const chunk = Buffer.alloc(1 << 16);
const decoder = new StringDecoder('utf8');
let partial = '';
const readEvents = () => {
  for (;;) {
    const n = readSync(eventFd, chunk, 0, chunk.length, null);
    if (n === 0) return;
    const lines = (partial + decoder.write(chunk.subarray(0, n))).split('\n');
    partial = lines.pop();
    for (const line of lines) summary.addLine(line);
  }
};

// The runner and its test processes form their own process group, stopped as one.
let stopReason;
const stopGroup = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {}
};
const stop = (reason) => {
  if (stopReason) return;
  stopReason = reason;
  console.error(`\n${reason}: stopping the test run`);
  stopGroup('SIGTERM');
  setTimeout(() => stopGroup('SIGKILL'), 10_000).unref();
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop(`received ${signal}`));
const guard = setInterval(() => {
  readEvents();
  if (Date.now() - summary.lastProgressAt > stallMinutes * 60_000) {
    stop(`no test started or finished for ${stallMinutes} min (PARLEY_TEST_STALL_MINUTES)`);
  }
}, 5_000);

const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
clearInterval(guard);
stopGroup('SIGKILL'); // test processes left behind by a stopped runner
readEvents();
summary.addLine(partial);
closeSync(eventFd);
rmSync(eventDir, { recursive: true, force: true });
if (stopReason) summary.markUnfinished(`stopped: ${stopReason}`);
if (code !== 0 && summary.ok) summary.addRunFailure(`node's test runner exited with ${signal ?? code}`);
console.log(summary.format());
process.exit(summary.ok && code === 0 ? 0 : 1);
