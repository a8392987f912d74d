/**
 * The services a multi-node run shares: a fresh PostgreSQL schema, a database of the shared
 * Redis cleared of the nodes' keys, or a private redis-server that can be killed and
 * restarted (empty, as it keeps nothing on disk).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { answersPing } from '../../src/adapters/bus/redis/testing.js';
import { exited, stablePort, track, waitFor } from './processes.js';

/** A private redis-server without persistence: a restart comes back empty. */
export class RedisProcess {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(await stablePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn('redis-server', [...args, '--dir', tmpdir()], { stdio: 'ignore' });
    track(child);
    this.child = child;
    await waitFor(`redis-server on ${this.port}`, () => answersPing(this.port));
  }

  async crash(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    child.kill('SIGKILL');
    await exited(child);
  }

  dispose(): Promise<void> {
    return this.crash();
  }
}

/**
 * A fresh schema on the test database, dropped with everything in it by `drop`; the URL
 * selects it with `options=-c search_path=<schema>`, which every pool connection sends.
 */
export async function freshSchema(baseUrl: string): Promise<{
  url: string;
  /** Throws unless the nodes' migrations ran in the fresh schema. */
  verify(): Promise<void>;
  drop(): Promise<void>;
}> {
  const schema = `parley_mn_${randomBytes(5).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };
  const verify = async () => {
    const rows = await admin(`SELECT to_regclass('${schema}.schema_migrations') AS t`);
    if (!rows[0]?.t) throw new Error(`the nodes did not create their tables in schema ${schema}`);
  };
  await admin(`CREATE SCHEMA ${schema}`);
  const u = new URL(baseUrl);
  const given = u.searchParams.get('options');
  u.searchParams.set('options', `${given ? `${given} ` : ''}-c search_path=${schema}`);
  // Not the default 'parley': other test files terminate 'parley' backends that wait on locks.
  u.searchParams.set('application_name', schema);
  return {
    url: u.toString(),
    verify,
    drop: async () => {
      await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

/**
 * The shared Redis on its own database number (the URL's, else 5), cleared of the nodes'
 * keys (`parley:*`: locations, rate-limit counters) so a run starts empty. Other keys and
 * databases are left alone. Pub/sub channels are server-wide: node ids must be unique.
 */
export async function sharedRedisDb(baseUrl: string): Promise<string> {
  const u = new URL(baseUrl);
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/5';
  const url = u.toString();
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'parley:*', 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return url;
}
