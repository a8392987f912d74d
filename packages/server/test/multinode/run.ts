/**
 * One multi-node run: three node processes on a fresh PostgreSQL schema and one Redis,
 * twelve devices spread over them, paced traffic from every device while a disruption
 * plays (a node killed, Redis restarted, a rolling restart), then the checker's counts.
 * Every process the run started is stopped in `finally`, also when the run fails.
 */
import { randomBytes } from 'node:crypto';
import { type Counts, drainAndCount } from './checker.js';
import { type Device, type Fleet, type SendRecord, setUpFleet } from './devices.js';
import { NodeProcess, sleep } from './processes.js';
import { freshSchema, RedisProcess, sharedRedisDb } from './services.js';

export interface RunEnv {
  postgresUrl: string;
  redisUrl: string;
}

/** What a run's disruption can do while traffic flows. */
export interface RunContext {
  nodes: NodeProcess[];
  /** The private redis-server, when the run asked for one. */
  redis: RedisProcess | undefined;
  fleet: Fleet;
  traffic: Traffic;
  /** Figures the disruption records for the run's line. */
  figures: Figures;
  /**
   * A burst of sends from the node's devices, then SIGKILL as soon as the first of them is
   * acked: sends are on the wire, and on a node that acks before committing some acked ones
   * are still in its uncommitted window. With `move`, the node's devices then continue on
   * the other running nodes (re-sending what was not acked); else they wait for it to come
   * back on the same port.
   */
  killNode(node: NodeProcess, options: { move: boolean }): Promise<void>;
}

export interface RunOptions {
  name: string;
  /** Nodes ack before committing (the negative control). */
  unsafe: boolean;
  /** A private redis-server that the disruption may kill and restart. */
  privateRedis: boolean;
  /** Milliseconds between two sends of one device. */
  intervalMs: number;
  /** Sends per device before it stops on its own (default: until the disruption ends). */
  perDevice?: number;
  disrupt(ctx: RunContext): Promise<void>;
}

export interface Figures {
  /** The node that was SIGKILLed, if any. */
  killedNode: string | undefined;
  /** The killed node's devices' sends at the kill, and how many of those were acked. */
  sentAtKill: number;
  ackedAtKill: number;
  /** Acks that arrived while Redis was down (set by the disruption). */
  ackedWhileBusDown: number;
}

export interface RunResult extends Counts, Figures {
  seconds: number;
  line: string;
  /** The tail of every node's log and the SDK's errors, for a failing assertion's report. */
  nodeLogs: string;
}

const USERS = 6;
const BURST = 10;

/** Each device sends to its chats in turn, every `intervalMs`, without waiting for acks. */
export class Traffic {
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly fleet: Fleet,
    intervalMs: number,
    perDevice = Number.POSITIVE_INFINITY,
  ) {
    this.loops = fleet.devices.map(async (d) => {
      const chats = fleet.chatsOf(d);
      for (let i = 0; this.running && i < perDevice; i++) {
        d.send(chats[i % chats.length]!);
        await sleep(intervalMs);
      }
    });
  }

  /** Resolves when every device has sent its share (or traffic was stopped). */
  async finished(): Promise<void> {
    await Promise.all(this.loops);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.finished();
  }

  burst(devices: readonly Device[], n: number): SendRecord[] {
    return devices.flatMap((d) => {
      const chats = this.fleet.chatsOf(d);
      return Array.from({ length: n }, (_, i) => d.send(chats[i % chats.length]!));
    });
  }

  acked(): number {
    let n = 0;
    for (const d of this.fleet.devices) for (const r of d.records.values()) if (r.acked) n++;
    return n;
  }
}

/** See RunContext.killNode. */
async function killWithBurst(
  node: NodeProcess,
  run: { nodes: NodeProcess[]; fleet: Fleet; traffic: Traffic; figures: Figures; move: boolean },
): Promise<void> {
  const victims = run.fleet.devices.filter((d) => d.node === node);
  const burst = run.traffic.burst(victims, BURST);
  // Killed right at the first ack: the rest of the burst is on the wire or committing.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no send of the burst was acked within 10 s')), 10_000);
  });
  try {
    await Promise.race([...burst.map((r) => r.ackedNow), timeout]);
  } finally {
    clearTimeout(timer);
  }
  for (const d of victims) {
    for (const r of d.records.values()) {
      run.figures.sentAtKill++;
      if (r.acked) run.figures.ackedAtKill++;
    }
  }
  run.figures.killedNode = node.id;
  await node.crash();
  if (!run.move) return;
  const others = run.nodes.filter((n) => n !== node && n.running);
  await Promise.all(victims.map((d, i) => d.move(others[i % others.length]!)));
}

/** The run's counts on one line: the five headline figures first, then the details. */
function lineOf(name: string, c: Counts, f: Figures, moved: number, seconds: number): string {
  const details = {
    lostMessages: c.lostMessages,
    lostFromKilledNode: c.lostFromKilledNode,
    expected: c.expected,
    unacked: c.unacked,
    retried: c.retried,
    appDuplicates: c.appDuplicates,
    outOfOrder: c.outOfOrder,
    seqMismatches: c.seqMismatches,
    corrupt: c.corrupt,
    killedNodeAckedAtKill: `${f.ackedAtKill}/${f.sentAtKill}`,
    ackedWhileBusDown: f.ackedWhileBusDown,
    moved,
  };
  const more = Object.entries(details)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return (
    `${name}: sent=${c.sent} acked=${c.acked} delivered=${c.delivered} ` +
    `duplicatesRemoved=${c.duplicatesRemoved} lost=${c.lost} (${more} ${seconds.toFixed(1)}s)`
  );
}

const logsOf = (nodes: readonly NodeProcess[]) =>
  nodes.map((n) => `--- ${n.id} (${n.url}) ---\n${n.logTail()}`).join('\n');

export async function multiNodeRun(env: RunEnv, o: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const cleanups: (() => Promise<unknown>)[] = [];
  const nodes: NodeProcess[] = [];
  let redis: RedisProcess | undefined;
  const figures: Figures = { killedNode: undefined, sentAtKill: 0, ackedAtKill: 0, ackedWhileBusDown: 0 };
  try {
    const schema = await freshSchema(env.postgresUrl);
    cleanups.push(schema.drop);
    let busUrl: string;
    if (o.privateRedis) {
      redis = await RedisProcess.start();
      const r = redis;
      cleanups.push(() => r.dispose());
      busUrl = r.url;
    } else {
      busUrl = await sharedRedisDb(env.redisUrl);
    }
    // Node ids are unique per run: pub/sub channels are shared by every database of a server.
    const runId = randomBytes(3).toString('hex');
    const starts = await Promise.allSettled(
      [1, 2, 3].map((i) =>
        NodeProcess.start({ nodeId: `mn-${runId}-n${i}`, storeUrl: schema.url, busUrl, unsafe: o.unsafe }),
      ),
    );
    for (const s of starts) if (s.status === 'fulfilled') nodes.push(s.value);
    cleanups.push(() => Promise.all(nodes.map((n) => n.dispose())));
    for (const s of starts) if (s.status === 'rejected') throw s.reason;
    await Promise.all(nodes.map((n) => n.ready()));
    await schema.verify();

    const fleet = await setUpFleet(nodes, USERS);
    cleanups.push(() => fleet.close());
    const traffic = new Traffic(fleet, o.intervalMs, o.perDevice);
    cleanups.push(() => traffic.stop());
    const ctx: RunContext = {
      nodes,
      redis,
      fleet,
      traffic,
      figures,
      killNode: (node, { move }) => killWithBurst(node, { nodes, fleet, traffic, figures, move }),
    };
    await sleep(400);
    await o.disrupt(ctx);
    await sleep(400);
    await traffic.stop();
    const counts = await drainAndCount(fleet, figures.killedNode);
    const seconds = (Date.now() - started) / 1000;
    const moved = fleet.devices.reduce((n, d) => n + d.moves, 0);
    const line = lineOf(o.name, counts, figures, moved, seconds);
    const sdkErrors = fleet.devices.flatMap((d) => d.errors.map((e) => `${d.name}: ${e}`));
    const nodeLogs = `${logsOf(nodes)}\n--- SDK errors (first 5 per device) ---\n${sdkErrors.join('\n')}`;
    return { ...counts, ...figures, seconds, line, nodeLogs };
  } catch (err) {
    (err as Error).message += `\n${logsOf(nodes)}`;
    throw err;
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}
