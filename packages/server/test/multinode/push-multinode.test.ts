/**
 * Push across two nodes on PostgreSQL + Redis (real child processes, test/crash/push-child.ts):
 * a device registered through one node is known to the other over the bus; jobs recorded by
 * either node are sent once, by one of them (leases with FOR UPDATE SKIP LOCKED); and a node
 * killed while it holds leased jobs (its provider never answers) leaves them to the other
 * node, which sends them once the lease has run out. Needs PARLEY_TEST_POSTGRES_URL and
 * PARLEY_TEST_REDIS_URL.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChatKind, type Credentials, ParleyClient, requestCode, verifyCode } from '@parley/sdk';
import { testLimitFlags } from '../../src/config/test-limits.js';
import { childServeFlags, kill } from '../crash/crash-run.js';
import { type PushRecord, readPushes } from '../crash/push-crash-run.js';
import { stablePort, track, waitFor } from './processes.js';
import { freshSchema, sharedRedisDb } from './services.js';

const postgresUrl = process.env.PARLEY_TEST_POSTGRES_URL;
const redisUrl = process.env.PARLEY_TEST_REDIS_URL;
const skip = !postgresUrl
  ? 'PARLEY_TEST_POSTGRES_URL is not set'
  : !redisUrl
    ? 'PARLEY_TEST_REDIS_URL is not set'
    : false;
const childScript = new URL('../crash/push-child.js', import.meta.url).pathname;
const LEASE_MS = 3000;

type Push = PushRecord & { at: number; node: string; hang?: boolean };

describe('push on two nodes (PostgreSQL + Redis)', { skip }, () => {
  let dataDir: string;
  let schema: Awaited<ReturnType<typeof freshSchema>>;
  let busUrl: string;
  const ports = new Map<string, number>();
  const clients: ParleyClient[] = [];

  async function startNode(nodeId: string, extra: string[] = []): Promise<ChildProcess> {
    const port = ports.get(nodeId) ?? (await stablePort());
    ports.set(nodeId, port);
    const child = spawn(
      process.execPath,
      [
        childScript,
        ...['--push-log', join(dataDir, 'pushes.log')],
        ...childServeFlags(port, dataDir),
        ...['--node-id', nodeId, '--store', schema.url, '--bus', busUrl],
        ...['--server-secret', 'push-multinode-secret-0123456789abcdef'],
        ...testLimitFlags(),
        ...['--push-coalesce-ms', '200', '--push-poll-ms', '50', '--push-lease-ms', String(LEASE_MS)],
        ...extra,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    track(child);
    return new Promise((res, rej) => {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('Parley listening')) res(child);
      });
      child.once('exit', (code) => rej(new Error(`${nodeId} exited (${code}) before listening: ${err}`)));
    });
  }

  const url = (nodeId: string) => `http://127.0.0.1:${ports.get(nodeId)}`;
  const pushes = () => readPushes(dataDir) as Push[];

  async function user(nodeId: string, phone: string): Promise<Credentials> {
    await requestCode(url(nodeId), phone);
    const line = readFileSync(join(dataDir, 'sms-codes.log'), 'utf8')
      .trim()
      .split('\n')
      .reverse()
      .find((l) => l.split(' ')[1] === phone)!;
    return verifyCode(url(nodeId), { phone, code: line.split(' ')[2]!, deviceName: 'mn' });
  }

  function client(c: Credentials, nodeId: string): ParleyClient {
    const p = new ParleyClient({
      credentials: { ...c, serverUrl: url(nodeId) },
      backoff: { initialMs: 50, maxMs: 400 },
    });
    p.on('error', () => {});
    clients.push(p);
    return p;
  }

  /** Two recipients registered through `via` and offline, in a group with a sender. */
  async function scene(via: string, sendVia: string, base: number) {
    const creds = [] as Credentials[];
    for (let i = 0; i < 3; i++) creds.push(await user(via, `+1415${String(base + i).padStart(7, '0')}`));
    const [s, r0, r1] = creds.map((c, i) => client(c, i === 0 ? sendVia : via)) as [
      ParleyClient,
      ParleyClient,
      ParleyClient,
    ];
    await Promise.all([s, r0, r1].map((c) => c.connect()));
    await r0.registerPush({ platform: 'fcm', token: `mn-${base}-0` });
    await r1.registerPush({ platform: 'fcm', token: `mn-${base}-1` });
    const chat = await s.createChat({
      kind: ChatKind.GROUP,
      memberUserIds: [creds[1]!.userId, creds[2]!.userId],
      name: 'mn',
    });
    await Promise.all([r0.close(), r1.close()]);
    return { sender: s, chatId: chat.id, devices: [creds[1]!.deviceId, creds[2]!.deviceId] };
  }

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-push-mn-'));
    schema = await freshSchema(postgresUrl!);
    // Database 7, not the other multi-node tests' 5: clearing our keys must not touch the
    // locations of nodes another test file runs at the same time.
    const u = new URL(redisUrl!);
    u.pathname = '/7';
    busUrl = await sharedRedisDb(u.toString());
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await schema.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a registration made on one node is used by the other, and every job is sent once', async () => {
    const a = await startNode('push-a');
    const b = await startNode('push-b');
    try {
      // Registered through node B, messages committed through node A (B told A over the bus).
      const { sender, chatId, devices } = await scene(
        'push-b',
        'push-a',
        5_100_000 + Math.floor(Math.random() * 800_000),
      );
      await new Promise((r) => setTimeout(r, 200));
      const enc = new TextEncoder();
      let lastSeq = 0;
      for (let i = 0; i < 20; i++) {
        lastSeq = (await sender.send(chatId, enc.encode(`m${i}`))).seq;
        await new Promise((r) => setTimeout(r, 40));
      }
      const mine = () => pushes().filter((p) => p.chatId === chatId);
      await waitFor('pushes naming the last message', () =>
        devices.every((d) => mine().some((p) => p.deviceId === d && p.seq === lastSeq)),
      );
      await new Promise((r) => setTimeout(r, 1000)); // a second sender of a job would show now
      const seen = new Set<string>();
      for (const p of mine()) {
        const k = `${p.deviceId}#${p.seq}`;
        assert.ok(!seen.has(k), `job ${k} was sent once`);
        seen.add(k);
      }
      const byNode = new Set(mine().map((p) => p.node));
      console.log(`pushes=${mine().length} by nodes ${[...byNode].join(', ')}`);
      assert.ok(mine().length >= 2);
    } finally {
      await kill(a);
      await kill(b);
    }
  });

  it('jobs leased by a node that is killed are sent by the other node after the lease', async () => {
    const hanging = await startNode('push-hang', ['--push-hang']);
    let other: ChildProcess | undefined;
    try {
      const { sender, chatId, devices } = await scene(
        'push-hang',
        'push-hang',
        6_100_000 + Math.floor(Math.random() * 800_000),
      );
      const seq = (await sender.send(chatId, new TextEncoder().encode('x'))).seq;
      const mine = () => pushes().filter((p) => p.chatId === chatId);
      await waitFor('the hanging node leased both jobs', () => mine().filter((p) => p.hang).length === 2);
      const leasedAt = Math.max(...mine().map((p) => p.at));
      await kill(hanging);
      other = await startNode('push-other');
      await waitFor(
        'the other node sends both jobs',
        () => devices.every((d) => mine().some((p) => p.deviceId === d && p.node === 'push-other')),
        LEASE_MS + 15_000,
      );
      await new Promise((r) => setTimeout(r, 500));
      const sent = mine().filter((p) => p.node === 'push-other');
      assert.equal(sent.length, 2, 'each job once');
      for (const p of sent) {
        assert.equal(p.seq, seq);
        assert.ok(p.at >= leasedAt + LEASE_MS - 100, `sent ${p.at - leasedAt} ms after the lease was taken`);
      }
    } finally {
      await kill(hanging);
      if (other) await kill(other);
    }
  });
});
