/**
 * direct: 1,000 online users send 1:1 messages to random peers at a fixed total rate. In
 * `direct` every pair of users has a direct chat (1,000 users: 499,500 chats) and each rate
 * step lasts 30 s, the workload of DESIGN.md section 6; `direct-sparse` gives each user chats
 * with ~10 random peers and 4 s steps (a quick look). The rate steps up until p99 delivery
 * latency passes its limit or delivery falls behind; the best rate is then held for 60 s
 * (loss, server CPU per message) and half of it measured for latency percentiles.
 */
import type { DeviceSpec } from '../gen-types.js';
import { bottleneckNote, ladder, type StepCheck } from '../ladder.js';
import { describeCounts, errorCount, Meter, type Window } from '../meter.js';
import { formatThreadsPct } from '../proc.js';
import { Rig } from '../rig.js';
import type { Seeder, SeedUser } from '../seed.js';
import type { ScenarioOutput } from '../types.js';
import { fmt, prng, sleep } from '../util.js';

const PAYLOAD_BYTES = 100;

export type DirectGraph = 'all-pairs' | 'sparse';

function sizes(quick: boolean, graph: DirectGraph) {
  if (graph === 'all-pairs') {
    return quick
      ? {
          users: 60,
          peers: 59,
          rates: [300, 600],
          warm: 300,
          measure: 2000,
          sustain: 2000,
          half: 1000,
          settle: 3000,
          p99: 100,
          target: 16_000,
          cpuUs: 60,
        }
      : {
          users: 1000,
          peers: 999,
          rates: [1000, 2000, 4000, 8000, 12_000, 16_000, 20_000, 25_000, 30_000],
          warm: 2000,
          measure: 30_000,
          sustain: 60_000,
          half: 30_000,
          settle: 30_000,
          p99: 100,
          target: 16_000,
          cpuUs: 60,
        };
  }
  return quick
    ? {
        p99: 200,
        target: 25_000,
        cpuUs: 50,
        users: 60,
        peers: 3,
        rates: [300, 600],
        warm: 300,
        measure: 1000,
        sustain: 2000,
        half: 1000,
        settle: 3000,
      }
    : {
        p99: 200,
        target: 25_000,
        cpuUs: 50,
        users: 1000,
        peers: 5,
        rates: [
          500, 1000, 2000, 4000, 7000, 10_000, 13_000, 16_000, 20_000, 25_000, 30_000, 35_000, 40_000, 50_000,
          60_000, 80_000,
        ],
        warm: 1000,
        measure: 4000,
        sustain: 60_000,
        half: 30_000,
        settle: 30_000,
      };
}

/** One measured window in the shape of the report's step rows. */
function judge(rate: number, w: Window, P99_LIMIT_MS: number): StepCheck {
  const send = w.c.sent / w.sec;
  const ack = w.c.acked / w.sec;
  const recv = w.c.received / w.sec;
  const p99 = w.hist.pct(99);
  const why = [
    send < 0.95 * rate && 'the generator could not issue sends at this rate',
    ack < 0.95 * rate && 'sendResults fell behind',
    recv < 0.95 * rate && 'deliveries fell behind',
    !(p99 <= P99_LIMIT_MS) && `p99 ${fmt(p99, 1)} ms > ${P99_LIMIT_MS} ms`,
    w.c.sendErrors > 0 && `${w.c.sendErrors} send errors`,
  ].filter(Boolean);
  return {
    ok: why.length === 0,
    why: why.join('; '),
    row: [
      fmt(send),
      fmt(ack),
      fmt(recv),
      fmt(w.hist.pct(50), 2),
      fmt(p99, 2),
      fmt(w.histIn.pct(99), 2),
      fmt(w.hist.pct(99.9), 2),
      fmt((100 * w.serverCpuSec) / w.sec),
      formatThreadsPct(w.serverThreadsCpuSec, w.sec),
      fmt(w.loopBusyPct),
      fmt(w.loopDelayMaxMs, 1),
      fmt((100 * w.gcMs) / 1000 / w.sec, 1),
      fmt(w.gcMaxMs, 1),
      fmt((100 * w.genCpuSec) / w.sec),
      fmt((w.serverCpuSec * 1e6) / Math.max(1, w.c.acked), 1),
      fmt(w.otherCpuPct),
    ],
  };
}

const STEP_HEAD = [
  'send/s',
  'answered/s',
  'delivered/s',
  'p50 ms',
  'p99 ms',
  'p99 until the server stamp ms',
  'p99.9 ms',
  'server CPU %',
  'server threads CPU %',
  'server loop busy %',
  'server loop stall max ms',
  'server GC % of time',
  'server GC pause max ms',
  'generator CPU %',
  'server CPU µs/msg',
  'other processes CPU %',
];

async function windows(meter: Meter, ms: number, every = 5000): Promise<Window[]> {
  const out: Window[] = [];
  for (let left = ms; left > 0; left -= every) {
    await sleep(Math.min(every, left));
    out.push(await meter.window());
  }
  return out;
}

/**
 * Seeds a direct chat for each pair of `users` (by index), saying progress every ~10 s;
 * returns each user's chat ids.
 */
export async function seedDirectChats(
  rig: Rig,
  seeder: Seeder,
  users: readonly SeedUser[],
  pairs: ReadonlyArray<[number, number]>,
): Promise<string[][]> {
  let lastSay = Date.now();
  const chats = await seeder.chats(
    'direct',
    pairs.map(([i, j]) => [users[i]!, users[j]!]),
    (done) => {
      if (Date.now() - lastSay < 10_000) return;
      lastSay = Date.now();
      rig.say(`  seeding: ${done} of ${pairs.length} direct chats`);
    },
  );
  const chatsOf = users.map(() => [] as string[]);
  for (const [n, [i, j]] of pairs.entries()) {
    chatsOf[i]!.push(chats[n]!);
    chatsOf[j]!.push(chats[n]!);
  }
  return chatsOf;
}

/** Every pair of users (all-pairs) or ~2 x peers random peers per user (sparse). */
export function directPairs(users: number, peers: number, graph: DirectGraph): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (graph === 'all-pairs') {
    for (let i = 0; i < users; i++) for (let j = i + 1; j < users; j++) out.push([i, j]);
    return out;
  }
  const rnd = prng(42);
  const seen = new Set<string>();
  for (let i = 0; i < users; i++) {
    for (let k = 0; k < peers; k++) {
      const j = Math.floor(rnd() * users);
      const key = i < j ? `${i}-${j}` : `${j}-${i}`;
      if (j === i || seen.has(key)) continue;
      seen.add(key);
      out.push([i, j]);
    }
  }
  return out;
}

export const direct = (rig: Rig) => directScenario(rig, 'all-pairs');
export const directSparse = (rig: Rig) => directScenario(rig, 'sparse');

async function directScenario(rig: Rig, graph: DirectGraph): Promise<ScenarioOutput> {
  const S = { ...sizes(rig.opts.quick, graph) };
  if (rig.opts.rates) S.rates = rig.opts.rates;
  if (rig.opts.holdSec) {
    const ms = rig.opts.holdSec * 1000;
    Object.assign(S, { measure: ms, sustain: ms, half: ms });
  }
  const judgeStep = (rate: number, w: Window) => judge(rate, w, S.p99);
  const dir = rig.dataDir();
  const t0 = Date.now();
  const seeder = await rig.seeder(dir);
  const users = await seeder.users(S.users);
  const pairs = directPairs(S.users, S.peers, graph);
  const chatsOf = await seedDirectChats(rig, seeder, users, pairs);
  await seeder.close();
  const seedMs = Date.now() - t0;
  rig.say(`  seeded ${S.users} users and ${pairs.length} direct chats in ${seedMs} ms`);

  const serverT0 = performance.now();
  const server = await rig.server(dir);
  const W = 2;
  const pool = rig.pool(W);
  const specs: DeviceSpec[][] = Array.from({ length: W }, () => []);
  for (const [i, u] of users.entries()) specs[i % W]!.push({ ...u, chats: chatsOf[i]! });
  const conn = await pool.all<{ connected: number; failed: number }>((i) => ({
    op: 'connect',
    url: server.url,
    devices: specs[i]!,
    localAddress: Rig.address(),
    encoding: rig.opts.encoding,
    concurrency: 50,
    ack: 'id0',
    timeoutMs: 20_000,
  }));
  const failed = conn.reduce((a, c) => a + c.failed, 0);
  if (failed) throw new Error(`${failed} devices could not connect`);
  // Measured from here on: the node in its steady state, holding every chat's membership.
  const loadT0 = performance.now();
  const held = await server.directoryLoaded(120_000);
  const startMs = performance.now() - serverT0;
  rig.say(
    `  ${S.users} devices connected; the node holds ${held} chats (waited ${Math.round(performance.now() - loadT0)} ms); stepping the rate`,
  );

  const meter = new Meter(
    pool,
    server,
    specs.map((s) => s.length),
    PAYLOAD_BYTES,
  );
  await meter.window();
  const lad = await ladder({
    rates: S.rates,
    warmMs: S.warm,
    measureMs: S.measure,
    meter,
    check: async (rate, w) => judgeStep(rate, w),
    settleMs: S.settle,
    say: rig.say,
    unit: 'msgs/s',
  });
  const best = lad.best;
  const notes: string[] = [bottleneckNote(lad)];

  // Hold the best rate for the sustain period.
  let sustain: { w: Window; check: StepCheck } | undefined;
  const sustainRows: string[][] = [];
  if (best > 0) {
    rig.say(`  holding ${fmt(best)} msgs/s for ${S.sustain / 1000} s`);
    await meter.setRate(best);
    const ws = await windows(meter, S.sustain);
    for (const w of ws)
      sustainRows.push([fmt(w.to / 1000 - ws[0]!.from / 1000, 0), ...judgeStep(best, w).row]);
    const w = Meter.join(ws);
    sustain = { w, check: judgeStep(best, w) };
    if (!sustain.check.ok)
      notes.push(`The ${S.sustain / 1000} s hold at ${fmt(best)} msgs/s failed: ${sustain.check.why}.`);
    const st = await meter.settle(S.settle);
    if (!st.settled)
      notes.push(
        `After the hold the server had not caught up within ${S.settle / 1000} s; the half-rate run started with a backlog.`,
      );
  } else {
    notes.push(`Even the first step (${fmt(S.rates[0])} msgs/s) failed: ${lad.steps[0]?.check.why}.`);
  }

  // Half of the best rate, for latency percentiles.
  const half = Math.max(1, Math.round((best || S.rates[0]!) / 2));
  rig.say(`  measuring latency at ${fmt(half)} msgs/s for ${S.half / 1000} s`);
  await meter.setRate(half);
  await sleep(S.warm);
  await meter.window();
  const hw = Meter.join(await windows(meter, S.half));
  const end = await meter.settle(15_000);
  const lost = end.total.acked - end.total.received;
  if (end.outstanding) notes.push(`${end.outstanding} sends were still unanswered at the end.`);
  notes.push(
    `Error frames: ${describeCounts(end.errorFrames)}; unexpected closes: ${describeCounts(end.closes)}.`,
  );
  notes.push(
    `Totals: ${fmt(end.total.sent)} sent, ${fmt(end.total.acked)} answered (durable), ${fmt(end.total.received)} delivered uniquely, ${fmt(end.total.dupes)} duplicates.`,
  );
  const h = hw.hist;
  const sw = sustain?.w;
  return {
    figures: [
      {
        name: `seeding ${S.users} users and ${pairs.length} direct chats`,
        value: seedMs / 1000,
        unit: 's',
        digits: 1,
      },
      {
        name: 'from the node starting until it connected every device and held every chat',
        value: startMs / 1000,
        unit: 's',
        digits: 1,
      },
      {
        name: `max rate passing a ${S.measure / 1000} s step`,
        value: best,
        unit: 'msgs/s',
        target: { op: '>=', value: S.target },
      },
      {
        name: `sustained ${S.sustain / 1000} s at that rate, passing the step check (answered/s)`,
        value: sustain?.check.ok ? sw!.c.acked / sw!.sec : null,
        unit: 'msgs/s',
        target: { op: '>=', value: S.target },
      },
      {
        name: `answered/s during the ${S.sustain / 1000} s hold`,
        value: sw ? sw.c.acked / sw.sec : null,
        unit: 'msgs/s',
      },
      {
        name: `p99 during the ${S.sustain / 1000} s hold`,
        value: sw ? sw.hist.pct(99) : null,
        unit: 'ms',
        digits: 1,
      },
      { name: 'lost (answered − delivered)', value: lost, unit: 'msgs', target: { op: '==', value: 0 } },
      {
        name: 'server CPU per message (sustain)',
        value: sw ? (sw.serverCpuSec * 1e6) / Math.max(1, sw.c.acked) : null,
        unit: 'µs',
        digits: 1,
        target: { op: '<=', value: S.cpuUs },
      },
      { name: `p50 at ${fmt(half)} msgs/s`, value: h.pct(50), unit: 'ms', digits: 2 },
      { name: `p95 at ${fmt(half)} msgs/s`, value: h.pct(95), unit: 'ms', digits: 2 },
      {
        name: `p99 at ${fmt(half)} msgs/s`,
        value: h.pct(99),
        unit: 'ms',
        digits: 2,
        target: { op: '<=', value: 10 },
      },
      {
        name: `p99.9 at ${fmt(half)} msgs/s`,
        value: h.pct(99.9),
        unit: 'ms',
        digits: 2,
        target: { op: '<=', value: 50 },
      },
      { name: `max at ${fmt(half)} msgs/s`, value: h.n ? h.max : null, unit: 'ms', digits: 2 },
      {
        name: 'server CPU per message (half rate)',
        value: (hw.serverCpuSec * 1e6) / Math.max(1, hw.c.acked),
        unit: 'µs',
        digits: 1,
      },
      { name: 'error frames', value: errorCount(end), unit: '', target: { op: '==', value: 0 } },
    ],
    tables: [
      {
        title: `Rate steps (${S.warm / 1000} s warm-up, then the ${S.measure / 1000} s measured window)`,
        head: ['target msgs/s', 'result', ...STEP_HEAD],
        rows: lad.steps.map((s) => [fmt(s.rate), s.check.ok ? 'ok' : `fail: ${s.check.why}`, ...s.check.row]),
      },
      { title: `Hold at ${fmt(best)} msgs/s, 5 s windows`, head: ['t s', ...STEP_HEAD], rows: sustainRows },
      { title: `Half rate (${fmt(half)} msgs/s)`, head: STEP_HEAD, rows: [judgeStep(half, hw).row] },
    ],
    notes,
  };
}
