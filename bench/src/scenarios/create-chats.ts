/**
 * create-chats: 1,000 online users with no chats ask for direct chats with random other
 * users (each pair once) at stepped rates. Per step: createChat requests and answers per
 * second, refusals, and the delay from a request to the other member's receipt of the
 * chat's CREATED update. After each step the load stops until every answered chat's
 * CREATED update has arrived or the settle period ends; those still missing are counted.
 */
import type { CreateCollectResult } from '../create-load.js';
import type { DeviceSpec } from '../gen-types.js';
import { Hist } from '../hist.js';
import { bottleneckNote, type LadderResult, type StepCheck } from '../ladder.js';
import { describeCounts, errorCount, Meter, type Window } from '../meter.js';
import { formatThreadsPct } from '../proc.js';
import { Rig } from '../rig.js';
import type { ScenarioOutput } from '../types.js';
import { fmt, nowMs, prng, sleep } from '../util.js';

function sizes(quick: boolean) {
  return quick
    ? { users: 60, rates: [50, 100], warm: 300, measure: 1500, settle: 2000, p99: 100, target: 5000 }
    : {
        users: 1000,
        rates: [500, 1000, 2000, 3000, 5000, 7000],
        warm: 2000,
        measure: 15_000,
        settle: 5000,
        p99: 100,
        target: 5000,
      };
}

/**
 * Each unordered pair once: user i asks users i+1 … i+⌊(n-1)/2⌋ (mod n), and with an even
 * n the users of the lower half also ask the one n/2 ahead. Each list is shuffled.
 */
function peerLists(n: number): number[][] {
  const lists: number[][] = [];
  for (let i = 0; i < n; i++) {
    const peers: number[] = [];
    for (let d = 1; d <= Math.floor((n - 1) / 2); d++) peers.push((i + d) % n);
    if (n % 2 === 0 && i < n / 2) peers.push(i + n / 2);
    const rnd = prng(1000 + i);
    for (let k = peers.length - 1; k > 0; k--) {
      const j = Math.floor(rnd() * (k + 1));
      [peers[k], peers[j]] = [peers[j]!, peers[k]!];
    }
    lists.push(peers);
  }
  return lists;
}

/** Joins each answered chat's request time with the CREATED update its other member got. */
class CreateTracker {
  private sentAt = new Map<string, number>();
  private arrivedAt = new Map<string, number>();
  /** Chats counted missing in an earlier step. */
  private readonly missed = new Set<string>();
  lateArrivals = 0;
  answerHist = new Hist();

  ingest(rs: readonly CreateCollectResult[]): void {
    for (const r of rs) {
      for (const [chat, sent, at] of r.answered) {
        this.sentAt.set(chat, sent);
        this.answerHist.record(at - sent);
      }
      for (const [chat, at] of r.arrived) {
        if (this.missed.delete(chat)) this.lateArrivals++;
        else this.arrivedAt.set(chat, at);
      }
    }
  }

  /** Answered chats whose CREATED update has not arrived yet. */
  waiting(): number {
    let n = 0;
    for (const chat of this.sentAt.keys()) if (!this.arrivedAt.has(chat)) n++;
    return n;
  }

  /** Request → CREATED delays of chats requested in [from, to). */
  delays(from: number, to: number): Hist {
    const h = new Hist();
    for (const [chat, sent] of this.sentAt) {
      const at = this.arrivedAt.get(chat);
      if (at !== undefined && sent >= from && sent < to) h.record(at - sent);
    }
    return h;
  }

  /** Ends a step: what is still waiting is missing; returns how many. */
  close(): number {
    let missing = 0;
    for (const chat of this.sentAt.keys()) {
      if (this.arrivedAt.has(chat)) continue;
      this.missed.add(chat);
      missing++;
    }
    this.sentAt = new Map();
    this.arrivedAt = new Map();
    this.answerHist = new Hist();
    return missing;
  }
}

interface Counts {
  requested: number;
  skipped: number;
  noPeerLeft: number;
  answered: number;
  refused: number;
  outstanding: number;
}

function count(rs: readonly CreateCollectResult[]): Counts {
  const c: Counts = { requested: 0, skipped: 0, noPeerLeft: 0, answered: 0, refused: 0, outstanding: 0 };
  for (const r of rs) {
    c.requested += r.requested;
    c.skipped += r.skipped;
    c.noPeerLeft += r.noPeerLeft;
    c.answered += r.answered.length;
    c.refused += Object.values(r.failed).reduce((a, b) => a + b, 0);
    c.outstanding += r.outstanding;
  }
  return c;
}

const HEAD = [
  'requested/s',
  'answered/s',
  'refused',
  'answer p99 ms',
  'CREATED p50 ms',
  'CREATED p99 ms',
  'CREATED p99.9 ms',
  'CREATED missing',
  'server CPU %',
  'server threads CPU %',
  'server loop busy %',
  'generator CPU %',
  'server CPU µs/chat',
  'other processes CPU %',
];

interface Step {
  rate: number;
  check: StepCheck;
  w: Window;
  /** Answers per second in the measured window. */
  answered: number;
  /** Request → CREATED delays of the requests sent in the measured window. */
  delays: Hist;
  cpuUsPerChat: number;
}

export async function createChats(rig: Rig): Promise<ScenarioOutput> {
  const S = { ...sizes(rig.opts.quick) };
  if (rig.opts.rates) S.rates = rig.opts.rates;
  if (rig.opts.holdSec) S.measure = rig.opts.holdSec * 1000;
  const dir = rig.dataDir();
  const t0 = Date.now();
  const seeder = await rig.seeder(dir);
  const users = await seeder.users(S.users);
  await seeder.close();
  const seedMs = Date.now() - t0;
  rig.say(`  seeded ${S.users} users in ${seedMs} ms`);

  const server = await rig.server(dir);
  const W = 2;
  const pool = rig.pool(W);
  const peers = peerLists(S.users);
  const specs: DeviceSpec[][] = Array.from({ length: W }, () => []);
  for (const [i, u] of users.entries())
    specs[i % W]!.push({ ...u, chats: [], peers: peers[i]!.map((j) => users[j]!.userId) });
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
  if (conn.some((c) => c.failed)) throw new Error('some users could not connect');
  rig.say(`  ${S.users} users connected; stepping the createChat rate`);

  const meter = new Meter(pool, server, [0, 0], 0);
  const tracker = new CreateTracker();
  /** Refusals and requests not sent for want of pairs, since the current step began. */
  let stepRefused = 0;
  let stepNoPeer = 0;
  const collect = async () => {
    const rs = await pool.all<CreateCollectResult>({ op: 'createCollect' });
    tracker.ingest(rs);
    const c = count(rs);
    stepRefused += c.refused;
    stepNoPeer += c.noPeerLeft;
    return c;
  };
  const setRate = (total: number) => pool.all({ op: 'createRate', rate: total / W });
  let refusedTotal = 0;
  let missingTotal = 0;
  let noPeerLeft = 0;
  let unanswered = 0;

  const runStep = async (rate: number): Promise<Step> => {
    stepRefused = 0;
    stepNoPeer = 0;
    await setRate(rate);
    await sleep(S.warm);
    const from = nowMs();
    await Promise.all([collect(), meter.window()]);
    await sleep(S.measure);
    const [c, w] = await Promise.all([collect(), meter.window()]);
    const to = nowMs();
    await setRate(0);
    // Let the step's last requests be answered and their CREATED updates arrive.
    let last = await collect();
    for (const end = Date.now() + S.settle; Date.now() < end && (last.outstanding || tracker.waiting()); ) {
      await sleep(250);
      last = await collect();
    }
    const answerP99 = tracker.answerHist.pct(99);
    const delays = tracker.delays(from, to);
    const missing = tracker.close();
    const refused = stepRefused;
    refusedTotal += refused;
    missingTotal += missing;
    noPeerLeft += stepNoPeer;
    unanswered += last.outstanding;
    const requested = c.requested / w.sec;
    const answered = c.answered / w.sec;
    const cpuUsPerChat = (w.serverCpuSec * 1e6) / Math.max(1, c.answered);
    const p99 = delays.pct(99);
    const why = [
      stepNoPeer > 0 && 'every pair had been asked for',
      requested < 0.95 * rate && stepNoPeer === 0 && 'the generator could not issue requests at this rate',
      answered < 0.95 * rate && 'answers fell behind',
      !(p99 <= S.p99) && `CREATED p99 ${fmt(p99, 1)} ms > ${S.p99} ms`,
      refused > 0 && `${refused} refused`,
      missing > 0 && `${missing} CREATED updates missing after ${S.settle / 1000} s`,
      last.outstanding > 0 && `${last.outstanding} requests unanswered after ${S.settle / 1000} s`,
    ].filter(Boolean);
    const check: StepCheck = {
      ok: why.length === 0,
      why: why.join('; '),
      row: [
        fmt(requested),
        fmt(answered),
        fmt(refused),
        fmt(answerP99, 2),
        fmt(delays.pct(50), 2),
        fmt(p99, 2),
        fmt(delays.pct(99.9), 2),
        fmt(missing),
        fmt((100 * w.serverCpuSec) / w.sec),
        formatThreadsPct(w.serverThreadsCpuSec, w.sec),
        fmt(w.loopBusyPct),
        fmt((100 * w.genCpuSec) / w.sec),
        fmt(cpuUsPerChat, 1),
        fmt(w.otherCpuPct),
      ],
    };
    rig.say(`  ${fmt(rate)} chats/s: ${check.ok ? 'ok' : `FAIL (${check.why})`}  ${check.row.join(' | ')}`);
    return { rate, check, w, answered, delays, cpuUsPerChat };
  };

  // Step up until a step fails, then try once halfway between the last pass and the failure.
  const steps: Step[] = [];
  let best: Step | undefined;
  let failed: number | undefined;
  for (const rate of S.rates) {
    const s = await runStep(rate);
    steps.push(s);
    if (!s.check.ok) {
      failed = rate;
      break;
    }
    best = s;
  }
  if (failed !== undefined && best && failed / best.rate > 1.15) {
    const s = await runStep(Math.round((best.rate + failed) / 2));
    steps.push(s);
    if (s.check.ok) best = s;
  }
  const end = await meter.window();
  const shown = best ?? steps[0]!;
  const lad: LadderResult = { best: best?.rate ?? 0, steps };
  const notes = [
    bottleneckNote(lad, 'createChat'),
    `Pairs: each of the ${fmt((S.users * (S.users - 1)) / 2)} pairs of users is asked for at most once, by one of its two users, so every answer is a new chat with seq 1 CREATED for the other member.`,
    `After each step the load stops for up to ${S.settle / 1000} s until every answered chat's CREATED update has arrived; one still missing then counts as missing${tracker.lateArrivals ? ` (${fmt(tracker.lateArrivals)} arrived later, during a following step)` : ''}.`,
    `Error frames: ${describeCounts(end.errorFrames)}; unexpected closes: ${describeCounts(end.closes)}.`,
  ];
  if (noPeerLeft) notes.push(`${fmt(noPeerLeft)} requests were not sent: every pair had been asked for.`);
  return {
    figures: [
      { name: `seeding ${S.users} users`, value: seedMs / 1000, unit: 's', digits: 1 },
      {
        name: `max createChat rate passing a ${S.measure / 1000} s step`,
        value: best?.rate ?? 0,
        unit: 'chats/s',
        target: { op: '>=', value: S.target },
      },
      {
        name: `answered createChat/s at ${fmt(shown.rate)}/s`,
        value: shown.answered,
        unit: 'chats/s',
      },
      {
        name: `request → CREATED p50 at ${fmt(shown.rate)}/s`,
        value: shown.delays.pct(50),
        unit: 'ms',
        digits: 2,
      },
      {
        name: `request → CREATED p99 at ${fmt(shown.rate)}/s`,
        value: shown.delays.pct(99),
        unit: 'ms',
        digits: 2,
        target: { op: '<=', value: S.p99 },
      },
      {
        name: `server CPU per createChat at ${fmt(shown.rate)}/s`,
        value: shown.cpuUsPerChat,
        unit: 'µs',
        digits: 1,
      },
      {
        name: `CREATED updates missing ${S.settle / 1000} s after their step (all steps)`,
        value: missingTotal,
        unit: '',
        target: { op: '==', value: 0 },
      },
      {
        name: 'createChat refused (all steps)',
        value: refusedTotal,
        unit: '',
        target: { op: '==', value: 0 },
      },
      { name: 'createChat unanswered after settling (all steps)', value: unanswered, unit: '' },
      { name: 'error frames', value: errorCount(end), unit: '', target: { op: '==', value: 0 } },
    ],
    tables: [
      {
        title: `createChat rate steps (${S.warm / 1000} s warm-up, then the ${S.measure / 1000} s measured window; CREATED delays of the requests sent in it)`,
        head: ['target chats/s', 'result', ...HEAD],
        rows: steps.map((s) => [fmt(s.rate), s.check.ok ? 'ok' : `fail: ${s.check.why}`, ...s.check.row]),
      },
    ],
    notes,
  };
}
