/**
 * RedisBus against real Redis: the shared server of PARLEY_TEST_REDIS_URL, a private
 * redis-server this file starts and restarts (outages, dropped and half-open connections),
 * and, with PARLEY_TEST_REDIS_CLUSTER=1, a private 3-master Redis Cluster. Every test uses its
 * own key prefix; the private servers run in a temp dir removed at the end.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { type BusFixture, busContract } from '../../../ports/bus.contract.js';
import type { BusState } from '../../../ports/bus.js';
import { parseBusUrl, RedisBus, type RedisBusOptions } from './redis-bus.js';
import { answersPing } from './testing.js';

const run = promisify(execFile);
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

// --- private redis-server processes -------------------------------------------------------

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** A free port P with P + 10000 free too (a cluster node's bus port). */
async function freePort(): Promise<number> {
  const bindable = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if ((await bindable(port)) && (await bindable(port + 10_000))) return port;
  }
}

async function waitUntil(
  what: string,
  done: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

class RedisServer {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: readonly string[] = [],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir];
    args.push('--save', '', '--appendonly', 'no', '--daemonize', 'no', ...this.extraArgs);
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    children.add(child);
    child.once('exit', () => children.delete(child));
    this.child = child;
    await waitUntil(`redis-server on ${this.port}`, () => answersPing(this.port));
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
}

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-p', String(port), ...args])).stdout;
}

class RedisCluster {
  private constructor(
    readonly servers: RedisServer[],
    private readonly dir: string,
  ) {}

  static async start(masters: number): Promise<RedisCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'parley-redis-cluster-'));
    const servers: RedisServer[] = [];
    const cluster = new RedisCluster(servers, dir);
    try {
      for (let i = 0; i < masters; i++) {
        const port = await freePort();
        const args = ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`];
        servers.push(new RedisServer(port, dir, [...args, '--cluster-node-timeout', '3000']));
        await servers[i]!.start();
      }
      const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
      await run('redis-cli', [
        '--cluster',
        'create',
        ...addresses,
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      await cluster.waitHealthy();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  get url(): string {
    return `redis+cluster://${this.servers.map((s) => `127.0.0.1:${s.port}`).join(',')}`;
  }

  async waitHealthy(): Promise<void> {
    await waitUntil('cluster_state:ok on every node', async () => {
      for (const s of this.servers) {
        const info = await cli(s.port, 'cluster', 'info').catch(() => '');
        if (!info.includes('cluster_state:ok')) return false;
      }
      return true;
    });
  }

  /** Kills every node; their nodes.conf keeps the slots, so `restart` brings the same cluster back (empty). */
  async killAll(): Promise<void> {
    for (const s of this.servers) await s.kill();
  }

  async restart(): Promise<void> {
    for (const s of this.servers) await s.start();
    await this.waitHealthy();
  }

  async stop(): Promise<void> {
    await this.killAll();
    await rm(this.dir, { recursive: true, force: true });
  }
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
