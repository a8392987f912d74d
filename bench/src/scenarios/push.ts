/**
 * push: N offline devices (10,000; `--devices`) each have an APNs registration and a direct chat
 * with one online sender, who sends one message into each chat (as fast as answers come back,
 * or at `--send-rate`). The node hands each push to a local APNs (apns-sink.ts: HTTP/2 over TLS,
 * in this process, checking paths, headers and the ES256 JWT), which timestamps every arrival.
 * Measured: pushes/s, commit-to-push latency per push (commit = the sender got its sendResult;
 * push = the request reached the APNs), that every device got exactly one push, and the node's
 * CPU and RSS. Run once with the default coalesce window (2 s, which delays each push by design)
 * and once with pushCoalesceMs=0, each on a freshly seeded node.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ApnsSink, startApnsSink } from '../apns-sink.js';
import { Hist } from '../hist.js';
import type { SendEachResult } from '../push-sender.js';
import { Rig } from '../rig.js';
import type { SeedUser } from '../seed.js';
import type { ServerHandle } from '../server-proc.js';
import type { Figure, ScenarioOutput } from '../types.js';
import { fmt, nowMs, sleep } from '../util.js';

const KEY_ID = 'BENCHKEY01';
const TEAM_ID = 'BENCHTEAM1';
const TOPIC = 'org.parley.bench';
const PAYLOAD_BYTES = 100;
/** Unanswered sends the sender keeps in flight when it sends as fast as it can. */
const WINDOW = 256;
/** After the last expected push: how long to keep listening for duplicates. */
const LINGER_MS = 3000;
/** With pushes still missing: how long without a new one before giving up. */
const STALL_MS = 20_000;

/** A distinct 64-hex-digit APNs device token per seeded device. */
const tokenOf = (u: SeedUser) => `${u.index.toString(16).padStart(8, '0')}${'be'.repeat(28)}`;

interface Variant {
  label: string;
  coalesceMs: number;
}

export interface PushRun {
  variant: Variant;
  seed: { users: number; chats: number; registrations: number };
  send: SendEachResult;
  sink: ApnsSink;
  tokens: string[];
  cpuSec: number;
  wallSec: number;
  rssMaxKiB: number;
  hwmKiB: number;
  loopBusyPct: number;
  metrics: Record<string, number>;
}

/** Sums of the node's push counters (parley_push_*_total), by metric name. */
async function pushCounters(server: ServerHandle): Promise<Record<string, number>> {
  const text = await fetch(`${server.url}/metrics`).then((r) => r.text());
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^parley_push_(\w+)_total(?:\{[^}]*\})? (\S+)$/gm))
    out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  return out;
}

async function runVariant(rig: Rig, n: number, v: Variant, certFile: string): Promise<PushRun> {
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const sink = await startApnsSink({
    keyId: KEY_ID,
    teamId: TEAM_ID,
    publicKey: key.publicKey,
    topic: TOPIC,
  });
  writeFileSync(certFile, sink.cert);
  try {
    const dir = rig.dataDir();
    const seeder = await rig.seeder(dir);
    let t = performance.now();
    const lap = () => {
      const ms = performance.now() - t;
      t = performance.now();
      return ms;
    };
    const [sender, ...devices] = await seeder.users(n + 1);
    const seed = { users: lap(), chats: 0, registrations: 0 };
    const chats = await seeder.chats(
      'direct',
      devices.map((d) => [sender!, d]),
    );
    seed.chats = lap();
    await seeder.apnsRegistrations(devices, TOPIC, tokenOf);
    seed.registrations = lap();
    await seeder.close();
    rig.say(
      `  ${v.label}: seeded ${fmt(n)} devices (users ${fmt(seed.users)} ms, chats ${fmt(seed.chats)} ms, APNs registrations ${fmt(seed.registrations)} ms)`,
    );

    const server = await rig.server(dir, {
      config: {
        pushApnsKeyId: KEY_ID,
        pushApnsTeamId: TEAM_ID,
        pushApnsKey: key.privateKey.export({ type: 'pkcs8', format: 'pem' }),
        pushApnsHost: sink.url,
        pushApnsSandboxHost: sink.url,
        pushCoalesceMs: v.coalesceMs,
      },
      // The node has no setting for an APNs CA: it trusts the local APNs' certificate this way.
      env: { NODE_EXTRA_CA_CERTS: certFile },
    });
    await server.directoryLoaded(120_000);
    const pool = rig.pool(1);
    const tokens = devices.map(tokenOf);
    let rssMaxKiB = 0;
    const rssTimer = setInterval(() => {
      rssMaxKiB = Math.max(rssMaxKiB, server.sample()?.rssKiB ?? 0);
    }, 250);
    const cpu0 = server.sample()!.cpuSec;
    const loop0 = await server.loop();
    const t0 = nowMs();
    const send = await pool.call<SendEachResult>(0, {
      op: 'sendEach',
      url: server.url,
      device: { index: sender!.index, token: sender!.token },
      chats,
      encoding: rig.opts.encoding,
      rate: rig.opts.sendRate ?? 0,
      window: WINDOW,
      payloadBytes: PAYLOAD_BYTES,
      localAddress: Rig.address(),
      timeoutMs: 300_000,
    });
    rig.say(`  ${v.label}: ${fmt(n)} sends answered in ${fmt((nowMs() - t0) / 1000, 1)} s`);
    let seen = -1;
    let lastChange = nowMs();
    while (sink.arrivals.size < n && nowMs() - lastChange < STALL_MS) {
      if (sink.accepted !== seen) {
        seen = sink.accepted;
        lastChange = nowMs();
      }
      await sleep(100);
    }
    const wallSec = (nowMs() - t0) / 1000;
    const cpuSec = server.sample()!.cpuSec - cpu0;
    const loop1 = await server.loop();
    await sleep(LINGER_MS);
    clearInterval(rssTimer);
    const metrics = await pushCounters(server);
    const hwmKiB = server.sample()?.hwmKiB ?? 0;
    await rig.closePool(pool);
    await rig.stopServer(server);
    const busy = loop0 && loop1 ? loop1.active - loop0.active : Number.NaN;
    const idle = loop0 && loop1 ? loop1.idle - loop0.idle : Number.NaN;
    rig.say(`  ${v.label}: ${fmt(sink.accepted)} pushes accepted by the APNs, ${fmt(sink.refused)} refused`);
    return {
      variant: v,
      seed,
      send,
      sink,
      tokens,
      cpuSec,
      wallSec,
      rssMaxKiB,
      hwmKiB,
      loopBusyPct: (100 * busy) / (busy + idle),
      metrics,
    };
  } finally {
    await sink.close();
  }
}

/** What one run measured, as figures and a table row. */
export function summarise(r: PushRun) {
  const n = r.tokens.length;
  const commit = new Hist();
  const stamp = new Hist();
  const firsts: number[] = [];
  let missing = 0;
  let duplicates = 0;
  for (const [i, token] of r.tokens.entries()) {
    const at = r.sink.arrivals.get(token);
    if (!at) {
      missing++;
      continue;
    }
    duplicates += at.length - 1;
    firsts.push(at[0]!);
    if (r.send.answeredAt[i]) commit.record(at[0]! - r.send.answeredAt[i]!);
    if (r.send.serverTime[i]) stamp.record(at[0]! - r.send.serverTime[i]!);
  }
  const expected = new Set(r.tokens);
  const unexpected = [...r.sink.arrivals.keys()].filter((t) => !expected.has(t)).length;
  firsts.sort((a, b) => a - b);
  // The steady window: from the 10th to the 90th percentile of first arrivals.
  const lo = firsts[Math.floor(firsts.length * 0.1)] ?? 0;
  const hi = firsts[Math.ceil(firsts.length * 0.9) - 1] ?? 0;
  const steady =
    hi > lo
      ? ((Math.ceil(firsts.length * 0.9) - Math.floor(firsts.length * 0.1)) * 1000) / (hi - lo)
      : Number.NaN;
  const sentFirst = Math.min(...r.send.sentAt.filter((x) => x > 0));
  const answeredLast = Math.max(...r.send.answeredAt);
  const answered = r.send.answeredAt.filter((x) => x > 0).length;
  const sendSec = (answeredLast - sentFirst) / 1000;
  const pushSec = firsts.length ? (firsts[firsts.length - 1]! - sentFirst) / 1000 : Number.NaN;
  const sendErrors = Object.values(r.send.errors).reduce((a, b) => a + b, 0);
  return {
    n,
    received: r.sink.accepted,
    missing,
    duplicates,
    unexpected,
    steady,
    overall: firsts.length / pushSec,
    answered,
    sendPerSec: answered / sendSec,
    sendSec,
    pushSec,
    commit,
    stamp,
    sendErrors,
  };
}

const kib = (k: number) => `${fmt(k / 1024)} MiB`;

export async function push(rig: Rig): Promise<ScenarioOutput> {
  const n = rig.opts.devices ?? (rig.opts.quick ? 200 : 10_000);
  const variants: Variant[] = [
    { label: 'coalesce 2 s (default)', coalesceMs: 2000 },
    { label: 'coalesce 0', coalesceMs: 0 },
  ];
  const certFile = join(rig.workDir, 'apns-cert.pem');
  const figures: Figure[] = [];
  const rows: string[][] = [];
  const seedRows: string[][] = [];
  const notes: string[] = [];
  for (const v of variants) {
    const r = await runVariant(rig, n, v, certFile);
    const s = summarise(r);
    const tag = `(${v.label})`;
    figures.push(
      { name: `pushes received ${tag}`, value: s.received, unit: '', target: { op: '==', value: n } },
      { name: `pushes/s handed to APNs, steady ${tag}`, value: s.steady, unit: 'pushes/s' },
      { name: `commit-to-push p50 ${tag}`, value: s.commit.pct(50), unit: 'ms', digits: 1 },
      { name: `commit-to-push p99 ${tag}`, value: s.commit.pct(99), unit: 'ms', digits: 1 },
      { name: `commit-to-push max ${tag}`, value: s.commit.n ? s.commit.max : null, unit: 'ms', digits: 1 },
      { name: `devices without a push ${tag}`, value: s.missing, unit: '', target: { op: '==', value: 0 } },
      { name: `duplicate pushes ${tag}`, value: s.duplicates, unit: '', target: { op: '==', value: 0 } },
      {
        name: `pushes refused by the APNs or to unknown tokens ${tag}`,
        value: r.sink.refused + s.unexpected,
        unit: '',
        target: { op: '==', value: 0 },
      },
      { name: `sends refused ${tag}`, value: s.sendErrors, unit: '', target: { op: '==', value: 0 } },
      {
        name: `server CPU per push ${tag}`,
        value: (r.cpuSec * 1e6) / Math.max(1, s.received),
        unit: 'µs',
        digits: 0,
      },
    );
    rows.push([
      v.label,
      fmt(s.answered),
      fmt(s.sendPerSec),
      fmt(s.received),
      fmt(s.missing),
      fmt(s.duplicates),
      fmt(s.steady),
      fmt(s.overall),
      fmt(s.pushSec, 1),
      fmt(s.commit.pct(50), 1),
      fmt(s.commit.pct(99), 1),
      fmt(s.commit.n ? s.commit.max : Number.NaN, 1),
      fmt(s.stamp.pct(50), 1),
      fmt(s.stamp.pct(99), 1),
      fmt(r.cpuSec, 2),
      fmt((100 * r.cpuSec) / r.wallSec),
      fmt(r.loopBusyPct),
      kib(r.rssMaxKiB),
      kib(r.hwmKiB),
      fmt(r.sink.sessions),
    ]);
    seedRows.push([
      v.label,
      fmt(r.seed.users),
      fmt(r.seed.chats),
      fmt(r.seed.registrations),
      fmt(r.seed.users + r.seed.chats + r.seed.registrations),
    ]);
    const m = r.metrics;
    notes.push(
      `${v.label}: the node counted ${fmt(m.queued ?? 0)} jobs queued, ${fmt(m.sent ?? 0)} sent, ${fmt(m.failed ?? 0)} failed, ${fmt(m.dropped ?? 0)} dropped, ${fmt(m.dead_lettered ?? 0)} dead-lettered (parley_push_*_total).`,
    );
    if (r.sink.problems.length)
      notes.push(`${v.label}: APNs refusals (first few): ${r.sink.problems.slice(0, 3).join('; ')}`);
    if (s.sendErrors) notes.push(`${v.label}: send errors ${JSON.stringify(r.send.errors)}`);
  }
  notes.push(
    `One sender sends one ${PAYLOAD_BYTES}-byte message into each of ${fmt(n)} direct chats, ${rig.opts.sendRate ? `at ${fmt(rig.opts.sendRate)} msgs/s` : `as fast as sendResults come back (${WINDOW} unanswered at most)`}; each chat's other member is an offline device with an APNs registration (a distinct token; production, topic ${TOPIC}). Direct chats: each push then follows from one message and one commit, the way pushes fan out when many people write to people who are away; a group would record up to 1,024 jobs in one commit.`,
    'Seeding goes through the store (SqliteStore with synchronous=OFF, before the node starts): users and devices, then the chats with Store.chatCreateMany, then one Store.pushRegister per device (what a registerPush frame stores). The node loads the registrations at start.',
    `Commit-to-push: from the moment the sender received the message's sendResult (it is committed) to the moment the local APNs received the push request; "from the server stamp" starts at the sendResult's serverTime instead (taken before the commit). Same machine, same clock. A push arriving before its sendResult counts as 0 ms. The coalesce window delays every push by design: its job is due pushCoalesceMs after the message's server time, and the worker looks for due jobs every pushPollMs (500 ms).`,
    `Pushes/s (steady): first pushes per device between the 10th and 90th percentile of their arrival times; overall: all devices from the first send to the last push. Every device must get exactly one push; pushes arriving up to ${LINGER_MS / 1000} s after the last expected one are counted as duplicates too.`,
    `The local APNs runs in the bench's parent process on HTTP/2 over TLS with a self-signed certificate; the node trusts it through NODE_EXTRA_CA_CERTS (it has no setting for an APNs CA). It checks every request's path, apns-topic, apns-push-type, apns-priority, apns-expiration, body and JWT (alg, kid, iss, iat, ES256 signature; each distinct JWT is verified once).`,
  );
  return {
    figures,
    tables: [
      {
        title: `Push delivery to ${fmt(n)} offline devices (one message each)`,
        head: [
          'variant',
          'sends answered',
          'sends/s',
          'pushes received',
          'devices missing',
          'duplicates',
          'pushes/s steady',
          'pushes/s overall',
          'first send to last push s',
          'commit-to-push p50 ms',
          'p99 ms',
          'max ms',
          'from server stamp p50 ms',
          'p99 ms',
          'server CPU s (sends and pushes)',
          'server CPU %',
          'server loop busy %',
          'server RSS max',
          'server VmHWM',
          'HTTP/2 sessions',
        ],
        rows,
      },
      {
        title: 'Seeding (ms): users with one device each, direct chats, APNs registrations',
        head: ['variant', 'users', 'chats', 'registrations', 'total'],
        rows: seedRows,
      },
    ],
    notes,
  };
}
