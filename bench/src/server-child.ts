/**
 * The server under test, in its own process so its CPU and memory can be read from /proc.
 * Config overrides come as JSON in BENCH_SERVER_CONFIG; the bound port goes to the parent
 * over IPC; an IPC 'stop' stops the node gracefully (so --cpu-prof can write its profile).
 * 'loop' answers the event loop's utilisation (busy includes time blocked in fsync) and
 * the longest loop delay since the last ask, and the main thread's garbage-collection pauses
 * since the last ask (their sum and the longest); it reads Node's counters, not the server's code.
 * With BENCH_ALLOC_PROFILE_DIR set, the main thread's allocations are sampled from the start
 * (objects collected since included) and written there as ALLOC.<pid>.heapprofile on 'stop'.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { loadConfig, openNode } from '@parley/server';

const allocDir = process.env.BENCH_ALLOC_PROFILE_DIR;
const inspector = allocDir ? new Session() : undefined;
if (inspector) {
  inspector.connect();
  await inspector.post('HeapProfiler.enable');
  // One sample per 16 KiB allocated on average: enough for a run of tens of seconds, and cheap.
  await inspector.post('HeapProfiler.startSampling', {
    samplingInterval: 16384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}

/** Writes the allocation profile (once, before the process exits). */
async function writeAllocProfile(): Promise<void> {
  if (!inspector || !allocDir) return;
  const { profile } = await inspector.post('HeapProfiler.stopSampling');
  writeFileSync(join(allocDir, `ALLOC.${process.pid}.heapprofile`), JSON.stringify(profile));
  inspector.disconnect();
}

const overrides = JSON.parse(process.env.BENCH_SERVER_CONFIG ?? '{}');
// openNode: the store may be PostgreSQL (--store), which createNode does not open.
const node = await openNode(loadConfig({ overrides }));
let stopping = false;

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const timer = setTimeout(() => process.exit(code || 3), 20_000);
  try {
    await node.stop();
    await writeAllocProfile();
  } finally {
    clearTimeout(timer);
    process.exit(code);
  }
}

const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
const gc = { ms: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.ms += e.duration;
    if (e.duration > gc.maxMs) gc.maxMs = e.duration;
  }
}).observe({ entryTypes: ['gc'] });

process.on('message', (m: { type?: string; id?: number }) => {
  if (m?.type === 'stop') void stop(0);
  if (m?.type === 'loop') {
    const u = performance.eventLoopUtilization();
    process.send?.({
      type: 'loop',
      id: m.id,
      active: u.active,
      idle: u.idle,
      delayMaxMs: delay.max / 1e6,
      gcMs: gc.ms,
      gcMaxMs: gc.maxMs,
    });
    delay.reset();
    gc.ms = 0;
    gc.maxMs = 0;
  }
});
// The parent went away: do not linger.
process.on('disconnect', () => void stop(1));

const port = await node.start();
process.send?.({ type: 'ready', port, pid: process.pid });
