/**
 * Everything a scenario starts (server processes, generator pools, the in-memory S3 endpoint,
 * temp data dirs), with
 * CPU accounting across all of them and a cleanup that kills whatever is still running,
 * so a failed or timed-out scenario never leaves processes behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { GenPool } from './gen-pool.js';
import { machineBusySec } from './proc.js';
import { type S3SinkProcess, startS3SinkProcess } from './s3-sink-proc.js';
import { Seeder } from './seed.js';
import { type ServerHandle, type ServerOptions, type Sync, startServer } from './server-proc.js';
import type { CpuUse, Options } from './types.js';

let nextAddress = 10;

export class Rig {
  private readonly servers: ServerHandle[] = [];
  private readonly pools: GenPool[] = [];
  private readonly sinks: S3SinkProcess[] = [];
  private serverSecDone = 0;
  private genSecDone = 0;
  readonly profiles: string[] = [];
  readonly log: string[] = [];
  readonly notes: string[] = [];
  private readonly dirOf = new Map<ServerHandle, string>();
  /** With `--store postgres://…`: each data dir's own schema, and the URL that selects it. */
  private readonly schemaOf = new Map<string, { schema: string; url: string }>();
  private readonly t0 = performance.now();
  private readonly busy0 = machineBusySec();
  private readonly self0 = process.cpuUsage();
  private dirs = 0;

  constructor(
    readonly opts: Options,
    readonly sync: Sync,
    readonly workDir: string,
    private readonly profileDir: string,
    readonly say: (line: string) => void,
  ) {}

  /** A fresh data dir for this scenario. */
  dataDir(): string {
    const d = join(this.workDir, `data-${this.dirs++}`);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** A seeder writing where a server started on `dir` will read: its SQLite file or schema. */
  async seeder(dir: string): Promise<Seeder> {
    return this.opts.store ? Seeder.openPostgres(await this.storeUrl(dir)) : Seeder.open(dir);
  }

  /** The PostgreSQL URL for `dir`: a fresh schema, created on first use, dropped by cleanup. */
  private async storeUrl(dir: string): Promise<string> {
    const known = this.schemaOf.get(dir);
    if (known) return known.url;
    const schema = `parley_bench_${randomBytes(5).toString('hex')}`;
    await this.admin(`CREATE SCHEMA ${schema}`);
    const u = new URL(this.opts.store!);
    u.searchParams.set('options', `-c search_path=${schema}`);
    this.schemaOf.set(dir, { schema, url: u.toString() });
    return u.toString();
  }

  private async admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.opts.store });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  /** A loopback source address not used before in this run (each has its own port range). */
  static address(): string {
    return `127.0.0.${nextAddress++ % 250}`;
  }

  /** Starts a node on `dataDir`; `extra` adds settings and environment variables of the scenario's. */
  async server(dataDir: string, extra: Pick<ServerOptions, 'config' | 'env'> = {}): Promise<ServerHandle> {
    const s = await startServer({
      ...extra,
      dataDir,
      ...(this.opts.store && { store: await this.storeUrl(dataDir) }),
      sync: this.sync,
      profileDir: this.opts.profile ? this.profileDir : undefined,
      allocProfileDir: this.opts.allocProfile ? this.profileDir : undefined,
      logFile: join(this.workDir, 'server.log'),
    });
    this.servers.push(s);
    this.dirOf.set(s, dataDir);
    return s;
  }

  async stopServer(s: ServerHandle): Promise<void> {
    const dir = this.dirOf.get(s);
    if (dir) {
      const files = readdirSync(dir).map(
        (f) => `${f} ${(statSync(join(dir, f)).size / 2 ** 20).toFixed(1)} MiB`,
      );
      this.notes.push(`Server data dir before stopping: ${files.join(', ')}.`);
    }
    const profiles = await s.stop();
    this.serverSecDone += s.last()?.cpuSec ?? 0;
    this.servers.splice(this.servers.indexOf(s), 1);
    this.log.push(...s.problems());
    this.profiles.push(...profiles);
  }

  /** Starts the in-memory S3 endpoint in a process of its own (s3-sink-main.ts). */
  async s3Sink(o: Parameters<typeof startS3SinkProcess>[0]): Promise<S3SinkProcess> {
    const s = await startS3SinkProcess(o);
    this.sinks.push(s);
    return s;
  }

  async closeS3Sink(s: S3SinkProcess): Promise<void> {
    this.sinks.splice(this.sinks.indexOf(s), 1);
    await s.close();
  }

  pool(n: number): GenPool {
    const p = GenPool.start(n);
    this.pools.push(p);
    return p;
  }

  async closePool(p: GenPool): Promise<void> {
    await p.close();
    this.genSecDone += p.cpuSec();
    this.pools.splice(this.pools.indexOf(p), 1);
  }

  serverSec(): number {
    return (
      this.serverSecDone + this.servers.reduce((a, s) => a + (s.sample()?.cpuSec ?? s.last()?.cpuSec ?? 0), 0)
    );
  }

  genSec(): number {
    return this.genSecDone + this.pools.reduce((a, p) => a + p.cpuSec(), 0);
  }

  cpu(): CpuUse {
    const self = process.cpuUsage(this.self0);
    const parentSec = (self.user + self.system) / 1e6;
    const serverSec = this.serverSec();
    const genSec = this.genSec();
    const m = machineBusySec();
    const irqSec = m.irq - this.busy0.irq;
    return {
      wallSec: (performance.now() - this.t0) / 1000,
      serverSec,
      genSec,
      parentSec,
      irqSec,
      otherSec: Math.max(0, m.busy - this.busy0.busy - serverSec - genSec - parentSec - irqSec),
    };
  }

  /** Stops what is still running (gracefully first, so profiles get written), then removes data. */
  async cleanup(): Promise<void> {
    for (const p of [...this.pools]) await this.closePool(p).catch(() => p.kill());
    for (const s of [...this.servers]) await this.stopServer(s).catch(() => s.kill());
    for (const s of [...this.sinks]) await this.closeS3Sink(s);
    for (const { schema } of this.schemaOf.values())
      await this.admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    this.schemaOf.clear();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
