/**
 * group: one 1,000-member group, every member online and acking every delivery as the SDK
 * does (so delivered receipts flow back to the senders), 10 of them sending. The message
 * rate steps up (30 s steps) until the p99 fan-out latency (send to the last member's
 * receipt of the message) passes 200 ms, deliveries fall behind or no receipts reach the
 * senders; half the best rate is then measured for fan-out percentiles.
 */
import type { DeviceSpec } from '../gen-types.js';
import { bottleneckNote, ladder, pctOf, type StepCheck } from '../ladder.js';
import { describeCounts, errorCount, Meter, type Window } from '../meter.js';
import { formatThreadsPct } from '../proc.js';
import { Rig } from '../rig.js';
import type { ScenarioOutput } from '../types.js';
import { fmt, sleep } from '../util.js';

const PAYLOAD_BYTES = 100;
const P99_LIMIT_MS = 200;

/** Deliveries a second the group must sustain with p99 ≤ 200 ms (the design's fan-out figure). */
const TARGET_DELIVERIES = 60_000;

const MEMBERS = 1000;
/** The message rate whose deliveries (each to the 999 members besides its sender) reach the target: 61. */
const TARGET_RATE = Math.ceil(TARGET_DELIVERIES / (MEMBERS - 1));

function sizes(quick: boolean) {
  return quick
    ? { members: 64, senders: 4, rates: [10, 20], warm: 300, measure: 1000, half: 1000 }
    : {
        members: MEMBERS,
        senders: 10,
        rates: [5, 10, 20, 40, TARGET_RATE, 80, 100, 140, 200, 280],
        warm: 2000,
        measure: 30_000,
        half: 30_000,
      };
}

/** Joins each message's send time with its deliveries, which arrive from several processes. */
class FanTracker {
  private readonly sent = new Map<string, number>();
  private readonly fan = new Map<string, [number, number]>();

  ingest(w: Window): void {
    for (const [k, at] of w.sentKeys) this.sent.set(k, at);
    for (const [k, n, max] of w.fan) {
      const f = this.fan.get(k);
      if (!f) this.fan.set(k, [n, max]);
      else {
        f[0] += n;
        if (max > f[1]) f[1] = max;
      }
    }
  }

  /** Fan-out latency of each message sent in [from, to): Infinity when not every member got it. */
  latencies(from: number, to: number, recipients: number): number[] {
    const out: number[] = [];
    for (const [k, at] of this.sent) {
      if (at < from || at >= to) continue;
      const f = this.fan.get(k);
      out.push(f && f[0] >= recipients ? f[1] : Number.POSITIVE_INFINITY);
    }
    return out;
  }
}

const HEAD = [
  'messages',
  'send/s',
  'answered/s',
  'deliveries/s',
  'receipts to senders/s',
  'fan-out p50 ms',
  'fan-out p99 ms',
  'incomplete',
  'delivery p99 ms',
  'server CPU %',
  'server threads CPU %',
  'server loop busy %',
  'server loop stall max ms',
  'server GC % of time',
  'server GC pause max ms',
  'generator CPU %',
  'server CPU µs/delivery',
  'other processes CPU %',
];

export async function group(rig: Rig): Promise<ScenarioOutput> {
  const S = { ...sizes(rig.opts.quick) };
  if (rig.opts.rates) S.rates = rig.opts.rates;
  if (rig.opts.holdSec) Object.assign(S, { measure: rig.opts.holdSec * 1000, half: rig.opts.holdSec * 1000 });
  const R = S.members - 1;
  const dir = rig.dataDir();
  const seeder = await rig.seeder(dir);
  const users = await seeder.users(S.members);
  const chat = await seeder.chat('group', users);
  await seeder.close();

  const server = await rig.server(dir);
  const W = 2;
  const pool = rig.pool(W);
  const specs: DeviceSpec[][] = Array.from({ length: W }, () => []);
  for (const [i, u] of users.entries()) specs[i % W]!.push({ ...u, chats: i < S.senders ? [chat] : [] });
  const conn = await pool.all<{ failed: number }>((i) => ({
    op: 'connect',
    url: server.url,
    devices: specs[i]!,
    localAddress: Rig.address(),
    encoding: rig.opts.encoding,
    concurrency: 50,
    ack: 'id0',
    timeoutMs: 20_000,
  }));
  if (conn.some((c) => c.failed)) throw new Error('some members could not connect');
  rig.say(`  ${S.members} members connected, ${S.senders} senders; stepping the rate`);

  const meter = new Meter(
    pool,
    server,
    specs.map((s) => s.filter((d) => d.chats.length).length),
    PAYLOAD_BYTES,
    true,
  );
  const fan = new FanTracker();
  meter.onWindow = (w) => fan.ingest(w);
  await meter.window();

  /** Waits for the window's last messages to finish fanning out, then judges it. */
  const judge = async (rate: number, w: Window): Promise<StepCheck & { lat: number[] }> => {
    await sleep(500);
    await meter.window();
    const lat = fan.latencies(w.from, w.to, R);
    const p99 = pctOf(lat, 99);
    const incomplete = lat.filter((x) => x === Number.POSITIVE_INFINITY).length;
    const send = w.c.sent / w.sec;
    const deliveries = w.c.received / w.sec;
    const why = [
      send < 0.95 * rate && 'the generator could not issue sends at this rate',
      w.c.acked / w.sec < 0.95 * rate && 'sendResults fell behind',
      deliveries < 0.95 * rate * R && 'deliveries fell behind',
      w.c.receipts === 0 && 'no receipts reached the senders',
      !(p99 <= P99_LIMIT_MS) && `fan-out p99 ${fmt(p99, 1)} ms > ${P99_LIMIT_MS} ms`,
      w.c.sendErrors > 0 && `${w.c.sendErrors} send errors`,
    ].filter(Boolean);
    return {
      ok: why.length === 0,
      why: why.join('; '),
      lat,
      row: [
        String(lat.length),
        fmt(send, 1),
        fmt(w.c.acked / w.sec, 1),
        fmt(deliveries),
        fmt(w.c.receipts / w.sec),
        fmt(pctOf(lat, 50), 2),
        fmt(p99, 2),
        String(incomplete),
        fmt(w.hist.pct(99), 2),
        fmt((100 * w.serverCpuSec) / w.sec),
        formatThreadsPct(w.serverThreadsCpuSec, w.sec),
        fmt(w.loopBusyPct),
        fmt(w.loopDelayMaxMs, 1),
        fmt((100 * w.gcMs) / 1000 / w.sec, 1),
        fmt(w.gcMaxMs, 1),
        fmt((100 * w.genCpuSec) / w.sec),
        fmt((w.serverCpuSec * 1e6) / Math.max(1, w.c.received), 2),
        fmt(w.otherCpuPct),
      ],
    };
  };

  const lad = await ladder({
    rates: S.rates,
    warmMs: S.warm,
    measureMs: S.measure,
    meter,
    check: judge,
    settleMs: 30_000,
    say: rig.say,
    unit: 'msgs/s',
  });
  const best = lad.best;
  const bestStep = lad.steps.find((s) => s.rate === best);
  const half = Math.max(1, (best || S.rates[0]!) / 2);
  rig.say(`  measuring fan-out at ${fmt(half, 1)} msgs/s for ${S.half / 1000} s`);
  await meter.setRate(half);
  await sleep(S.warm);
  await meter.window();
  await sleep(S.half);
  const hw = await meter.window();
  const hc = await judge(half, hw);
  const end = await meter.settle(15_000, R);
  const lost = end.total.acked * R - end.total.received;
  const bestW = bestStep?.w;
  return {
    figures: [
      {
        name: `max deliveries/s passing a ${S.measure / 1000} s step`,
        value: bestW ? bestW.c.received / bestW.sec : 0,
        unit: 'deliveries/s',
        target: { op: '>=', value: TARGET_DELIVERIES },
      },
      {
        name: 'receipts reaching the senders in that step',
        value: bestW ? bestW.c.receipts / bestW.sec : 0,
        unit: '/s',
      },
      { name: 'max message rate passing a step', value: best, unit: 'msgs/s' },
      { name: `fan-out p50 at ${fmt(half, 1)} msgs/s`, value: pctOf(hc.lat, 50), unit: 'ms', digits: 2 },
      {
        name: `fan-out p99 at ${fmt(half, 1)} msgs/s`,
        value: pctOf(hc.lat, 99),
        unit: 'ms',
        digits: 2,
        target: { op: '<=', value: 10 },
      },
      { name: 'delivery p99 at half rate (any member)', value: hw.hist.pct(99), unit: 'ms', digits: 2 },
      {
        name: 'server CPU per delivery (best step)',
        value: bestW ? (bestW.serverCpuSec * 1e6) / Math.max(1, bestW.c.received) : null,
        unit: 'µs',
        digits: 2,
      },
      {
        name: 'lost deliveries (answered × members − delivered)',
        value: lost,
        unit: '',
        target: { op: '==', value: 0 },
      },
      { name: 'error frames', value: errorCount(end), unit: '', target: { op: '==', value: 0 } },
    ],
    tables: [
      {
        title: `Rate steps (${S.members} members, ${S.senders} senders; fan-out = send to the last of ${R} recipients)`,
        head: ['target msgs/s', 'result', ...HEAD],
        rows: lad.steps.map((s) => [fmt(s.rate), s.check.ok ? 'ok' : `fail: ${s.check.why}`, ...s.check.row]),
      },
      { title: `Half rate (${fmt(half, 1)} msgs/s)`, head: HEAD, rows: [hc.row] },
    ],
    notes: [
      bottleneckNote(lad, 'delivery'),
      `Error frames: ${describeCounts(end.errorFrames)}; unexpected closes: ${describeCounts(end.closes)}.`,
      `Totals: ${fmt(end.total.acked)} messages answered, ${fmt(end.total.received)} deliveries, ${fmt(end.total.dupes)} duplicates, ${end.outstanding} unanswered at the end.`,
    ],
  };
}
