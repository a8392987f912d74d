/**
 * Test support: private redis-server processes and Redis Clusters (optionally with replicas)
 * started with the machine's redis-server, on free ports, in a temp dir removed by `stop`.
 * Every child is SIGKILLed when the test process exits, whatever the outcome.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { answersPing } from './testing.js';

const run = promisify(execFile);

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** A free port P with P + 10000 free too (a cluster node's bus port). */
export async function freePort(): Promise<number> {
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

/** Polls `done` every 50 ms; fails the test naming `what` after `timeoutMs`. */
export async function waitUntil(
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

/** One redis-cli call against 127.0.0.1:`port`; resolves with its output. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-p', String(port), ...args])).stdout;
}

export class RedisServer {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: readonly string[] = [],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
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

  /** SIGKILL: sockets close at once, nothing is saved. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
}

export interface RedisClusterOptions {
  /** Replicas per master (`--cluster-replicas`); default 0. */
  replicas?: number;
  /** `cluster-node-timeout`: how long a silent node takes to be declared failed; default 3000. */
  nodeTimeoutMs?: number;
}

/** Who serves one slot, as the cluster sees it now. */
export interface Shard {
  slot: number;
  master: RedisServer;
  replicas: RedisServer[];
}

export class RedisCluster {
  private constructor(
    readonly servers: RedisServer[],
    private readonly dir: string,
  ) {}

  /** Starts `masters` masters (and their replicas), creates the cluster and waits until it is healthy. */
  static async start(masters: number, options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const replicas = options.replicas ?? 0;
    const timeout = String(options.nodeTimeoutMs ?? 3000);
    const dir = await mkdtemp(join(tmpdir(), 'parley-redis-cluster-'));
    const servers: RedisServer[] = [];
    const cluster = new RedisCluster(servers, dir);
    try {
      for (let i = 0; i < masters * (1 + replicas); i++) {
        const port = await freePort();
        const args = ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`];
        servers.push(new RedisServer(port, dir, [...args, '--cluster-node-timeout', timeout]));
        await servers[i]!.start();
      }
      // redis-cli makes the first `masters` addresses masters and the rest their replicas.
      const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
      const create = ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas)];
      await run('redis-cli', [...create, '--cluster-yes']);
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

  /**
   * Waits until every running node says cluster_state:ok and knows every node, and every
   * running replica is in sync with its master (a replica that never synced cannot be promoted).
   */
  async waitHealthy(): Promise<void> {
    await waitUntil(
      'a healthy cluster',
      async () => {
        for (const s of this.servers.filter((x) => x.running)) {
          const info = await cli(s.port, 'cluster', 'info').catch(() => '');
          if (!info.includes('cluster_state:ok')) return false;
          if (Number(/cluster_known_nodes:(\d+)/.exec(info)?.[1]) !== this.servers.length) return false;
          const replication = await cli(s.port, 'info', 'replication').catch(() => '');
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up'))
            return false;
        }
        return true;
      },
      30_000,
    );
  }

  /** The slot of `key` and the nodes serving it, as seen by the first running node. */
  async shardOf(key: string): Promise<Shard> {
    const port = this.servers.find((s) => s.running)!.port;
    const slot = Number(await cli(port, 'cluster', 'keyslot', key));
    // CLUSTER NODES: id addr flags master-id ping pong epoch link slot-range…
    const lines = (await cli(port, 'cluster', 'nodes')).trim().split('\n');
    const nodes = lines.map((line) => {
      const [id, addr, flags, masterId, , , , , ...ranges] = line.trim().split(' ');
      const serves = ranges.some((r) => {
        const [from, to = from] = r.split('-').map(Number);
        return !r.startsWith('[') && slot >= from! && slot <= to!;
      });
      const port = Number(addr!.split('@')[0]!.split(':').at(-1));
      return { id, masterId, flags: flags!.split(','), serves, port };
    });
    const master = nodes.find((n) => n.serves && n.flags.includes('master'));
    assert.ok(master, `no master serves slot ${slot}`);
    const server = (p: number) => this.servers.find((s) => s.port === p)!;
    const replicas = nodes.filter((n) => n.masterId === master.id && !n.flags.includes('fail'));
    return { slot, master: server(master.port), replicas: replicas.map((r) => server(r.port)) };
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
