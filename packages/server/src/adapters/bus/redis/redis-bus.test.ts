/**
 * RedisBus against real Redis: the shared server of PARLEY_TEST_REDIS_URL, a private
 * redis-server this file starts and restarts (outages, dropped and half-open connections),
 * and, with PARLEY_TEST_REDIS_CLUSTER=1, a private 3-master Redis Cluster and a private
 * cluster of 3 masters and 3 replicas for failovers. Every test uses its own key prefix; the
 * private servers run in a temp dir removed at the end.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { type BusFixture, busContract } from '../../../ports/bus.contract.js';
import type { BusState } from '../../../ports/bus.js';
import type { DeviceId } from '../../../ports/types.js';
import { parseBusUrl, RedisBus, type RedisBusOptions } from './redis-bus.js';
import { cli, freePort, RedisCluster, RedisServer, waitUntil } from './test-servers.js';

const sharedUrl = process.env.PARLEY_TEST_REDIS_URL;
const clusterWanted = process.env.PARLEY_TEST_REDIS_CLUSTER === '1';
const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

/** The reason a suite is skipped, printed so a skipped run is visible in the output. */
function skipReason(suite: string, reason: string | false): string | false {
  if (reason) console.log(`skipping ${suite}: ${reason}`);
  return reason;
}

const privateSkip = skipReason(
  'RedisBus on a private redis-server',
  !sharedUrl ? 'PARLEY_TEST_REDIS_URL is not set' : !hasRedisServer ? 'redis-server is not on PATH' : false,
);
const clusterSkip = skipReason(
  'RedisBus on a Redis Cluster',
  !clusterWanted
    ? 'PARLEY_TEST_REDIS_CLUSTER is not 1'
    : !hasRedisServer
      ? 'redis-server is not on PATH'
      : false,
);

/** Deletes every key under `prefix` on these servers (each master of a cluster). */
async function deleteKeys(urls: readonly string[], prefix: string): Promise<void> {
  for (const url of urls) {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await r.connect();
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        // One key per command: on a cluster node, one DEL of keys from several slots is refused.
        await Promise.all(keys.map((k) => r.unlink(k)));
      } while (cursor !== '0');
    } finally {
      r.disconnect();
    }
  }
}

function redisFixture(url: () => string, cleanupUrls: () => readonly string[]): () => Promise<BusFixture> {
  return async () => {
    const keyPrefix = `parley-test:${randomUUID()}:`;
    return {
      make: (nodeId, onError) => RedisBus.open({ nodeId, url: url(), keyPrefix, onError }),
      cleanup: () => deleteKeys(cleanupUrls(), keyPrefix),
    };
  };
}

/** A TCP proxy whose current connections can be frozen: bytes stop flowing, sockets stay open (half-open peers). */
class FreezingProxy {
  private readonly pairs: [Socket, Socket][] = [];
  private server: Server | undefined;
  port = 0;

  async start(targetPort: number): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      this.pairs.push([client, upstream]);
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as { port: number }).port;
  }

  freeze(): void {
    for (const [client, upstream] of this.pairs.splice(0)) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
      this.frozen.push(client, upstream);
    }
  }

  private readonly frozen: Socket[] = [];

  async stop(): Promise<void> {
    for (const s of [...this.frozen, ...this.pairs.flat()]) s.destroy();
    await new Promise((r) => this.server?.close(r));
  }
}

// --- suites ---------------------------------------------------------------------------------

describe('parseBusUrl', () => {
  it('reads a single server URL and passes it on whole', () => {
    assert.deepEqual(parseBusUrl('redis://127.0.0.1:6379'), {
      kind: 'single',
      url: 'redis://127.0.0.1:6379',
    });
    assert.deepEqual(parseBusUrl('rediss://u:p%40ss@cache:6380/2'), {
      kind: 'single',
      url: 'rediss://u:p%40ss@cache:6380/2',
    });
  });

  it('reads a cluster URL: seed nodes, default port, IPv6, credentials and TLS', () => {
    assert.deepEqual(parseBusUrl('redis+cluster://h1:7000,h2,[::1]:7002'), {
      kind: 'cluster',
      nodes: [
        { host: 'h1', port: 7000 },
        { host: 'h2', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    assert.deepEqual(parseBusUrl('rediss+cluster://bus:s%3Acret@h1:7000/'), {
      kind: 'cluster',
      nodes: [{ host: 'h1', port: 7000 }],
      tls: true,
      username: 'bus',
      password: 's:cret',
    });
  });

  it('refuses other forms with a message that never repeats the password', () => {
    for (const bad of [
      '',
      'http://h:1',
      'redis://',
      'redis://h1:1,h2:2',
      'redis+cluster://u:secret@h:1/0',
      'redis+cluster://u:secret@h:99999',
      'redis+cluster://u:secret@h:1,,h:2',
    ]) {
      assert.throws(
        () => parseBusUrl(bad),
        (err: Error) => !err.message.includes('secret'),
        bad,
      );
    }
  });
});

describe('RedisBus without a server', () => {
  it('open rejects with UNAVAILABLE when nothing answers, and leaves nothing running', async () => {
    const port = await freePort();
    await assert.rejects(
      RedisBus.open({
        nodeId: 'n',
        url: `redis://127.0.0.1:${port}`,
        connectTimeoutMs: 300,
        onError: () => {},
      }),
      (err: { code?: string }) => err.code === 'UNAVAILABLE',
    );
  });

  it('a key prefix with braces is refused (it would change cluster slots)', async () => {
    await assert.rejects(
      RedisBus.open({ nodeId: 'n', url: 'redis://127.0.0.1:1', keyPrefix: 'a{b}:' }),
      /prefix/,
    );
  });
});

if (sharedUrl) {
  busContract(
    'RedisBus (single Redis, PARLEY_TEST_REDIS_URL)',
    redisFixture(
      () => sharedUrl,
      () => [sharedUrl],
    ),
  );
} else {
  describe('Bus contract: RedisBus (single Redis)', {
    skip: skipReason('RedisBus (single Redis)', 'PARLEY_TEST_REDIS_URL is not set'),
  }, () => {});
}

describe('RedisBus on a private redis-server', { skip: privateSkip }, () => {
  let dir = '';
  let server: RedisServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-redis-'));
    server = new RedisServer(await freePort(), dir);
    await server.start();
  });
  after(async () => {
    await server?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  busContract(
    'RedisBus (private redis-server, killed and restarted)',
    async () => ({
      ...(await redisFixture(
        () => server.url,
        () => [server.url],
      )()),
      interrupt: () => server.kill(),
      restore: () => server.start(),
    }),
    { outages: true },
  );

  /** Two started nodes on the private server; closed by the returned function. */
  async function twoNodes(options: Partial<RedisBusOptions> = {}, urlOfA = () => server.url) {
    const keyPrefix = `parley-test:${randomUUID()}:`;
    const nodes = await Promise.all(
      ['node-a', 'node-b'].map(async (nodeId) => {
        const states: BusState[] = [];
        const kinds: string[] = [];
        const url = nodeId === 'node-a' ? urlOfA() : server.url;
        const bus = await RedisBus.open({ nodeId, url, keyPrefix, onError: () => {}, ...options });
        bus.onState((s) => states.push(s));
        await bus.start((msg) => kinds.push(msg.kind));
        return { bus, states, kinds };
      }),
    );
    const close = async () => {
      for (const n of nodes) await n.bus.close();
      await deleteKeys([server.url], keyPrefix);
    };
    return { a: nodes[0]!, b: nodes[1]!, close };
  }

  it('a killed subscriber connection reports down, then up once subscribed again, and delivery resumes', async () => {
    const { a, b, close } = await twoNodes();
    try {
      await cli(server.port, 'client', 'kill', 'type', 'pubsub');
      await waitUntil('down then up on both', () => [a, b].every((n) => n.states.join() === 'down,up'));
      await a.bus.sendToNode('node-b', { kind: 'after-kill' });
      await b.bus.broadcast({ kind: 'all-after-kill' });
      await waitUntil('messages', () => b.kinds.length === 2 && a.kinds.length === 1);
      assert.deepEqual(b.kinds.sort(), ['after-kill', 'all-after-kill']);
    } finally {
      await close();
    }
  });

  it('a half-open connection (no bytes, no close) is found by the health check and replaced', async () => {
    const proxy = new FreezingProxy();
    await proxy.start(server.port);
    const { a, b, close } = await twoNodes(
      { healthCheckMs: 200, commandTimeoutMs: 300 },
      () => `redis://127.0.0.1:${proxy.port}`,
    );
    try {
      proxy.freeze();
      await waitUntil('node-a down, then up', () => a.states.includes('down') && a.states.at(-1) === 'up');
      await waitUntil('node-a delivers again', async () => {
        await b.bus.sendToNode('node-a', { kind: 'probe-from-b' }).catch(() => {});
        return a.kinds.includes('probe-from-b');
      });
      await a.bus.sendToNode('node-b', { kind: 'from-a' });
      await waitUntil('node-b receives', () => b.kinds.includes('from-a'));
      assert.deepEqual(b.states, []);
    } finally {
      await close();
      await proxy.stop();
    }
  });
});

describe('RedisBus on a Redis Cluster (3 masters)', { skip: clusterSkip }, () => {
  let cluster: RedisCluster | undefined;
  before(async () => {
    cluster = await RedisCluster.start(3);
  });
  after(async () => {
    await cluster?.stop();
  });
  const urls = () => cluster!.servers.map((s) => s.url);

  busContract(
    'RedisBus (Redis Cluster, all nodes killed and restarted)',
    async () => ({
      ...(await redisFixture(() => cluster!.url, urls)()),
      interrupt: () => cluster!.killAll(),
      restore: () => cluster!.restart(),
    }),
    { outages: true },
  );

  it('node channels and locations spread over the shards', async () => {
    const keyPrefix = `parley-test:${randomUUID()}:`;
    const bus = await RedisBus.open({ nodeId: 'node-a', url: cluster!.url, keyPrefix, onError: () => {} });
    try {
      await bus.register(
        Array.from({ length: 300 }, (_, i) => `d${i}` as never),
        10_000,
      );
      const perShard = await Promise.all(cluster!.servers.map((s) => cli(s.port, 'dbsize')));
      for (const n of perShard) assert.ok(Number(n) > 50, `every master holds locations: ${perShard.join()}`);
    } finally {
      await bus.close();
      await deleteKeys(urls(), keyPrefix);
    }
  });
});

// --- failover of a cluster with replicas ------------------------------------------------------

/** A started bus and what it saw, each with the time it happened. */
interface WatchedNode {
  bus: RedisBus;
  states: { state: BusState; at: number }[];
  /** Wake-ups received: the sender's sequence number and send time, and the arrival time. */
  wakes: { seq: number; sentAt: number; at: number }[];
  kinds: string[];
  errors: unknown[];
}

async function watchedNode(
  nodeId: string,
  url: string,
  keyPrefix: string,
  options: Partial<RedisBusOptions> = {},
): Promise<WatchedNode> {
  const errors: unknown[] = [];
  const bus = await RedisBus.open({ nodeId, url, keyPrefix, onError: (err) => errors.push(err), ...options });
  const n: WatchedNode = { bus, states: [], wakes: [], kinds: [], errors };
  bus.onState((state) => n.states.push({ state, at: Date.now() }));
  await bus.start((msg) => {
    n.kinds.push(msg.kind);
    if (msg.kind === 'wake')
      n.wakes.push({ seq: Number(msg.seq), sentAt: Number(msg.sentAt), at: Date.now() });
  });
  return n;
}

/** Sends a numbered wake-up from `from` to node `to` every `everyMs` until `stop`; remembers what Redis accepted. */
function streamWakeUps(from: RedisBus, to: string, everyMs: number) {
  const accepted: { seq: number; sentAt: number }[] = [];
  const refused: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let seq = 0;
  const timer = setInterval(() => {
    const sent = { seq: ++seq, sentAt: Date.now() };
    const p = from.sendToNode(to, { kind: 'wake', ...sent }).then(
      () => void accepted.push(sent),
      () => void refused.push(sent.sentAt),
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }, everyMs);
  const stop = async () => {
    clearInterval(timer);
    await Promise.all(inFlight);
  };
  return { accepted, refused, stop };
}

/** States go down, up, down, up… and end up: every loss of delivery was reported, and its end too. */
function assertDownThenUp(states: readonly { state: BusState }[], who: string): void {
  const seen = states.map((s) => s.state);
  assert.deepEqual(
    seen,
    seen.map((_, i) => (i % 2 === 0 ? 'down' : 'up')),
    who,
  );
  assert.equal(seen.length % 2, 0, `${who} ends up: ${seen.join()}`);
}

/**
 * Two nodes on the cluster exchanging a wake-up every 10 ms each way: node-a, and node-b
 * whose channel lives on another shard. `shard` serves node-a's channel and some of the
 * device locations. Nothing may go unhandled while the scene runs.
 */
async function failoverScene(cluster: RedisCluster, options: Partial<RedisBusOptions> = {}) {
  const keyPrefix = `parley-test:${randomUUID()}:`;
  const channel = (nodeId: string) => `${keyPrefix}node:{${nodeId}}`;
  const shard = await cluster.shardOf(channel('node-a'));
  const [replica] = shard.replicas;
  assert.ok(replica, 'the shard of node-a has a replica');
  let nodeB = 'node-b';
  for (let i = 0; (await cluster.shardOf(channel(nodeB))).master === shard.master; i++) nodeB = `node-b${i}`;
  const devices: DeviceId[] = [];
  for (let onShard = 0; onShard < 3; ) {
    const d = `dev-${devices.length}` as DeviceId;
    devices.push(d);
    if ((await cluster.shardOf(`${keyPrefix}loc:{${d}}`)).master === shard.master) onShard++;
  }
  const broadcastShard = (await cluster.shardOf(`${keyPrefix}broadcast`)).master === shard.master;
  const where = `broadcast channel ${broadcastShard ? 'on' : 'off'} that shard`;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  const a = await watchedNode('node-a', cluster.url, keyPrefix, options);
  const b = await watchedNode(nodeB, cluster.url, keyPrefix, options).catch(async (err) => {
    await a.bus.close();
    throw err;
  });
  const toA = streamWakeUps(b.bus, 'node-a', 10);
  const toB = streamWakeUps(a.bus, nodeB, 10);
  const close = async () => {
    await toA.stop();
    await toB.stop();
    await a.bus.close();
    await b.bus.close();
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
  };
  try {
    await a.bus.register(devices, 60_000);
    assert.equal((await b.bus.locate(devices)).size, devices.length);
    await waitUntil('wake-ups both ways', () => a.wakes.length > 20 && b.wakes.length > 20);
  } catch (err) {
    await close();
    throw err;
  }

  /**
   * Waits until the replica says it is a master (the earliest anything can be published to
   * node-a's channel again) and the cluster agrees; resolves with the first of those times.
   */
  const promoted = async () => {
    const what = `replica :${replica.port} promoted`;
    await waitUntil(what, async () => (await cli(replica.port, 'role')).startsWith('master'), 30_000);
    const at = Date.now();
    await waitUntil(`${what}, as the cluster sees it`, async () => {
      return (await cluster.shardOf(channel('node-a'))).master === replica;
    });
    return at;
  };
  /** Registers and locates the devices until both work; resolves with the time they did. */
  const locationsWork = async () => {
    await waitUntil(
      'locations written and read again',
      async () => {
        try {
          await a.bus.register(devices, 60_000);
          return (await b.bus.locate(devices)).size === devices.length;
        } catch {
          return false;
        }
      },
      15_000,
    );
    return Date.now();
  };
  /**
   * After recovery: a broadcast reaches both, every wake-up accepted for node-a once it was up
   * again arrives, node-b still receives, both report down/up in pairs and nothing went unhandled.
   */
  const checkRecovered = async () => {
    const isUp = (n: WatchedNode) => (n.states.at(-1)?.state ?? 'up') === 'up';
    await waitUntil('both nodes up', () => isUp(a) && isUp(b), 15_000);
    await b.bus.broadcast({ kind: 'after-failover' });
    await waitUntil('a broadcast at both', () => [a, b].every((n) => n.kinds.includes('after-failover')));
    const up = a.states.at(-1)!.at;
    const bFrom = Date.now();
    await waitUntil('more wake-ups after up', () => a.wakes.filter((w) => w.sentAt > up).length > 50);
    await waitUntil(`${nodeB} still receives`, () => b.wakes.some((w) => w.sentAt > bFrom));
    await toA.stop();
    await toB.stop();
    const missing = () => {
      const got = new Set(a.wakes.map((w) => w.seq));
      return toA.accepted.filter((w) => w.sentAt > up && !got.has(w.seq));
    };
    await waitUntil('every wake-up accepted after up', () => missing().length === 0, 5000).catch(() => {});
    const late = missing().map((w) => `#${w.seq} sent ${w.sentAt - up} ms after up`);
    assert.deepEqual(late, [], `node-a states: ${a.states.map((x) => `${x.state}@${x.at - up}`).join()}`);
    assertDownThenUp(a.states, 'node-a');
    assertDownThenUp(b.states, nodeB);
    assert.deepEqual(unhandled, []);
  };
  /** `published=N received=M refused=K` for wake-ups to node-a sent in [from, to). */
  const tally = (from: number, to: number) => {
    const got = new Set(a.wakes.map((w) => w.seq));
    const sent = toA.accepted.filter((w) => w.sentAt >= from && w.sentAt < to);
    const received = sent.filter((w) => got.has(w.seq)).length;
    const refused = toA.refused.filter((t) => t >= from && t < to).length;
    return `published=${sent.length} received=${received} refused=${refused}`;
  };
  return { a, b, nodeB, shard, replica, where, promoted, locationsWork, checkRecovered, tally, close };
}

describe('RedisBus on a Redis Cluster with replicas (failover)', { skip: clusterSkip }, () => {
  // Private to this suite (its keys go with it); a short node timeout so a failover takes seconds.
  let cluster: RedisCluster | undefined;
  before(async () => {
    cluster = await RedisCluster.start(3, { replicas: 1, nodeTimeoutMs: 1000 });
  });
  after(async () => {
    await cluster?.stop();
  });

  // Runs first: it leaves every shard with a replica (the old master becomes one).
  it('after a manual failover under a node’s channel, the bus reports down, then up, and receives again without waiting for the health check', async () => {
    const scene = await failoverScene(cluster!, { healthCheckMs: 0 });
    const { a, b, shard, replica } = scene;
    try {
      const started = Date.now();
      await cli(replica.port, 'cluster', 'failover');
      const promoted = await scene.promoted();
      // The old master stays up as a replica and ends node-a's subscription without closing it.
      await waitUntil('node-a receiving again', () => a.wakes.some((w) => w.sentAt > promoted), 15_000);
      const delivering = a.wakes.find((w) => w.sentAt > promoted)!.at;
      await waitUntil('node-a down, then up', () => a.states.at(-1)?.state === 'up', 15_000);
      const located = await scene.locationsWork();
      await scene.checkRecovered();
      assert.ok(a.states[0]!.at >= started, 'node-a went down only after the failover');
      // 'up' makes the node re-read its sessions: it must not come before the channel works.
      assert.ok(a.states.at(-1)!.at > promoted - 1000, 'node-a up only once the replica took over');
      const ms = (t: number) => `${t - started} ms`;
      console.log(
        `manual failover: replica :${replica.port} took over from :${shard.master.port} after ${ms(promoted)}, ` +
          `node-a down after ${ms(a.states[0]!.at)} and up after ${ms(a.states.at(-1)!.at)}, ` +
          `channel delivering again after ${ms(delivering)}, locations after ${ms(located)}; ` +
          `to node-a meanwhile: ${scene.tally(started, delivering)}; ` +
          `${scene.nodeB} states: ${b.states.map((x) => x.state).join() || 'none'} (${scene.where})`,
      );
    } finally {
      await scene.close();
    }
  });

  it('when the master under a node’s channel is SIGKILLed, its replica takes over and the same bus reports down, then up, and receives again', async () => {
    const scene = await failoverScene(cluster!);
    const { a, b, shard, replica } = scene;
    try {
      const killing = Date.now();
      await shard.master.kill();
      const killed = Date.now();
      const promoted = await scene.promoted();
      // Bounded from the promotion on, with the same bus instances.
      await waitUntil('node-a receiving again', () => a.wakes.some((w) => w.sentAt > killed), 15_000);
      const delivering = a.wakes.find((w) => w.sentAt > killed)!.at;
      await waitUntil('node-a up', () => a.states.at(-1)?.state === 'up', 15_000);
      const located = await scene.locationsWork();
      await scene.checkRecovered();
      assert.ok(a.states[0]!.at >= killing, 'node-a went down only after the kill');
      // 'up' makes the node re-read its sessions: it must not come before the channel works.
      assert.ok(a.states.at(-1)!.at > promoted - 1000, 'node-a up only once the replica took over');
      const ms = (t: number) => `${t - killing} ms`;
      console.log(
        `failover: master :${shard.master.port} SIGKILLed, replica :${replica.port} promoted after ${ms(promoted)}, ` +
          `node-a down after ${ms(a.states[0]!.at)} and up after ${ms(a.states.at(-1)!.at)}, ` +
          `channel delivering again after ${ms(delivering)}, locations after ${ms(located)}; ` +
          `to node-a meanwhile: ${scene.tally(killed, delivering)}; ` +
          `${scene.nodeB} states: ${b.states.map((x) => x.state).join() || 'none'} (${scene.where}); ` +
          `errors reported: ${a.errors.length + b.errors.length}`,
      );
    } finally {
      await scene.close();
    }
  });
});
