/**
 * `npm run soak`: devices chat through a fault-injecting proxy while the node restarts; then
 * the checks (report.ts). Flow: seed the data dir, start the node and the proxy, fork the
 * client processes, chat for --duration with restarts (SIGTERM and SIGKILL in turn), stop
 * sending and the faults, let everything drain, close, report. Exit 1 on any FAIL, 2 on bad
 * flags. Everything runs on 127.0.0.1 and stops by its own deadlines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, prng, sleep, withDeadline } from '../util.js';
import { seedFleet } from './fleet.js';
import { NodeProcess } from './node-proc.js';
import { HELP, parseSoakArgs, type SoakOptions } from './options.js';
import { FaultProxy } from './proxy.js';
import { formatReport, type RunFacts } from './report.js';
import { rssTailMs } from './rss.js';
import { sumCounts, WorkerHandle } from './workers.js';

const QUIET_MS = 45_000; // longer than the SDK's largest reconnect backoff (30 s)

export const clock = (ms: number) =>
  `${Math.floor(ms / 60_000)}m${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}s`;

async function soak(o: SoakOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-soak-'));
  const dataDir = join(dir, 'data');
  const random = prng(o.seed);
  const began = Date.now();
  console.log(
    `soak: ${o.devices} devices, ${o.rate} msg/s, ${clock(o.durationMs)}, cuts every ${o.cutMs.map((x) => x / 1000).join('-')} s, ` +
      `restarts every ${o.restartMs.map((x) => x / 1000).join('-')} s, seed ${o.seed}, dir ${dir}`,
  );
  const plans = await seedFleet(dataDir, o.devices, o.workers, random);
  const proxy = new FaultProxy(
    { cutMs: o.cutMs, jitterMs: o.jitterMs, stallEveryMs: 20_000, stallMaxMs: 5000 },
    random,
  );
  const proxyPort = await proxy.listen();
  const unsafe = { PARLEY_UNSAFE_ACK_BEFORE_COMMIT: 'true', PARLEY_ALLOW_UNSAFE_DURABILITY: 'true' };
  const node = new NodeProcess(dataDir, join(dir, 'node.log'), o.negativeControl ? unsafe : {});
  if (o.negativeControl)
    console.log('negative control: the node acks before committing; the loss check must FAIL');
  const workers: WorkerHandle[] = [];
  const facts: RunFacts = {
    options: o,
    chats: plans.flatMap((p) => p.chats),
    restarts: { SIGTERM: 0, SIGKILL: 0 },
    unexpectedExits: 0,
    chattingMs: 0,
    drainMs: 0,
    lives: node.lives,
    proxy: proxy.stats,
    sendingEndedAt: 0,
    final: undefined,
    problems: [],
  };
  let phase = 'connecting';
  let t0 = Date.now();
  const progress = () => {
    const w = sumCounts(workers.flatMap((x) => (x.last ? [x.last] : [])));
    const rss = node.current?.rss.at(-1)?.[1];
    console.log(
      `[${clock(Date.now() - t0)} ${phase}] sent ${fmt(w.sent)} acked ${fmt(w.acked)} shown ${fmt(w.shown)} ` +
        `rawdup ${fmt(w.rawDuplicates)} pending ${fmt(w.pending)} | online ${fmt(w.connected)}/${o.devices} | ` +
        `cuts ${fmt(proxy.stats.cuts)} stalls ${fmt(proxy.stats.stalls)} | restarts ${facts.restarts.SIGTERM} TERM ` +
        `${facts.restarts.SIGKILL} KILL | node ${node.current ? `pid ${node.current.pid} rss ${fmt((rss ?? 0) / 1024)} MiB` : 'down'}`,
    );
  };
  let tick = 0;
  // The last resort if a step hangs: every step has its own deadline, this one covers them all.
  const hardStop = setTimeout(
    () => {
      console.error('soak: the run overran its deadline; stopping');
      for (const w of workers) w.kill();
      node.kill();
      process.exit(1);
    },
    o.durationMs + o.drainMs + 15 * 60_000,
  );
  hardStop.unref();
  const sampler = setInterval(() => {
    node.sample();
    if (++tick % 5 === 0) void node.sampleHeap();
  }, 1000);
  const ticker = setInterval(progress, 10_000);
  try {
    proxy.setUpstream(await node.start());
    const url = `http://127.0.0.1:${proxyPort}`;
    const share = (i: number) => Math.round((o.rate * plans[i]!.devices.length) / o.devices);
    for (const [i, p] of plans.entries()) {
      workers.push(new WorkerHandle(p, url, share(i), o.payloadBytes, o.seed + i + 1));
    }
    await withDeadline(Promise.all(workers.map((w) => w.ready)), 300_000, 'connecting every device');
    phase = 'chatting';
    t0 = Date.now();
    const endAt = t0 + o.durationMs;
    let nextRestart = t0 + pick(o.restartMs, random);
    // The last stretch has no restart, so at least one life is long enough for the RSS check.
    const lastRestartAt = endAt - o.warmupMs - rssTailMs(o.durationMs);
    let kill = o.negativeControl; // the negative control needs a SIGKILL first
    while (Date.now() < endAt) {
      if (!node.current) {
        // Not stopped by the soak: the node died on its own.
        facts.unexpectedExits++;
        console.log(
          `[${clock(Date.now() - t0)}] node exited on its own (life #${node.lives.at(-1)?.index}); restarting`,
        );
        proxy.setUpstream(await node.start());
      } else if (Date.now() >= nextRestart && Date.now() < lastRestartAt) {
        const signal = kill ? 'SIGKILL' : 'SIGTERM';
        kill = !kill;
        proxy.setUpstream(undefined);
        await node.stop(signal);
        facts.restarts[signal]++;
        console.log(
          `[${clock(Date.now() - t0)}] node ${signal}: exit ${node.lives.at(-1)?.exitCode ?? node.lives.at(-1)?.exitSignal}; restarting`,
        );
        proxy.setUpstream(await node.start());
        // From the planned time, not from now: a slow restart does not push the next ones out.
        nextRestart = Math.max(nextRestart + pick(o.restartMs, random), Date.now() + 5000);
      }
      await sleep(Math.max(0, Math.min(250, endAt - Date.now())));
    }
    facts.chattingMs = Date.now() - t0;
    facts.sendingEndedAt = Date.now();
    for (const w of workers) w.tell({ type: 'stopSending' });
    proxy.calm();
    phase = 'draining';
    progress();
    await drain(workers, o.drainMs);
    facts.drainMs = Date.now() - facts.sendingEndedAt;
    facts.final = sumCounts(await Promise.all(workers.map((w) => w.finish())));
  } catch (err) {
    facts.problems.push(`the soak stopped early: ${(err as Error).message}`);
  } finally {
    clearInterval(sampler);
    clearInterval(ticker);
    clearTimeout(hardStop);
    for (const w of workers) w.kill();
    await node.close();
    await proxy.close();
  }
  const { text, ok } = formatReport(facts, Date.now() - began);
  console.log(text);
  if (o.keep || !ok) console.log(`data dir and node log kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  return ok ? 0 : 1;
}

function pick(range: [number, number], random: () => number): number {
  return range[0] + random() * (range[1] - range[0]);
}

/** Waits until every send is answered and every acked message shown everywhere, or until stuck. */
async function drain(workers: WorkerHandle[], maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  let quietSince = Date.now();
  let lastProgress = -1;
  for (;;) {
    const c = sumCounts(await Promise.all(workers.map((w) => w.check())));
    if (c.pending === 0 && c.lost === 0) return;
    const moved = c.acked + c.shown;
    if (moved !== lastProgress) {
      lastProgress = moved;
      quietSince = Date.now();
    }
    if (Date.now() - quietSince > QUIET_MS || Date.now() > end) return;
    await sleep(2000);
  }
}

export async function run(argv: string[]): Promise<number> {
  let o: SoakOptions | 'help';
  try {
    o = parseSoakArgs(argv);
  } catch (err) {
    console.error(`soak: ${(err as Error).message}`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  return soak(o);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
