/**
 * restart: the data of `direct` plus a group (1,000 users, a direct chat for every pair and
 * one 1,000-member group). A fresh node starts on it, all devices connect, and its RSS is
 * read once connected and idle; it stops and starts again on the same data. The restarted
 * node is measured the same way (time until its CPU settles, connect rate, RSS, idle CPU)
 * and then carries a short 1:1 run, whose latency is reported.
 */
import type { ConnectResult, DeviceSpec } from '../gen-types.js';
import { describeCounts, errorCount, Meter, type Window } from '../meter.js';
import { listenDrops } from '../proc.js';
import { Rig } from '../rig.js';
import type { ServerHandle } from '../server-proc.js';
import type { ScenarioOutput } from '../types.js';
import { fmt, nowMs, sleep } from '../util.js';
import { directPairs, seedDirectChats } from './direct.js';

const PAYLOAD_BYTES = 100;
/** The node counts as idle once it used under this share of a core over IDLE_SPAN_MS. */
const IDLE_CPU = 0.05;
const IDLE_SPAN_MS = 2000;
const IDLE_SAMPLE_MS = 250;

function sizes(quick: boolean) {
  return quick
    ? {
        users: 60,
        startIdleMaxMs: 8000,
        connectedIdleMaxMs: 5000,
        idleMs: 2000,
        rate: 200,
        runMs: 3000,
        every: 1000,
      }
    : {
        users: 1000,
        startIdleMaxMs: 60_000,
        connectedIdleMaxMs: 30_000,
        idleMs: 10_000,
        rate: 1000,
        runMs: 15_000,
        every: 5000,
      };
}

/**
 * Samples the node's CPU every 250 ms until it used under 5% of a core over 2 s; resolves
 * with the start of that quiet span in ms after `from`, or null if none began by `maxMs`.
 */
async function awaitIdle(server: ServerHandle, from: number, maxMs: number): Promise<number | null> {
  const samples: Array<{ at: number; cpuSec: number }> = [];
  while (true) {
    const s = server.sample();
    if (!s) throw new Error('the server exited');
    const at = nowMs();
    samples.push({ at, cpuSec: s.cpuSec });
    const start = samples.findLast((x) => at - x.at >= IDLE_SPAN_MS);
    if (start && (s.cpuSec - start.cpuSec) / ((at - start.at) / 1000) < IDLE_CPU) return start.at - from;
    if (at - from > maxMs + IDLE_SPAN_MS) return null;
    await sleep(IDLE_SAMPLE_MS);
  }
}

interface Life {
  server: ServerHandle;
  listenSec: number;
  /** Start → CPU settled, before any device connects. */
  idleSec: number | null;
  connectSec: number;
  connectRate: number;
  /** Connects the kernel dropped meanwhile, its accept queue full (the machine's counter). */
  listenDrops: number;
  /** Last connection → CPU settled. */
  connectedIdleSec: number | null;
  rssMiB: number;
  idleCpuPct: number;
}

/** Starts a node on `dir`, waits until it is idle, connects every device and measures it idle. */
async function life(rig: Rig, dir: string, specs: DeviceSpec[][], S: ReturnType<typeof sizes>) {
  const t0 = nowMs();
  const server = await rig.server(dir);
  const listenSec = (nowMs() - t0) / 1000;
  const idleMs = await awaitIdle(server, t0, S.startIdleMaxMs);
  const pool = rig.pool(specs.length);
  const drops0 = listenDrops();
  const conn = await pool.all<ConnectResult>((i) => ({
    op: 'connect',
    url: server.url,
    devices: specs[i]!,
    localAddress: Rig.address(),
    encoding: rig.opts.encoding,
    concurrency: 500,
    ack: 'id0',
    timeoutMs: 20_000,
  }));
  const failed = conn.reduce((a, c) => a + c.failed, 0);
  if (failed) throw new Error(`${failed} devices could not connect: ${conn.flatMap((c) => c.errors)[0]}`);
  const lastWelcome = Math.max(...conn.map((c) => c.lastWelcomeAt));
  const connectSec = (lastWelcome - Math.min(...conn.map((c) => c.firstStartAt))) / 1000;
  const drops = listenDrops() - drops0;
  const connectedIdleMs = await awaitIdle(server, lastWelcome, S.connectedIdleMaxMs);
  const before = server.sample()!;
  await sleep(S.idleMs);
  const after = server.sample()!;
  const l: Life = {
    server,
    listenSec,
    idleSec: idleMs === null ? null : idleMs / 1000,
    connectSec,
    connectRate: S.users / connectSec,
    listenDrops: drops,
    connectedIdleSec: connectedIdleMs === null ? null : connectedIdleMs / 1000,
    rssMiB: before.rssKiB / 1024,
    idleCpuPct: (100 * (after.cpuSec - before.cpuSec)) / (S.idleMs / 1000),
  };
  rig.say(
    `  listening after ${fmt(l.listenSec, 1)} s, idle after ${fmt(l.idleSec, 1)} s; ${S.users} devices connected at ${fmt(l.connectRate)}/s; RSS ${fmt(l.rssMiB, 1)} MiB, idle CPU ${fmt(l.idleCpuPct, 1)}%`,
  );
  return { life: l, pool };
}

const lifeRow = (name: string, l: Life) => [
  name,
  fmt(l.listenSec, 2),
  fmt(l.idleSec, 2),
  fmt(l.connectSec, 2),
  fmt(l.connectRate),
  fmt(l.listenDrops),
  fmt(l.connectedIdleSec, 2),
  fmt(l.rssMiB, 1),
  fmt(l.idleCpuPct, 1),
];

const RUN_HEAD = ['t s', 'send/s', 'answered/s', 'delivered/s', 'p50 ms', 'p99 ms', 'max ms', 'server CPU %'];

export async function restart(rig: Rig): Promise<ScenarioOutput> {
  const S = sizes(rig.opts.quick);
  const dir = rig.dataDir();
  const t0 = Date.now();
  const seeder = await rig.seeder(dir);
  const users = await seeder.users(S.users);
  const pairs = directPairs(S.users, S.users - 1, 'all-pairs');
  const chatsOf = await seedDirectChats(rig, seeder, users, pairs);
  await seeder.chats('group', [users]);
  await seeder.close();
  const seedMs = Date.now() - t0;
  rig.say(`  seeded ${S.users} users, ${pairs.length} direct chats and a group in ${seedMs} ms`);

  const W = 2;
  const specs: DeviceSpec[][] = Array.from({ length: W }, () => []);
  for (const [i, u] of users.entries()) specs[i % W]!.push({ ...u, chats: chatsOf[i]! });

  rig.say('  fresh node');
  const fresh = await life(rig, dir, specs, S);
  await rig.closePool(fresh.pool);
  const stop0 = nowMs();
  await rig.stopServer(fresh.life.server);
  const stopSec = (nowMs() - stop0) / 1000;

  rig.say('  restarted node');
  const again = await life(rig, dir, specs, S);
  const { server } = again.life;
  const meter = new Meter(
    again.pool,
    server,
    specs.map((s) => s.length),
    PAYLOAD_BYTES,
  );
  rig.say(`  1:1 run at ${fmt(S.rate)} msgs/s for ${S.runMs / 1000} s`);
  await meter.window();
  await meter.setRate(S.rate);
  const ws: Window[] = [];
  for (let left = S.runMs; left > 0; left -= S.every) {
    await sleep(Math.min(S.every, left));
    ws.push(await meter.window());
  }
  const run = Meter.join(ws);
  const end = await meter.settle(15_000);
  const lost = end.total.acked - end.total.received;
  const runRow = (w: Window, t: string) => [
    t,
    fmt(w.c.sent / w.sec),
    fmt(w.c.acked / w.sec),
    fmt(w.c.received / w.sec),
    fmt(w.hist.pct(50), 2),
    fmt(w.hist.pct(99), 2),
    fmt(w.hist.n ? w.hist.max : null, 2),
    fmt((100 * w.serverCpuSec) / w.sec),
  ];
  const r = again.life;
  const f = fresh.life;
  const notes = [
    `Idle means the node used under ${IDLE_CPU * 100}% of a core over ${IDLE_SPAN_MS / 1000} s (sampled every ${IDLE_SAMPLE_MS} ms); "start → idle" is from forking the node to the start of that span, before any device connects (at most ${S.startIdleMaxMs / 1000} s is waited). RSS is read once the connected node is idle (at most ${S.connectedIdleMaxMs / 1000} s after the last connection), idle CPU over the ${S.idleMs / 1000} s after that.`,
    `Devices connect ${W} × 500 at a time, each generator process on its own loopback address; the rate is devices over first attempt to last welcome. "Connects dropped" is the kernel's count of SYNs dropped while a listening socket's accept queue was full (the node's \`listenBacklog\`, at most net.core.somaxconn), machine-wide during the connects: each such client retries about a second later. The fresh node stopped gracefully in ${fmt(stopSec, 1)} s before the restart.`,
    `Error frames: ${describeCounts(end.errorFrames)}; unexpected closes: ${describeCounts(end.closes)}.`,
    `1:1 run totals: ${fmt(end.total.sent)} sent, ${fmt(end.total.acked)} answered, ${fmt(end.total.received)} delivered uniquely${end.settled ? '' : `; ${end.outstanding} still unanswered 15 s after it`}.`,
  ];
  return {
    figures: [
      {
        name: `seeding ${S.users} users, ${pairs.length} direct chats and a ${S.users}-member group`,
        value: seedMs / 1000,
        unit: 's',
        digits: 1,
      },
      { name: 'fresh node: connect rate', value: f.connectRate, unit: 'devices/s' },
      { name: 'fresh node: RSS connected and idle', value: f.rssMiB, unit: 'MiB', digits: 1 },
      {
        name: 'restart: start → CPU idle',
        value: r.idleSec,
        unit: 's',
        digits: 1,
        target: { op: '<=', value: 10 },
      },
      {
        name: 'restart: connect rate',
        value: r.connectRate,
        unit: 'devices/s',
        target: { op: '>=', value: 1500 },
      },
      {
        name: 'restart: RSS connected and idle (target 1.5× the fresh node)',
        value: r.rssMiB,
        unit: 'MiB',
        digits: 1,
        target: { op: '<=', value: Math.round(1.5 * f.rssMiB * 10) / 10 },
      },
      {
        name: `restart: idle CPU over ${S.idleMs / 1000} s`,
        value: r.idleCpuPct,
        unit: '% of a core',
        digits: 1,
      },
      {
        name: `restart: 1:1 p99 at ${fmt(S.rate)} msgs/s, ${S.runMs / 1000} s`,
        value: run.hist.pct(99),
        unit: 'ms',
        digits: 1,
      },
      { name: 'restart: 1:1 max latency', value: run.hist.n ? run.hist.max : null, unit: 'ms', digits: 1 },
      { name: 'lost (answered − delivered)', value: lost, unit: 'msgs', target: { op: '==', value: 0 } },
      { name: 'error frames', value: errorCount(end), unit: '', target: { op: '==', value: 0 } },
    ],
    tables: [
      {
        title: 'Fresh node and restart on the same data',
        head: [
          'node',
          'start → listening s',
          'start → idle s',
          'connect s',
          'devices/s',
          'connects dropped (accept queue full)',
          'connected → idle s',
          'RSS idle MiB',
          'idle CPU %',
        ],
        rows: [lifeRow('fresh', f), lifeRow('restarted', r)],
      },
      {
        title: `1:1 run on the restarted node, ${fmt(S.rate)} msgs/s (${S.every / 1000} s windows)`,
        head: RUN_HEAD,
        rows: [...ws.map((w) => runRow(w, fmt((w.to - ws[0]!.from) / 1000, 0))), runRow(run, 'all')],
      },
    ],
    notes,
  };
}
