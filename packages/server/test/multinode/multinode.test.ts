/**
 * Several real node processes on one PostgreSQL and one Redis, driven by the real SDK:
 * traffic spread over the nodes, a node SIGKILLed, Redis killed and restarted, a rolling
 * restart. Each run prints its counts; every acked message reaches every recipient device
 * exactly once after SDK dedupe. The negative controls run the same checker against nodes
 * that ack before committing, with a node SIGKILLed, and must see loss. Needs
 * PARLEY_TEST_POSTGRES_URL and PARLEY_TEST_REDIS_URL (its database 5 by default), and
 * redis-server on PATH for the Redis restarts.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CloseCodes } from '@parley/protocol';
import { ensureTestBucket, TEST_BUCKET } from '../../src/adapters/blobs/s3/testing.js';
import { http, nextPhone, RawClient, refusedUpgrade } from '../harness.js';
import { registerViaLog } from '../register-via-log.js';
import { NodeProcess, sleep, waitFor } from './processes.js';
import { multiNodeRun, type RunContext, type RunEnv, type RunOptions, type RunResult } from './run.js';
import { freshSchema, sharedRedisDb } from './services.js';

const postgresUrl = process.env.PARLEY_TEST_POSTGRES_URL;
const redisUrl = process.env.PARLEY_TEST_REDIS_URL;
const skip = !postgresUrl
  ? 'PARLEY_TEST_POSTGRES_URL is not set'
  : !redisUrl
    ? 'PARLEY_TEST_REDIS_URL is not set'
    : false;
const s3Endpoint = process.env.PARLEY_TEST_S3_ENDPOINT;
const noS3 = skip || (s3Endpoint ? false : 'PARLEY_TEST_S3_ENDPOINT is not set');
const noRedisServer =
  spawnSync('redis-server', ['--version']).status === 0 ? false : 'redis-server is not on PATH';
if (skip) console.log(`multi-node tests skipped: ${skip}`);
else if (noRedisServer) console.log(`multi-node Redis restart tests skipped: ${noRedisServer}`);
if (!skip && noS3) console.log(`multi-node media test skipped: ${noS3}`);

const env = (): RunEnv => ({ postgresUrl: postgresUrl!, redisUrl: redisUrl! });

async function run(options: RunOptions): Promise<RunResult> {
  const r = await multiNodeRun(env(), options);
  console.log(r.line);
  return r;
}

/** Runs the checks; a failing one also prints the tail of every node's log. */
function check(r: RunResult, checks: () => void): void {
  try {
    checks();
  } catch (err) {
    console.log(r.nodeLogs);
    throw err;
  }
}

/** What every run on nodes that commit before acking must show. */
function assertNothingLost(r: RunResult): void {
  check(r, () => {
    assert.equal(r.lost, 0, 'every acked message reached every recipient device');
    assert.equal(r.unacked, 0, `every send was acked in the end (${r.failures.join('; ')})`);
    assert.equal(r.delivered, r.expected, 'each message was handed to each recipient device once');
    assert.equal(r.appDuplicates, 0, 'no app saw a message twice');
    assert.equal(r.outOfOrder, 0, 'apps saw each chat in seq order');
    assert.equal(r.seqMismatches, 0, 'messages arrived with the seq their ack gave');
    assert.equal(r.corrupt, 0, 'payloads arrived intact');
  });
}

function assertInFlightAtKill(r: RunResult): void {
  check(r, () => {
    assert.ok(r.ackedAtKill > 0, 'the killed node had acked sends');
    assert.ok(r.ackedAtKill < r.sentAtKill, 'sends to the killed node were in flight when it died');
  });
}

/**
 * A node that acks before committing answers a burst at once, so nothing looks in flight
 * by its acks; what it acked in its last second is not committed, and the checker must see it.
 */
function assertLossSeen(r: RunResult): void {
  check(r, () => {
    assert.ok(r.ackedAtKill > 0, 'the killed node had acked sends');
    assert.ok(r.lost > 0, 'acking before commit must lose acked messages on SIGKILL');
    assert.ok(r.lostFromKilledNode > 0, 'the lost messages include ones the SIGKILLed node acked');
  });
}

// --- disruptions ---------------------------------------------------------------------------

const killSecondNode = (ctx: RunContext) => ctx.killNode(ctx.nodes[1]!, { move: true });

/** Redis SIGKILLed, down ~1 s (optionally a node killed meanwhile), restarted empty. */
function restartRedis(killNode: boolean) {
  return async (ctx: RunContext) => {
    const redis = ctx.redis!;
    const before = ctx.traffic.acked();
    await redis.crash();
    await sleep(300);
    if (killNode) await killSecondNode(ctx);
    await sleep(700);
    ctx.figures.ackedWhileBusDown = ctx.traffic.acked() - before;
    await redis.start();
    const running = ctx.nodes.filter((n) => n.running);
    await Promise.all(running.map((n) => n.ready()));
    // Each node re-registers its devices and re-reads its sessions once its bus is up again.
    await waitFor('every node to report its bus up again', () => running.every((n) => n.busRecoveries > 0));
  };
}

/** Each node in turn: SIGTERM (or SIGKILL for `crashed`), start on the same port, ready. */
function rollingRestart(crashed?: number) {
  return async (ctx: RunContext) => {
    for (const [i, node] of ctx.nodes.entries()) {
      if (i === crashed) await ctx.killNode(node, { move: false });
      else await node.terminate();
      await node.start();
      await node.ready();
      await sleep(200);
    }
  };
}

describe('several node processes on PostgreSQL and Redis', { skip }, () => {
  it('traffic spread over three nodes reaches every device once, in chat order', async () => {
    const r = await run({
      name: 'spread traffic',
      unsafe: false,
      privateRedis: false,
      intervalMs: 5,
      perDevice: 40,
      disrupt: (ctx) => ctx.traffic.finished(),
    });
    assert.equal(r.sent, 12 * 40);
    assertNothingLost(r);
  });

  it('a node SIGKILLed mid-traffic: its devices move to other nodes, nothing acked is lost', async () => {
    const r = await run({
      name: 'node SIGKILL',
      unsafe: false,
      privateRedis: false,
      intervalMs: 20,
      disrupt: killSecondNode,
    });
    assertInFlightAtKill(r);
    assertNothingLost(r);
  });

  it('Redis killed and restarted mid-traffic: nodes keep serving, nothing acked is lost', {
    skip: noRedisServer,
  }, async () => {
    const r = await run({
      name: 'Redis restart',
      unsafe: false,
      privateRedis: true,
      intervalMs: 20,
      disrupt: restartRedis(false),
    });
    assert.ok(r.ackedWhileBusDown > 0, 'sends were acked while Redis was down');
    assertNothingLost(r);
  });

  it('rolling restart with SIGTERM mid-traffic: devices reconnect, nothing acked is lost', async () => {
    const r = await run({
      name: 'rolling restart',
      unsafe: false,
      privateRedis: false,
      intervalMs: 30,
      disrupt: rollingRestart(),
    });
    assertNothingLost(r);
  });

  describe('negative controls: nodes that ack before committing, one SIGKILLed', () => {
    it('the checker reports loss after a node SIGKILL', async () => {
      const r = await run({
        name: 'control: node SIGKILL',
        unsafe: true,
        privateRedis: false,
        intervalMs: 20,
        disrupt: killSecondNode,
      });
      assertLossSeen(r);
    });

    it('the checker reports loss after a Redis restart', { skip: noRedisServer }, async () => {
      const r = await run({
        name: 'control: Redis restart',
        unsafe: true,
        privateRedis: true,
        intervalMs: 20,
        disrupt: restartRedis(true),
      });
      assertLossSeen(r);
    });

    it('the checker reports loss after a rolling restart', async () => {
      const r = await run({
        name: 'control: rolling restart',
        unsafe: true,
        privateRedis: false,
        intervalMs: 30,
        disrupt: rollingRestart(1),
      });
      assertLossSeen(r);
    });
  });
});

describe('media on S3 shared by node processes', { skip: noS3 }, () => {
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

  it('a body uploaded through one node is served by the others, also after that node is SIGKILLed', async () => {
    const endpoint = s3Endpoint!;
    await ensureTestBucket(endpoint);
    const schema = await freshSchema(postgresUrl!);
    const busUrl = await sharedRedisDb(redisUrl!);
    const runId = randomBytes(3).toString('hex');
    const media = { url: `s3://${TEST_BUCKET}/mn-${runId}`, endpoint };
    const nodes: NodeProcess[] = [];
    try {
      const starts = await Promise.allSettled(
        [1, 2, 3].map((i) =>
          NodeProcess.start({
            nodeId: `mn-${runId}-m${i}`,
            storeUrl: schema.url,
            busUrl,
            unsafe: false,
            media,
          }),
        ),
      );
      for (const s of starts) if (s.status === 'fulfilled') nodes.push(s.value);
      for (const s of starts) if (s.status === 'rejected') throw s.reason;
      await Promise.all(nodes.map((n) => n.ready()));
      const [first, second, third] = nodes as [NodeProcess, NodeProcess, NodeProcess];
      const me = await registerViaLog(first.url, first.dataDir, nextPhone());
      const auth = { authorization: `Bearer ${me.token}` };

      // One body through each node.
      const bodies = nodes.map(() => randomBytes(150_000));
      for (const [i, body] of bodies.entries()) {
        const res = await fetch(`${nodes[i]!.url}/v1/media/${sha(body)}`, {
          method: 'PUT',
          headers: { ...auth, 'content-type': 'application/octet-stream' },
          body,
        });
        assert.equal(res.status, 201, `upload through node ${i + 1}`);
      }
      for (const n of nodes)
        assert.equal(existsSync(join(n.dataDir, 'media')), false, `${n.id} keeps no media`);

      await first.crash();
      let served = 0;
      for (const n of [second, third]) {
        for (const body of bodies) {
          const res = await fetch(`${n.url}/v1/media/${sha(body)}`, { headers: auth });
          assert.equal(res.status, 200);
          assert.equal(
            sha(new Uint8Array(await res.arrayBuffer())),
            sha(body),
            `${n.id} serves the same bytes`,
          );
          served++;
        }
      }
      console.log(`media across nodes: uploaded=${bodies.length} served=${served} (after node 1 SIGKILL)`);
    } catch (err) {
      (err as Error).message += `\n${nodes.map((n) => `--- ${n.id}\n${n.logTail()}`).join('\n')}`;
      throw err;
    } finally {
      await Promise.all(nodes.map((n) => n.dispose()));
      await schema.drop();
    }
  });
});

describe('suspension by parley admin across node processes', { skip }, () => {
  const adminScript = new URL('./admin-child.js', import.meta.url).pathname;

  it('an account suspended by the admin command loses its sockets on every node (4004) and cannot connect again', async () => {
    const schema = await freshSchema(postgresUrl!);
    const busUrl = await sharedRedisDb(redisUrl!);
    const runId = randomBytes(3).toString('hex');
    const nodes: NodeProcess[] = [];
    try {
      const starts = await Promise.allSettled(
        [1, 2, 3].map((i) =>
          NodeProcess.start({ nodeId: `mn-${runId}-s${i}`, storeUrl: schema.url, busUrl, unsafe: false }),
        ),
      );
      for (const s of starts) if (s.status === 'fulfilled') nodes.push(s.value);
      for (const s of starts) if (s.status === 'rejected') throw s.reason;
      await Promise.all(nodes.map((n) => n.ready()));
      const [first] = nodes as [NodeProcess, NodeProcess, NodeProcess];
      const phone = nextPhone();
      const dan = await registerViaLog(first.url, first.dataDir, phone);
      const devices = [dan];
      for (let i = 0; i < 2; i++) {
        const code = await http(`${first.url}/v1/devices/link-code`, 'POST', {}, dan.token);
        devices.push((await http(`${first.url}/v1/devices/link`, 'POST', { code: code.body.code })).body);
      }
      const eve = await registerViaLog(first.url, first.dataDir, nextPhone());
      const sockets = await Promise.all(devices.map((d, i) => RawClient.connect(nodes[i]!, d)));
      const bystander = await RawClient.connect(nodes[1]!, eve);

      const t0 = Date.now();
      const admin = await promisify(execFile)(
        process.execPath,
        [adminScript, 'suspend', phone, '--reason', 'spam', '--store', schema.url],
        { env: { PATH: process.env.PATH, PARLEY_ADMIN_ACTOR: 'multinode-test' } },
      );
      assert.match(admin.stdout, new RegExp(`suspended \\${phone} \\(${dan.userId}\\)`));
      const codes = await Promise.all(sockets.map((s) => s.closed));
      console.log(`suspension: ${sockets.length} sockets on 3 nodes closed within ${Date.now() - t0} ms`);
      assert.deepEqual(codes, [CloseCodes.SUSPENDED, CloseCodes.SUSPENDED, CloseCodes.SUSPENDED]);
      assert.equal(bystander.closeCode, undefined, 'other accounts stay connected');
      for (const [i, n] of nodes.entries())
        assert.deepEqual(await refusedUpgrade(n.url, devices[i]!.token), {
          status: 403,
          code: 'ACCOUNT_SUSPENDED',
        });
      await bystander.close();
    } catch (err) {
      (err as Error).message += `\n${nodes.map((n) => `--- ${n.id}\n${n.logTail()}`).join('\n')}`;
      throw err;
    } finally {
      await Promise.all(nodes.map((n) => n.dispose()));
      await schema.drop();
    }
  });
});
