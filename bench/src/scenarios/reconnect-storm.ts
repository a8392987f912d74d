/**
 * reconnect-storm: 10,000 devices (in 5,000 direct chats, each with unacked messages) are
 * connected, then every socket is dropped at the same instant; each device reconnects after
 * the SDK's backoffDelay (attempt 0, 1, ... as the SDK does) and must receive and ack its
 * backlog again. Measured: time until all are connected and drained, peak server RSS, errors.
 */
import type { DeviceSpec, DrainResult } from '../gen-types.js';
import { describeCounts, errorCount, Meter } from '../meter.js';
import { Rig } from '../rig.js';
import type { ScenarioOutput } from '../types.js';
import { fmt, nowMs } from '../util.js';

const PER_SIDE = 5;

export async function reconnectStorm(rig: Rig): Promise<ScenarioOutput> {
  const N = rig.opts.quick ? 300 : 10_000;
  const dir = rig.dataDir();
  const t0 = Date.now();
  const seeder = await rig.seeder(dir);
  const users = await seeder.users(N);
  const W = 2;
  const specs: DeviceSpec[][] = Array.from({ length: W }, () => []);
  for (let i = 0; i + 1 < N; i += 2) {
    const a = users[i]!;
    const b = users[i + 1]!;
    const chat = await seeder.chat('direct', [a, b]);
    const aLast = await seeder.messages(chat, a, PER_SIDE, 100);
    const bLast = await seeder.messages(chat, b, PER_SIDE, 100);
    specs[(i / 2) % W]!.push({ ...a, chats: [], expect: { [chat]: bLast } });
    specs[(i / 2) % W]!.push({ ...b, chats: [], expect: { [chat]: aLast } });
  }
  await seeder.close();
  rig.say(`  seeded ${N} devices, ${N / 2} chats, ${N * PER_SIDE} messages in ${Date.now() - t0} ms`);

  const server = await rig.server(dir);
  const pool = rig.pool(W);
  const meter = new Meter(pool, server, [0, 0], 100);
  // Phase 1: everyone connects and receives the backlog without acking it.
  const c0 = nowMs();
  await pool.all((i) => ({
    op: 'connect',
    url: server.url,
    devices: specs[i]!,
    localAddress: Rig.address(),
    encoding: rig.opts.encoding,
    concurrency: 64,
    ack: 'none',
    timeoutMs: 30_000,
  }));
  const first = await pool.all<DrainResult>({ op: 'waitDrained', timeoutMs: 60_000 });
  const firstDrained = first.reduce((a, r) => a + r.drained, 0);
  const phase1Ms = Math.max(...first.map((r) => r.maxDrainedAt)) - c0;
  rig.say(`  phase 1: ${firstDrained}/${N} connected with their backlog in ${fmt(phase1Ms)} ms`);
  await meter.window();
  const before = server.sample();

  // Phase 2: drop everything at once; reconnect with backoff; ack with ids.
  let peakKiB = before?.rssKiB ?? 0;
  const sampler = setInterval(() => {
    const s = server.sample();
    if (s && s.rssKiB > peakKiB) peakKiB = s.rssKiB;
  }, 50);
  const dropAt = nowMs() + 300;
  const cpu0 = server.sample()?.cpuSec ?? 0;
  let storm: DrainResult[];
  try {
    storm = await pool.all<DrainResult>({ op: 'storm', dropAt, timeoutMs: rig.opts.quick ? 20_000 : 60_000 });
  } finally {
    clearInterval(sampler);
  }
  const after = server.sample();
  const cpu = (after?.cpuSec ?? cpu0) - cpu0;
  const drained = storm.reduce((a, r) => a + r.drained, 0);
  const connectedMs = Math.max(...storm.map((r) => r.maxWelcomeAt)) - dropAt;
  const drainedMs = drained === N ? Math.max(...storm.map((r) => r.maxDrainedAt)) - dropAt : null;
  const w = await meter.window();
  const failedAttempts = storm.reduce((a, r) => a + r.failedAttempts, 0);
  return {
    figures: [
      {
        name: 'drop to all connected and drained',
        value: drainedMs,
        unit: 'ms',
        target: { op: '<', value: 10_000 },
      },
      { name: 'drop to all connected', value: connectedMs, unit: 'ms' },
      { name: 'devices drained', value: drained, unit: `of ${N}`, target: { op: '==', value: N } },
      { name: 'peak server RSS during the storm', value: peakKiB / 1024, unit: 'MiB', digits: 1 },
      { name: 'server RSS before the drop', value: (before?.rssKiB ?? 0) / 1024, unit: 'MiB', digits: 1 },
      { name: 'server VmHWM (whole run)', value: (after?.hwmKiB ?? 0) / 1024, unit: 'MiB', digits: 1 },
      { name: 'error frames', value: errorCount(w), unit: '', target: { op: '==', value: 0 } },
      { name: 'failed connection attempts', value: failedAttempts, unit: '' },
    ],
    tables: [
      {
        title: 'Storm',
        head: [
          'devices',
          'phase 1 connect+backlog ms',
          'max attempts per device',
          'server CPU s (storm)',
          'server CPU %',
        ],
        rows: [
          [
            String(N),
            fmt(phase1Ms),
            String(Math.max(...storm.map((r) => r.maxAttempts))),
            fmt(cpu, 2),
            fmt((100 * cpu) / Math.max(0.001, (nowMs() - dropAt) / 1000)),
          ],
        ],
      },
    ],
    notes: [
      `Each device has ${PER_SIDE} unacked messages from its peer, received before the drop but not acked; the drop is a client-side abort of every socket at the same instant (no close frame).`,
      'Reconnect delays: backoffDelay(attempt, {}, Math.random) from @parley/sdk (full jitter, 250 ms initial ceiling), attempt reset on welcome, as the SDK does.',
      `Error frames: ${describeCounts(w.errorFrames)}; closes seen by clients: ${describeCounts(w.closes)}.`,
    ],
  };
}
