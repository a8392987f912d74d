import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { formatThreadsPct, threadsCpuDelta, threadsCpuSec } from './proc.js';

it('reads a process’s threads’ CPU by role: the main thread, named threads, and the rest', async (t) => {
  if (process.platform !== 'linux') return t.skip('/proc is Linux only');
  // A thread that names itself as the node's store threads do, then burns some CPU.
  const worker = new Worker(
    `const { writeFileSync } = require('node:fs');
     const { parentPort } = require('node:worker_threads');
     writeFileSync('/proc/thread-self/comm', 'parley-test');
     const end = Date.now() + 200;
     while (Date.now() < end);
     parentPort.postMessage('named');
     setInterval(() => {}, 1000);`,
    { eval: true },
  );
  try {
    await new Promise((resolve) => worker.once('message', resolve));
    const roles = threadsCpuSec(process.pid);
    assert.ok(roles, 'this process is alive');
    assert.ok(roles.main !== undefined && roles.main > 0, `main ${roles.main}`);
    assert.ok(
      roles.test !== undefined && roles.test >= 0.1,
      `the named thread's 200 ms of CPU: ${roles.test}`,
    );
    assert.ok('other' in roles, 'unnamed threads (V8, libuv) are "other"');
    assert.equal(threadsCpuSec(2 ** 22 + 1), undefined, 'no such process');
  } finally {
    await worker.terminate();
  }
});

it('a window’s thread CPU is the difference of two readings, never below 0, as % of a core', () => {
  const d = threadsCpuDelta(
    { main: 1, writer: 2, gone: 5 },
    { main: 1.5, writer: 2.25, ckpt: 0.1, other: 0 },
  );
  assert.deepEqual(d, { main: 0.5, writer: 0.25, ckpt: 0.1, other: 0 });
  assert.deepEqual(threadsCpuDelta(undefined, { main: 1 }), {});
  assert.equal(formatThreadsPct(d, 2), 'main 25 · writer 13 · ckpt 5 · other 0');
  assert.equal(formatThreadsPct({ zeta: 1, reader: 0.5, main: 1 }, 1), 'main 100 · reader 50 · zeta 100');
  assert.equal(formatThreadsPct(d, 0), '');
});
