/**
 * Resumable uploads (tus) beyond one node and one day, on local disk: two nodes that share
 * the media directory (and, with PARLEY_TEST_REDIS_URL, Redis) resume each other's uploads,
 * and two PATCHes of one upload on the two nodes never both write it; an upload expires
 * after its expiry period (shortened here) and is then 410 Gone, and swept. The media root
 * holds nothing outside its tree, and nothing is left beside it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { uploadMediaResumable } from '@parley/sdk';
import { Redis } from 'ioredis';
import { LocalBus, LocalBusNetwork } from '../src/adapters/bus/local/local-bus.js';
import { SqliteStore } from '../src/adapters/store/sqlite/sqlite-store.js';
import { uploadLockKey } from '../src/media/upload-locks.js';
import { fileUploadStore } from '../src/media/uploads.js';
import { filesUnder } from './db-scan.js';
import { type Creds, register, sharedByNodes, startNode, type TestNode } from './harness.js';
import { keptUploads, tusCreate, tusHead, tusPatch, tusPatchHeaders } from './tus-client.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const redisUrl = process.env.PARLEY_TEST_REDIS_URL;

/** Every file under the media root is a blob or an upload (and its info), nothing else. */
function assertMediaTree(mediaRoot: string): void {
  for (const f of filesUnder(mediaRoot)) {
    const rel = relative(mediaRoot, f);
    assert.ok(!rel.startsWith('..'), `${f} is inside the media root`);
    assert.match(rel, /^(uploads\/[0-9a-f]{32}(\.json)?|[0-9a-f]{2}\/[0-9a-f]{64})$/, rel);
  }
}

async function create(url: string, c: Creds, length: number, sha256: string): Promise<string> {
  const res = await tusCreate(url, c.token, length, { sha256, class: 'video' });
  assert.equal(res.status, 201);
  return res.headers.get('location')!;
}

const patch = (base: string, path: string, c: Creds, offset: number, body: Uint8Array) =>
  tusPatch(base, path, c.token, offset, body);

const offsetOn = async (base: string, path: string, c: Creds) =>
  (await tusHead(base, path, c.token)).headers.get('upload-offset');

describe('resumable uploads on two nodes sharing a media directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-tus-nodes-'));
  const mediaDir = join(dir, 'media');
  const shared = new SqliteStore({ path: join(dir, 'parley.db'), synchronous: 'FULL' });
  const store = sharedByNodes(shared);
  const network = new LocalBusNetwork();
  const nodes: TestNode[] = [];
  const clients: Redis[] = [];
  let me: Creds;

  before(async () => {
    for (const id of ['n1', 'n2']) {
      const redis = redisUrl ? new Redis(redisUrl) : undefined;
      if (redis) clients.push(redis);
      nodes.push(
        await startNode(
          {
            dataDir: mkdtempSync(join(dir, `${id}-`)),
            mediaDir,
            serverSecret: 'tus-nodes-test-secret-0123456789abcdef',
            mediaMaxVideoBytes: 8 * 1024 * 1024,
          },
          { store, bus: new LocalBus({ nodeId: id, network }), ...(redis && { limiterRedis: redis }) },
        ),
      );
    }
    me = await register(nodes[0]!);
  });
  after(async () => {
    for (const n of nodes) await n.node.stop();
    for (const c of clients) c.disconnect();
    await shared.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an upload started on node 1 resumes on node 2 from the offset node 1 took', async () => {
    const [n1, n2] = [nodes[0]!, nodes[1]!];
    const body = randomBytes(600_000);
    const creds = {
      serverUrl: n1.url,
      token: me.token,
      userId: me.userId,
      deviceId: me.deviceId,
      primary: true,
    };
    const resume = keptUploads((url) => url.replace(n1.url, n2.url));
    const stop = new AbortController();
    await assert.rejects(
      uploadMediaResumable(creds, body, {
        mediaClass: 'video',
        chunkBytes: 100_000,
        resume,
        signal: stop.signal,
        onProgress: (sent) => sent >= 200_000 && stop.abort(),
      }),
    );
    const done = await uploadMediaResumable({ ...creds, serverUrl: n2.url }, body, {
      mediaClass: 'video',
      chunkBytes: 100_000,
      resume,
    });
    assert.deepEqual(done, { mediaId: sha(body), size: body.length, resumedAt: 200_000 });
    for (const n of nodes) {
      const got = await fetch(`${n.url}/v1/media/${sha(body)}`, {
        headers: { authorization: `Bearer ${me.token}` },
      });
      assert.equal(sha(new Uint8Array(await got.arrayBuffer())), sha(body), `${n.url} serves it`);
    }
    assertMediaTree(mediaDir);
  });

  it('two PATCHes of one upload on two nodes: the second waits for the first and is refused, the upload stays whole', {
    skip: redisUrl ? false : 'PARLEY_TEST_REDIS_URL is not set (the lock across nodes is in Redis)',
  }, async () => {
    const [n1, n2] = [nodes[0]!, nodes[1]!];
    const body = randomBytes(200_000);
    const path = await create(n1.url, me, body.length, sha(body));
    const uploadId = path.split('/').pop()!;
    const half = body.subarray(0, 100_000);
    // Node 1's PATCH sends its first 50,000 bytes and holds on, as a slow phone would.
    const first = request(new URL(path, n1.url), {
      method: 'PATCH',
      headers: tusPatchHeaders(me.token, 0, { 'content-length': String(half.length) }),
    });
    const firstDone = new Promise<number>((resolve, reject) => {
      first.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      first.on('error', reject);
    });
    first.write(half.subarray(0, 50_000));
    const probe = new Redis(redisUrl!);
    try {
      for (let i = 0; !(await probe.get(uploadLockKey(uploadId))); i++) {
        assert.ok(i < 200, 'node 1 takes the lock');
        await new Promise((r) => setTimeout(r, 25));
      }
      // Node 2's PATCH of the same bytes at the same offset: it must wait, not write beside it.
      const second = patch(n2.url, path, me, 0, half);
      await new Promise((r) => setTimeout(r, 400));
      first.end(half.subarray(50_000));
      const [a, b] = [await firstDone, (await second).status];
      assert.equal(a, 204, 'the first PATCH wrote its chunk');
      assert.ok([409, 423].includes(b), `the second was refused (${b}), not written beside the first`);
      assert.equal(await offsetOn(n2.url, path, me), '100000', 'one chunk, once');
      const last = await patch(n2.url, path, me, 100_000, body.subarray(100_000));
      assert.deepEqual([last.status, last.headers.get('upload-media-id')], [204, sha(body)]);
      const got = await fetch(`${n1.url}/v1/media/${sha(body)}`, {
        headers: { authorization: `Bearer ${me.token}` },
      });
      assert.equal(sha(new Uint8Array(await got.arrayBuffer())), sha(body), 'the bytes are whole');
      assert.equal(await probe.get(uploadLockKey(uploadId)), null, 'no lock is left');
    } finally {
      probe.disconnect();
    }
    assertMediaTree(mediaDir);
  });
});

describe('an upload whose lock another node holds', () => {
  it('answers HEAD 423 while the lock is held, and the SDK asks again until it is free', {
    skip: redisUrl ? false : 'PARLEY_TEST_REDIS_URL is not set',
  }, async () => {
    const redis = new Redis(redisUrl!);
    const t = await startNode({}, { limiterRedis: redis });
    try {
      const me = await register(t);
      const body = randomBytes(50_000);
      const path = await create(t.url, me, body.length, sha(body));
      const uploadId = path.split('/').pop()!;
      assert.equal((await patch(t.url, path, me, 0, body.subarray(0, 20_000))).status, 204);
      // A PATCH on a node that lost its client still holds the lock, for 12 s.
      await redis.set(uploadLockKey(uploadId), 'another-node', 'PX', 12_000);
      const resume = keptUploads(undefined, [[sha(body), new URL(path, t.url).toString()]]);
      const creds = {
        serverUrl: t.url,
        token: me.token,
        userId: me.userId,
        deviceId: me.deviceId,
        primary: true,
      };
      const started = Date.now();
      const done = await uploadMediaResumable(creds, body, { resume });
      assert.deepEqual(done, { mediaId: sha(body), size: body.length, resumedAt: 20_000 });
      assert.ok(Date.now() - started >= 10_000, 'it waited for the lock');
    } finally {
      await t.stop();
      redis.disconnect();
    }
  });
});

describe('an incomplete upload expires', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-tus-expiry-'));
  const uploadsDir = join(dir, 'uploads');
  mkdirSync(uploadsDir);
  // The 24 h period shortened to 500 ms; the node's own store is given one with it.
  const expiring = fileUploadStore(uploadsDir, 500);
  let t: TestNode;
  let me: Creds;
  before(async () => {
    t = await startNode({ dataDir: dir }, { uploadStore: expiring });
    me = await register(t);
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is 410 Gone past its expiry, nothing of it becomes fetchable, and the sweep removes it', async () => {
    const body = randomBytes(10_000);
    const path = await create(t.url, me, body.length, sha(body));
    const first = await patch(t.url, path, me, 0, body.subarray(0, 4000));
    assert.equal(first.status, 204);
    assert.ok(first.headers.get('upload-expires'), 'the PATCH tells when it expires');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal((await patch(t.url, path, me, 4000, body.subarray(4000))).status, 410);
    assert.equal((await tusHead(t.url, path, me.token)).status, 410);
    const got = await fetch(`${t.url}/v1/media/${sha(body)}`, {
      headers: { authorization: `Bearer ${me.token}` },
    });
    assert.equal(got.status, 404);
    assert.ok(readdirSync(uploadsDir).length > 0);
    assert.equal(await expiring.deleteExpired(), 1);
    assert.deepEqual(readdirSync(uploadsDir), [], 'swept');
    assert.equal(existsSync(join(dir, 'media', sha(body).slice(0, 2))), false);
  });
});
