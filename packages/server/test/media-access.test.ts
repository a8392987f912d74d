/**
 * Who may fetch a media body, end to end over real sockets: a send declares its attachments
 * (mediaIds), members of the chat get signed URLs that serve the body on either of two nodes,
 * and everyone else gets NOT_FOUND. URLs expire (injected clock), fail when any part is
 * changed or they are used by another device, and a removed member or a deleted message
 * takes access away. Run on local disk (SQLite, in-process bus) and on the S3 gateway with
 * PostgreSQL and a Redis bus (when PARLEY_TEST_S3_ENDPOINT, PARLEY_TEST_POSTGRES_URL and
 * PARLEY_TEST_REDIS_URL are set).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MessageType } from '@parley/protocol';
import { downloadMedia } from '@parley/sdk';
import { S3BlobStore } from '../src/adapters/blobs/s3/s3-blobs.js';
import { ensureTestBucket, TEST_BUCKET } from '../src/adapters/blobs/s3/testing.js';
import { LocalBus, LocalBusNetwork } from '../src/adapters/bus/local/local-bus.js';
import { PostgresStore } from '../src/adapters/store/postgres/postgres-store.js';
import { dropSchema, freshSchema } from '../src/adapters/store/postgres/testing.js';
import { SqliteStore } from '../src/adapters/store/sqlite/sqlite-store.js';
import type { Bus } from '../src/ports/bus.js';
import { ManualClock } from '../src/ports/clock.js';
import type { UserId } from '../src/ports/types.js';
import {
  answerCode,
  type Creds,
  createGroup,
  linkDevice,
  RawClient,
  register,
  sharedByNodes,
  startNode,
  type TestNode,
  text,
} from './harness.js';
import { askUrl, getMedia, putMedia, sha, signedUrl } from './media-http.js';

const SECRET = 'media-access-test-secret-0123456789abcdef';
const TTL = 60_000;
const s3Endpoint = process.env.PARLEY_TEST_S3_ENDPOINT;
const pgUrl = process.env.PARLEY_TEST_POSTGRES_URL;
const redisUrl = process.env.PARLEY_TEST_REDIS_URL;

interface TwoNodes {
  nodes: TestNode[];
  clock: ManualClock;
  close(): Promise<void>;
}

/** Two nodes on one SQLite store, an in-process bus and one media folder. */
async function localNodes(): Promise<TwoNodes> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-media-access-'));
  const shared = new SqliteStore({ path: join(dir, 'parley.db') });
  const store = sharedByNodes(shared);
  const network = new LocalBusNetwork();
  const clock = new ManualClock(Date.now());
  const nodes: TestNode[] = [];
  for (const id of ['l1', 'l2']) {
    nodes.push(
      await startNode(
        {
          dataDir: mkdtempSync(join(dir, `${id}-`)),
          mediaDir: join(dir, 'media'),
          serverSecret: SECRET,
          mediaUrlTtlMs: TTL,
        },
        { store, bus: new LocalBus({ nodeId: id, network }), clock },
      ),
    );
  }
  return {
    nodes,
    clock,
    async close() {
      for (const n of nodes) await n.stop();
      await shared.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Two nodes on PostgreSQL, a Redis bus and one prefix of the S3 test bucket. */
async function s3Nodes(): Promise<TwoNodes> {
  await ensureTestBucket(s3Endpoint!);
  const { RedisBus } = await import('../src/adapters/bus/redis/redis-bus.js');
  const schema = freshSchema();
  const prefix = `parley-media-access-${process.pid}-${Date.now()}:`;
  const url = `s3://${TEST_BUCKET}/access-${randomBytes(6).toString('hex')}`;
  const clock = new ManualClock(Date.now());
  const nodes: TestNode[] = [];
  for (const id of ['p1', 'p2']) {
    const store = await PostgresStore.open(pgUrl!, { schema, poolSize: 4 });
    const bus: Bus = await RedisBus.open({ nodeId: id, url: redisUrl!, keyPrefix: prefix });
    const blobs = await S3BlobStore.open({
      url,
      endpoint: s3Endpoint!,
      region: 'us-east-1',
      forcePathStyle: true,
    });
    nodes.push(await startNode({ serverSecret: SECRET, mediaUrlTtlMs: TTL }, { store, bus, blobs, clock }));
  }
  return {
    nodes,
    clock,
    async close() {
      for (const n of nodes) await n.stop();
      await dropSchema(pgUrl!, schema);
    },
  };
}

const variants = [
  { name: 'local disk, SQLite', make: localNodes, skip: false as const },
  {
    name: 'S3, PostgreSQL, Redis bus',
    make: s3Nodes,
    skip:
      s3Endpoint && pgUrl && redisUrl
        ? (false as const)
        : 'PARLEY_TEST_S3_ENDPOINT, PARLEY_TEST_POSTGRES_URL and PARLEY_TEST_REDIS_URL are needed',
  },
];

for (const variant of variants) {
  describe(`media access and signed URLs (${variant.name})`, { skip: variant.skip }, () => {
    let c: TwoNodes;
    let n1: TestNode;
    let n2: TestNode;
    let alice: Creds;
    let bob: Creds;
    let carol: Creds;
    let a: RawClient;
    let chatId: string;
    let body: Uint8Array;
    let media: string;
    let sent = 0;

    /** Alice sends a message to the group that declares `ids`; returns its seq. */
    async function sendWith(ids: string[]): Promise<number> {
      const r = await a.call<{ seq: bigint }>({
        case: 'send',
        value: { clientMessageId: `m${++sent}`, chatId, payload: text('see attached'), mediaIds: ids },
      });
      return Number(r.seq);
    }

    before(async () => {
      c = await variant.make();
      [n1, n2] = c.nodes as [TestNode, TestNode];
      [alice, bob, carol] = [await register(n1), await register(n1), await register(n1)];
      a = await RawClient.connect(n1, alice);
      chatId = await createGroup(a, [bob.userId]);
      body = randomBytes(50_000);
      media = await putMedia(n1.url, alice.token, body);
      await sendWith([media]);
    });
    after(async () => {
      await a.close();
      await c.close();
    });

    it('a member gets a signed URL that serves the body, and its ranges, on either node', async () => {
      const asked = await askUrl(n1.url, bob.token, media);
      assert.equal(asked.status, 200);
      assert.equal(asked.json?.expiresAt, c.clock.now() + TTL, 'valid for the configured lifetime');
      const url = String(asked.json?.url);
      assert.match(url, new RegExp(`^/v1/media/${media}\\?expires=\\d+&signature=[A-Za-z0-9_-]{43}$`));
      for (const node of [n1, n2]) {
        const got = await getMedia(node.url, url, bob.token);
        assert.equal(got.status, 200);
        assert.equal(sha(got.bytes), media);
        const part = await getMedia(node.url, url, bob.token, { range: 'bytes=100-199' });
        assert.equal(part.status, 206);
        assert.deepEqual(part.bytes, new Uint8Array(body.subarray(100, 200)));
      }
      const fromSecond = await signedUrl(n2.url, bob.token, media);
      assert.equal(
        sha((await getMedia(n1.url, fromSecond, bob.token)).bytes),
        media,
        'issued on node 2, used on node 1',
      );
    });

    it('a non-member gets NOT_FOUND, the very answer for a body that does not exist', async () => {
      const refused = await askUrl(n1.url, carol.token, media);
      const missing = await askUrl(n1.url, carol.token, sha(randomBytes(8)));
      assert.deepEqual([refused.status, refused.code], [404, 'NOT_FOUND']);
      assert.deepEqual(refused.json, missing.json, 'no difference to learn from');
      const plain = await getMedia(n2.url, `/v1/media/${media}`, carol.token);
      assert.deepEqual([plain.status, plain.code], [404, 'NOT_FOUND']);
      assert.deepEqual(plain.json, missing.json);
      // A URL of someone else's does not help either.
      const bobs = await signedUrl(n1.url, bob.token, media);
      const stolen = await getMedia(n1.url, bobs, carol.token);
      assert.deepEqual([stolen.status, stolen.code], [403, 'MEDIA_URL_INVALID']);
      assert.equal((await getMedia(n1.url, bobs, undefined)).code, 'UNAUTHENTICATED');
    });

    it('a plain download without a signature follows the same rule (older clients)', async () => {
      const got = await getMedia(n2.url, `/v1/media/${media}`, bob.token);
      assert.equal(got.status, 200);
      assert.equal(sha(got.bytes), media);
      assert.equal((await getMedia(n1.url, `/v1/media/${media}`, alice.token)).status, 200, 'its uploader');
    });

    it('a URL with its id, expiry, device or signature changed is refused with MEDIA_URL_INVALID', async () => {
      const url = await signedUrl(n1.url, bob.token, media);
      const u = new URL(url, n1.url);
      const expires = Number(u.searchParams.get('expires'));
      const signature = u.searchParams.get('signature')!;
      const other = await putMedia(n1.url, alice.token, randomBytes(1000));
      await sendWith([other]);
      const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
      const tampered = [
        `/v1/media/${other}?expires=${expires}&signature=${signature}`,
        `/v1/media/${media}?expires=${expires + 1}&signature=${signature}`,
        `/v1/media/${media}?expires=${expires + 86_400_000}&signature=${signature}`,
        `/v1/media/${media}?expires=${expires}&signature=${flipped}`,
        `/v1/media/${media}?expires=${expires}&signature=${signature.slice(1)}`,
        `/v1/media/${media}?expires=${expires}`,
        `/v1/media/${media}?signature=${signature}`,
        `/v1/media/${media}?expires=-1&signature=${signature}`,
      ];
      for (const path of tampered) {
        const got = await getMedia(n2.url, path, bob.token);
        assert.deepEqual([got.status, got.code], [403, 'MEDIA_URL_INVALID'], path);
      }
      const laptop = await linkDevice(n1, bob);
      const other_device = await getMedia(n1.url, url, laptop.token);
      assert.deepEqual(
        [other_device.status, other_device.code],
        [403, 'MEDIA_URL_INVALID'],
        'bound to the device',
      );
      assert.equal(
        (await getMedia(n1.url, await signedUrl(n1.url, laptop.token, media), laptop.token)).status,
        200,
      );
      assert.equal((await getMedia(n1.url, url, bob.token)).status, 200, 'the URL itself still works');
    });

    it('a URL expires after its lifetime, and a new one works', async () => {
      const url = await signedUrl(n1.url, bob.token, media);
      c.clock.advance(TTL - 1);
      assert.equal((await getMedia(n2.url, url, bob.token)).status, 200, 'a millisecond left');
      c.clock.advance(1);
      for (const node of [n1, n2]) {
        const got = await getMedia(node.url, url, bob.token);
        assert.deepEqual([got.status, got.code], [403, 'MEDIA_URL_EXPIRED']);
      }
      assert.equal(
        (await getMedia(n2.url, await signedUrl(n1.url, bob.token, media), bob.token)).status,
        200,
      );
    });

    it('the SDK downloads through a signed URL and asks for a new one when it expires', async () => {
      const creds = (x: Creds, node: TestNode) => ({ ...x, serverUrl: node.url, primary: true });
      const asked: string[] = [];
      let expireOnce = true;
      const got = await downloadMedia(creds(bob, n2), media, {
        fetch: async (url, init) => {
          asked.push(`${init.method} ${new URL(url).search ? 'signed' : 'plain'}`);
          // The URL runs out between its issue and its first use.
          if (init.method === 'GET' && expireOnce) {
            expireOnce = false;
            c.clock.advance(TTL);
          }
          return fetch(url, init);
        },
      });
      assert.equal(sha(got), media);
      assert.deepEqual(asked, ['POST plain', 'GET signed', 'POST plain', 'GET signed']);
      await assert.rejects(downloadMedia(creds(carol, n1), media), { code: 'NOT_FOUND' });
    });

    it('group icons are for the group’s members; avatars for those who may read the profile', async () => {
      const icon = await putMedia(n1.url, alice.token, randomBytes(3000), { 'x-media-class': 'image' });
      await a.call({ case: 'updateChat', value: { chatId, iconMediaId: icon } });
      assert.equal((await askUrl(n2.url, bob.token, icon)).status, 200, 'a member sees the icon');
      assert.equal((await askUrl(n2.url, carol.token, icon)).code, 'NOT_FOUND');
      const avatar = await putMedia(n1.url, bob.token, randomBytes(2000), {
        'x-media-class': 'image',
        'x-media-use': 'avatar',
      });
      assert.equal((await askUrl(n1.url, alice.token, avatar)).status, 200, 'shares a chat with bob');
      assert.equal((await askUrl(n1.url, carol.token, avatar)).code, 'NOT_FOUND', 'a stranger');
      const b = await RawClient.connect(n1, bob);
      await b.call({ case: 'block', value: { userId: alice.userId } });
      assert.equal((await askUrl(n1.url, alice.token, avatar)).code, 'NOT_FOUND', 'blocked by bob');
      await b.call({ case: 'unblock', value: { userId: alice.userId } });
      await b.close();
      const bad = await fetch(`${n1.url}/v1/media/${sha(randomBytes(4))}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${bob.token}`, 'x-media-use': 'wallpaper' },
        body: randomBytes(4),
      });
      assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'INVALID_ARGUMENT');
    });

    it('a delete for everyone withdraws access; a removed member loses it', async () => {
      const doc = await putMedia(n1.url, alice.token, randomBytes(4000));
      const seq = await sendWith([doc]);
      assert.equal((await askUrl(n1.url, bob.token, doc)).status, 200);
      await a.call({
        case: 'send',
        value: {
          clientMessageId: `m${++sent}`,
          chatId,
          meta: { type: MessageType.DELETE, refSeq: BigInt(seq) },
        },
      });
      assert.equal((await askUrl(n2.url, bob.token, doc)).code, 'NOT_FOUND', 'the message is gone');
      assert.equal((await askUrl(n2.url, alice.token, doc)).status, 200, 'its uploader keeps it');

      assert.equal((await askUrl(n1.url, bob.token, media)).status, 200);
      await a.call({ case: 'removeMember', value: { chatId, userId: bob.userId } });
      for (const node of [n1, n2]) {
        assert.equal((await askUrl(node.url, bob.token, media)).code, 'NOT_FOUND');
        assert.equal((await getMedia(node.url, `/v1/media/${media}`, bob.token)).code, 'NOT_FOUND');
      }
      assert.equal((await askUrl(n2.url, alice.token, media)).status, 200);
    });
  });
}

describe('sendRequest.mediaIds at the edge', () => {
  let t: TestNode;
  let alice: Creds;
  let bob: Creds;
  before(async () => {
    t = await startNode();
    [alice, bob] = [await register(t), await register(t)];
  });
  after(() => t.stop());

  for (const encoding of ['json', 'proto'] as const) {
    it(`refuses bad media ids with INVALID_ARGUMENT and stores nothing (${encoding})`, async () => {
      const c = await RawClient.connect(t, alice, { encoding });
      const chatId = await createGroup(c, [bob.userId]);
      const good = sha(randomBytes(8));
      const bad: Array<[string, Record<string, unknown>]> = [
        ['not hex', { mediaIds: ['z'.repeat(64)] }],
        ['upper case', { mediaIds: [good.toUpperCase()] }],
        ['too short', { mediaIds: [good.slice(1)] }],
        ['a path', { mediaIds: ['../../etc/passwd'] }],
        ['17 of them', { mediaIds: Array.from({ length: 17 }, (_, i) => sha(new Uint8Array([i]))) }],
        [
          'on a reaction',
          {
            mediaIds: [good],
            meta: { type: MessageType.REACTION, refSeq: 1n, reaction: '👍' },
            payload: undefined,
          },
        ],
      ];
      for (const [why, extra] of bad) {
        const f = await c.request({
          case: 'send',
          value: { clientMessageId: `bad-${encoding}-${why}`, chatId, payload: text('x'), ...extra },
        });
        assert.equal(answerCode(f), 'INVALID_ARGUMENT', why);
      }
      const ok = await c.request({
        case: 'send',
        value: { clientMessageId: `ok-${encoding}`, chatId, payload: text('x'), mediaIds: [good, good] },
      });
      assert.equal(answerCode(ok), 'sendResult', 'sixteen or fewer valid ids, repeats counted once');
      assert.equal((await t.node.store.mediaAccess(good, bob.userId as UserId)).granted, true);
      await c.close();
    });
  }
});
