/**
 * A node started from `--media s3://…` settings (PARLEY_TEST_S3_ENDPOINT, with
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY): uploads land in the bucket and nowhere on the
 * node's disk, and another node's store reads them back. Resumable uploads in the bucket are
 * refused, capped and expired as on local disk, and leave nothing of theirs behind.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { uploadMediaResumable } from '@parley/sdk';
import { S3BlobStore } from '../src/adapters/blobs/s3/s3-blobs.js';
import { ensureTestBucket, TEST_BUCKET } from '../src/adapters/blobs/s3/testing.js';
import { SqliteStore } from '../src/adapters/store/sqlite/sqlite-store.js';
import { loadConfig } from '../src/config/load.js';
import type { ConfigInput } from '../src/config/schema.js';
import { TEST_LIMITS } from '../src/config/test-limits.js';
import { createLogger } from '../src/log.js';
import { s3UploadStore } from '../src/media/s3-uploads.js';
import { openNode } from '../src/node.js';
import { CapturingSms, type Creds, register, sharedByNodes } from './harness.js';
import { checkRanges } from './media-ranges.js';
import { waitFor } from './multinode/processes.js';
import { keptUploads, tusCreate, tusHead, tusPatch, tusPatchHeaders } from './tus-client.js';

const endpoint = process.env.PARLEY_TEST_S3_ENDPOINT;
const skipReason = 'PARLEY_TEST_S3_ENDPOINT is not set';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The code of an error answer's JSON body (undefined when it has none). */
const errorCode = async (res: Response) =>
  ((await res.json().catch(() => undefined)) as { error?: { code?: string } } | undefined)?.error?.code;

/** Fetches `body` back from the node by its digest and checks the bytes. */
async function assertServed(base: string, token: string, body: Uint8Array, message?: string) {
  const got = await fetch(`${base}/v1/media/${sha(body)}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(sha(new Uint8Array(await got.arrayBuffer())), sha(body), message);
}

/** The objects, and the multipart uploads not yet completed, under `prefix` in a bucket (up to 1000 each). */
async function inBucket(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const multipart = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return [
    ...(objects.Contents ?? []).map((o) => o.Key ?? ''),
    ...(multipart.Uploads ?? []).map((u) => `${u.Key} (multipart upload ${u.UploadId})`),
  ];
}

/** Empties a bucket of a test's own (objects and unfinished multipart uploads) and deletes it. */
async function removeBucket(s3: S3Client, bucket: string): Promise<void> {
  const multipart = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  for (const u of multipart.Uploads ?? [])
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
  const objects = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
  if (objects.length > 0)
    await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.map((o) => ({ Key: o.Key })) } }),
    );
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/**
 * A PATCH from `offset` that announces `declared` bytes and is cut off after sending
 * `bytes`: resolves once the client has dropped it (the node never answers it).
 */
function cutOffPatch(
  base: string,
  at: string,
  token: string,
  o: { offset: number; declared: number; bytes: Uint8Array },
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = request(new URL(at, base), {
      method: 'PATCH',
      headers: { ...tusPatchHeaders(token, o.offset), 'content-length': String(o.declared) },
    });
    req.on('error', () => resolve());
    req.on('response', () => reject(new Error('the cut-off PATCH was answered')));
    req.write(o.bytes, () => setTimeout(() => req.destroy(), 300));
  });
}

/** Sends the rest of `body` from `kept`; the upload completes, is served, and leaves nothing. */
async function finishAndCheck(
  bucket: S3Client,
  n: { base: string; me: Creds },
  at: string,
  body: Uint8Array,
  kept: number,
): Promise<void> {
  const done = await tusPatch(n.base, at, n.me.token, kept, body.subarray(kept));
  assert.deepEqual([done.status, done.headers.get('upload-media-id')], [204, sha(body)]);
  await assertServed(n.base, n.me.token, body);
  const uploadId = at.split('/').pop()!;
  const left = await bucket.send(new ListObjectsV2Command({ Bucket: TEST_BUCKET, Prefix: uploadId }));
  assert.deepEqual(left.Contents ?? [], [], 'nothing of the upload stays, a partial part neither');
}

if (endpoint === undefined) {
  console.log(`media on S3 tests skipped: ${skipReason}`);
  describe('media on S3', { skip: skipReason }, () => {});
} else {
  const s3Endpoint = endpoint;
  describe('media on S3', () => {
    before(() => ensureTestBucket(s3Endpoint));

    /**
     * A node with its media under a fresh prefix of the test bucket, and a registered user;
     * `settings` are added to the node's config (caps, limits).
     */
    async function withS3Node(
      name: string,
      run: (n: { base: string; me: Creds }) => Promise<void>,
      settings: ConfigInput = {},
    ): Promise<void> {
      const url = `s3://${TEST_BUCKET}/${name}-${randomBytes(6).toString('hex')}`;
      const dataDir = mkdtempSync(join(tmpdir(), `parley-s3-${name}-`));
      const config = loadConfig({
        overrides: {
          port: 0,
          host: '127.0.0.1',
          logLevel: 'silent',
          dev: false,
          dataDir,
          ...TEST_LIMITS,
          ...settings,
        },
        argv: ['--media', url, '--s3-endpoint', s3Endpoint, '--s3-force-path-style', 'true'],
      });
      const sms = new CapturingSms();
      const node = await openNode(config, { sms, log: createLogger('silent') });
      try {
        const base = `http://127.0.0.1:${await node.start()}`;
        const me = await register({ node, sms, dataDir, url: base, stop: () => node.stop() });
        await run({ base, me });
      } finally {
        await node.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    it('a node with --media s3://… keeps uploads in the bucket, where another node reads them', async () => {
      const url = `s3://${TEST_BUCKET}/node-${randomBytes(6).toString('hex')}`;
      const dataDir = mkdtempSync(join(tmpdir(), 'parley-s3-node-'));
      const config = loadConfig({
        overrides: { port: 0, host: '127.0.0.1', logLevel: 'silent', dev: false, dataDir },
        argv: ['--media', url, '--s3-endpoint', s3Endpoint, '--s3-force-path-style', 'true'],
      });
      const sms = new CapturingSms();
      const node = await openNode(config, { sms, log: createLogger('silent') });
      const other = await S3BlobStore.open({
        url,
        endpoint: s3Endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
      });
      try {
        const port = await node.start();
        const t = { node, sms, dataDir, url: `http://127.0.0.1:${port}`, stop: () => node.stop() };
        const me = await register(t);
        const body = randomBytes(200_000);
        const id = sha(body);
        const up = await fetch(`${t.url}/v1/media/${id}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${me.token}`, 'content-type': 'application/octet-stream' },
          body,
        });
        assert.equal(up.status, 201);
        assert.equal(existsSync(join(dataDir, 'media')), false, 'nothing is kept on the node’s disk');

        const seen = await other.get(id);
        assert.equal(seen?.size, 200_000);
        const hash = createHash('sha256');
        for await (const c of seen!.body) hash.update(c);
        assert.equal(hash.digest('hex'), id, 'another node reads the same bytes');

        const down = await fetch(`${t.url}/v1/media/${id}`, {
          headers: { authorization: `Bearer ${me.token}` },
        });
        assert.equal(down.status, 200);
        assert.equal(sha(new Uint8Array(await down.arrayBuffer())), id);
        // Ranges and conditional requests stream from the bucket as from local disk.
        await checkRanges(t.url, me.token, body);
      } finally {
        await node.stop();
        await other.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('a resumable upload started on one node resumes on another that shares the bucket', async () => {
      const url = `s3://${TEST_BUCKET}/tus-${randomBytes(6).toString('hex')}`;
      const dir = mkdtempSync(join(tmpdir(), 'parley-s3-tus-'));
      const shared = sharedByNodes(new SqliteStore({ path: join(dir, 'parley.db'), synchronous: 'FULL' }));
      const sms = new CapturingSms();
      const open = (name: string) =>
        openNode(
          loadConfig({
            overrides: {
              port: 0,
              host: '127.0.0.1',
              logLevel: 'silent',
              dev: false,
              dataDir: mkdtempSync(join(dir, `${name}-`)),
              serverSecret: 's3-tus-test-secret-0123456789abcdef',
              ...TEST_LIMITS,
            },
            argv: ['--media', url, '--s3-endpoint', s3Endpoint, '--s3-force-path-style', 'true'],
          }),
          { sms, log: createLogger('silent'), store: shared },
        );
      const [n1, n2] = [await open('n1'), await open('n2')];
      const bucket = new S3Client({ endpoint: s3Endpoint, region: 'us-east-1', forcePathStyle: true });
      try {
        const urls = [`http://127.0.0.1:${await n1.start()}`, `http://127.0.0.1:${await n2.start()}`];
        const me = await register({ node: n1, sms, dataDir: dir, url: urls[0]!, stop: () => n1.stop() });
        const creds = {
          serverUrl: urls[0]!,
          token: me.token,
          userId: me.userId,
          deviceId: me.deviceId,
          primary: true,
        };
        // 12 MiB in 6 MiB chunks (S3 parts are at least 5 MiB): half goes to node 1, the rest to node 2.
        const body = randomBytes(12 * 1024 * 1024);
        const resume = keptUploads((u) => u.replace(urls[0]!, urls[1]!));
        const kept = resume.kept;
        const stop = new AbortController();
        await assert.rejects(
          uploadMediaResumable(creds, body, {
            mediaClass: 'video',
            chunkBytes: 6 * 1024 * 1024,
            resume,
            signal: stop.signal,
            onProgress: (sent) => sent > 0 && stop.abort(),
          }),
        );
        const uploadUrl = kept.values().next().value ?? '';
        assert.match(uploadUrl, new RegExp(`^${urls[0]}/v1/uploads/[0-9a-f]{32}$`));
        const done = await uploadMediaResumable({ ...creds, serverUrl: urls[1]! }, body, {
          mediaClass: 'video',
          chunkBytes: 6 * 1024 * 1024,
          resume,
        });
        assert.deepEqual(done, { mediaId: sha(body), size: body.length, resumedAt: 6 * 1024 * 1024 });
        // The finished upload became the blob: its own object and info are gone from the bucket.
        const uploadId = uploadUrl.split('/').pop()!;
        const left = await bucket.send(new ListObjectsV2Command({ Bucket: TEST_BUCKET, Prefix: uploadId }));
        assert.deepEqual(left.Contents ?? [], [], 'nothing of the upload stays');
        for (const base of urls) await assertServed(base, me.token, body, `${base} serves it`);
      } finally {
        bucket.destroy();
        await n1.stop();
        await n2.stop();
        await shared.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('sends at most s3PartsInFlight parts to the bucket at once, over all uploads', async () => {
      for (const limit of [1, 8]) {
        const url = `s3://${TEST_BUCKET}/parts-${limit}-${randomBytes(6).toString('hex')}`;
        const dataDir = mkdtempSync(join(tmpdir(), 'parley-s3-parts-'));
        const config = loadConfig({
          overrides: { port: 0, host: '127.0.0.1', logLevel: 'silent', dev: false, dataDir, ...TEST_LIMITS },
          argv: [
            ...['--media', url, '--s3-endpoint', s3Endpoint, '--s3-force-path-style', 'true'],
            ...['--s3-parts-in-flight', String(limit)],
          ],
        });
        // The store openNode would make from these settings, kept here to read its counters.
        const uploadStore = s3UploadStore({
          url,
          endpoint: s3Endpoint,
          region: config.s3Region,
          forcePathStyle: config.s3ForcePathStyle,
          partsInFlight: config.s3PartsInFlight,
        });
        assert.equal(uploadStore.partsInFlightLimit, limit);
        const sms = new CapturingSms();
        const node = await openNode(config, { sms, log: createLogger('silent'), uploadStore });
        try {
          const base = `http://127.0.0.1:${await node.start()}`;
          const me = await register({ node, sms, dataDir, url: base, stop: () => node.stop() });
          const creds = { serverUrl: base, token: me.token, userId: me.userId, deviceId: me.deviceId };
          // Two uploads at once, each of three 8 MiB parts in one PATCH (the server suggests 64 MiB).
          const bodies = [randomBytes(24 * 1024 * 1024), randomBytes(24 * 1024 * 1024)];
          const done = await Promise.all(
            bodies.map((body) =>
              uploadMediaResumable({ ...creds, primary: true }, body, { mediaClass: 'video' }),
            ),
          );
          assert.deepEqual(
            done.map((d) => d.mediaId),
            bodies.map(sha),
          );
          assert.equal(uploadStore.partsInFlight, 0);
          assert.ok(uploadStore.peakPartsInFlight >= 1, 'parts went to the bucket through the store');
          assert.ok(
            uploadStore.peakPartsInFlight <= limit,
            `at most ${limit} at once (saw ${uploadStore.peakPartsInFlight})`,
          );
          // With room for 8, the six parts did not all go one at a time.
          if (limit > 1) assert.ok(uploadStore.peakPartsInFlight > 1, 'parts overlapped');
          assert.equal(uploadStore.partsSentStraight, 6, 'each part went straight from its PATCH');
          for (const body of bodies) await assertServed(base, me.token, body);
        } finally {
          await node.stop();
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    });

    it('checks each chunk’s Upload-Checksum before it reaches the bucket: 460, and the offset stays', async () => {
      await withS3Node('tus-sum', async ({ base, me }) => {
        const options = await fetch(`${base}/v1/uploads`, { method: 'OPTIONS' });
        assert.ok(options.headers.get('tus-extension')?.split(',').includes('checksum'));
        const body = randomBytes(300_000);
        const created = await tusCreate(base, me.token, body.length, {
          sha256: sha(body),
          class: 'document',
        });
        assert.equal(created.status, 201);
        const at = created.headers.get('location')!;
        const patch = (bytes: Uint8Array, checksum: string) =>
          tusPatch(base, at, me.token, 0, bytes, { 'upload-checksum': checksum });
        const sum = createHash('sha1').update(body).digest('base64');
        const damaged = Buffer.from(body);
        damaged[1000]! ^= 0xff;
        assert.equal((await patch(damaged, `sha1 ${sum}`)).status, 460);
        const head = await tusHead(base, at, me.token);
        assert.equal(head.headers.get('upload-offset'), '0', 'nothing of it in the bucket');
        assert.equal((await patch(body, `md4 ${sum}`)).status, 400, 'an algorithm not offered');
        const done = await patch(body, `sha1 ${sum}`);
        assert.deepEqual([done.status, done.headers.get('upload-media-id')], [204, sha(body)]);
        await assertServed(base, me.token, body);
      });
    });

    it('keeps a PATCH that ends short of a part, and what arrived of one cut off mid-body', async () => {
      const MiB = 1024 * 1024;
      const bucket = new S3Client({ endpoint: s3Endpoint, region: 'us-east-1', forcePathStyle: true });
      try {
        await withS3Node('tus-short', async ({ base, me }) => {
          const body = randomBytes(11 * MiB + 123);
          const created = await tusCreate(base, me.token, body.length, { sha256: sha(body), class: 'video' });
          assert.equal(created.status, 201);
          const at = created.headers.get('location')!;
          const offset = async () => Number((await tusHead(base, at, me.token)).headers.get('upload-offset'));
          // 3 MiB: less than S3's smallest part, so it waits in the bucket as the partial part.
          assert.equal((await tusPatch(base, at, me.token, 0, body.subarray(0, 3 * MiB))).status, 204);
          assert.equal(await offset(), 3 * MiB);
          // A PATCH that announces 4 MiB and is cut off after 2: what arrived is kept.
          await cutOffPatch(base, at, me.token, {
            offset: 3 * MiB,
            declared: 4 * MiB,
            bytes: body.subarray(3 * MiB, 5 * MiB),
          });
          let kept = 0;
          await waitFor(
            'the cut-off PATCH to be written',
            async () => {
              kept = await offset();
              return kept > 3 * MiB;
            },
            10_000,
          );
          assert.ok(kept > 3 * MiB && kept <= 5 * MiB, `the node kept what arrived (offset ${kept})`);
          await finishAndCheck(bucket, { base, me }, at, body, kept);
        });
      } finally {
        bucket.destroy();
      }
    });

    it('sends whole parts straight from a PATCH; one cut off inside a part keeps the parts before it', async () => {
      const MiB = 1024 * 1024;
      const bucket = new S3Client({ endpoint: s3Endpoint, region: 'us-east-1', forcePathStyle: true });
      try {
        await withS3Node('tus-straight', async ({ base, me }) => {
          const body = randomBytes(20 * MiB + 77);
          const created = await tusCreate(base, me.token, body.length, { sha256: sha(body), class: 'video' });
          assert.equal(created.status, 201);
          const at = created.headers.get('location')!;
          const offset = async () => Number((await tusHead(base, at, me.token)).headers.get('upload-offset'));
          // Announces two whole parts (16 MiB) and is cut off 4 MiB into the second.
          await cutOffPatch(base, at, me.token, {
            offset: 0,
            declared: 16 * MiB,
            bytes: body.subarray(0, 12 * MiB),
          });
          await waitFor('the first part to be stored', async () => (await offset()) > 0, 10_000);
          assert.equal(await offset(), 8 * MiB, 'the whole first part is kept, the cut-off second is not');
          // The rest in one PATCH: one whole part and the upload's last, shorter one.
          await finishAndCheck(bucket, { base, me }, at, body, 8 * MiB);
        });
      } finally {
        bucket.destroy();
      }
    });

    it('refuses a tus upload whose body does not match its digest, and nothing of it becomes fetchable or stays in the bucket', async () => {
      const bucket = new S3Client({ endpoint: s3Endpoint, region: 'us-east-1', forcePathStyle: true });
      try {
        await withS3Node('tus-digest', async ({ base, me }) => {
          // Two parts (8 MiB and the rest): a completed multipart upload, refused after it.
          const body = randomBytes(8 * 1024 * 1024 + 50_000);
          const claimed = sha(randomBytes(8));
          const created = await tusCreate(base, me.token, body.length, { sha256: claimed, class: 'video' });
          assert.equal(created.status, 201);
          const at = created.headers.get('location')!;
          const res = await tusPatch(base, at, me.token, 0, body);
          assert.equal(res.status, 400);
          assert.equal(await errorCode(res), 'DIGEST_MISMATCH');
          const download = (id: string) =>
            fetch(`${base}/v1/media/${id}`, { headers: { authorization: `Bearer ${me.token}` } });
          assert.equal((await download(claimed)).status, 404, 'not under the declared digest');
          assert.equal((await download(sha(body))).status, 404, 'nor under its own');
          assert.equal((await tusHead(base, at, me.token)).status, 404, 'the upload was deleted');
          const uploadId = at.split('/').pop()!;
          assert.deepEqual(await inBucket(bucket, TEST_BUCKET, uploadId), [], 'nothing of the upload stays');
        });
      } finally {
        bucket.destroy();
      }
    });

    it('caps each class on the declared length and on the bytes that arrive', async () => {
      const caps = { mediaMaxImageBytes: 100_000, mediaMaxVideoBytes: 8 * 1024 * 1024 };
      await withS3Node(
        'tus-caps',
        async ({ base, me }) => {
          const create = (length: number, kind: string) =>
            tusCreate(base, me.token, length, { sha256: sha(randomBytes(4)), class: kind });
          const tooBig = await create(100_001, 'image');
          assert.deepEqual([tooBig.status, await errorCode(tooBig)], [413, 'PAYLOAD_TOO_LARGE']);
          // Two GiB declared as a video over an 8 MiB cap: refused at creation, nothing written.
          const huge = await create(2 * 1024 ** 3, 'video');
          assert.deepEqual([huge.status, await errorCode(huge)], [413, 'PAYLOAD_TOO_LARGE']);
          // More bytes than declared: tus refuses the PATCH and keeps the offset.
          const body = randomBytes(1000);
          const created = await tusCreate(base, me.token, body.length, { sha256: sha(body), class: 'image' });
          assert.equal(created.status, 201);
          const at = created.headers.get('location')!;
          assert.equal((await tusPatch(base, at, me.token, 0, randomBytes(1500))).status, 413);
          const offset = async () => (await tusHead(base, at, me.token)).headers.get('upload-offset');
          assert.equal(await offset(), '0');
          // The same without Content-Length (the store's other path): the right bytes, then more.
          const unsized = await fetch(new URL(at, base), {
            method: 'PATCH',
            headers: tusPatchHeaders(me.token, 0),
            body: ReadableStream.from([body, randomBytes(500)]),
            duplex: 'half',
          });
          assert.equal(unsized.status, 413, 'refused once more bytes than declared arrive');
          assert.equal(await offset(), '0', 'nothing of it is kept, not even the right bytes before');
          const done = await tusPatch(base, at, me.token, 0, body);
          assert.deepEqual(
            [done.status, done.headers.get('upload-media-id')],
            [204, sha(body)],
            'the right bytes still complete it',
          );
          await assertServed(base, me.token, body);
        },
        caps,
      );
    });

    it('an incomplete upload is gone past its expiry: 410, nothing fetchable, and the sweep removes it from the bucket', async () => {
      // A bucket of its own: the store's sweep goes over every multipart upload in its bucket,
      // whatever the media prefix, and with a 2 s expiry would take other tests' uploads.
      const bucketName = `parley-test-expiry-${randomBytes(4).toString('hex')}`;
      const bucket = new S3Client({ endpoint: s3Endpoint, region: 'us-east-1', forcePathStyle: true });
      await bucket.send(new CreateBucketCommand({ Bucket: bucketName }));
      const url = `s3://${bucketName}/media`;
      const dataDir = mkdtempSync(join(tmpdir(), 'parley-s3-expiry-'));
      try {
        const config = loadConfig({
          overrides: { port: 0, host: '127.0.0.1', logLevel: 'silent', dev: false, dataDir, ...TEST_LIMITS },
          argv: ['--media', url, '--s3-endpoint', s3Endpoint, '--s3-force-path-style', 'true'],
        });
        // The store openNode would make, with the 24 h period shortened to 2 s (s3UploadStore
        // takes no period of its own).
        const expiring = s3UploadStore({
          url,
          endpoint: s3Endpoint,
          region: config.s3Region,
          forcePathStyle: config.s3ForcePathStyle,
          partsInFlight: config.s3PartsInFlight,
        });
        const expiryMs = 2000;
        expiring.getExpiration = () => expiryMs;
        const sms = new CapturingSms();
        const node = await openNode(config, { sms, log: createLogger('silent'), uploadStore: expiring });
        try {
          const base = `http://127.0.0.1:${await node.start()}`;
          const me = await register({ node, sms, dataDir, url: base, stop: () => node.stop() });
          const body = randomBytes(10_000);
          const created = await tusCreate(base, me.token, body.length, { sha256: sha(body), class: 'video' });
          assert.equal(created.status, 201);
          const at = created.headers.get('location')!;
          const first = await tusPatch(base, at, me.token, 0, body.subarray(0, 4000));
          assert.equal(first.status, 204);
          assert.ok(first.headers.get('upload-expires'), 'the PATCH tells when it expires');
          const uploadId = at.split('/').pop()!;
          const stored = await inBucket(bucket, bucketName, uploadId);
          assert.ok(stored.length > 0, 'the upload is in the bucket');
          await new Promise((r) => setTimeout(r, expiryMs + 300));
          assert.equal((await tusPatch(base, at, me.token, 4000, body.subarray(4000))).status, 410);
          assert.equal((await tusHead(base, at, me.token)).status, 410);
          const got = await fetch(`${base}/v1/media/${sha(body)}`, {
            headers: { authorization: `Bearer ${me.token}` },
          });
          assert.equal(got.status, 404);
          assert.deepEqual(await inBucket(bucket, bucketName, uploadId), stored, 'kept until the sweep');
          // What is not the node's, just as old: another multipart upload and an object named
          // as an upload's info would be.
          const foreign = await bucket.send(
            new CreateMultipartUploadCommand({ Bucket: bucketName, Key: 'backups/notes' }),
          );
          await bucket.send(
            new PutObjectCommand({ Bucket: bucketName, Key: 'backups/notes.info', Body: 'not the node’s' }),
          );
          await new Promise((r) => setTimeout(r, expiryMs + 300));
          assert.equal(await expiring.deleteExpired(), 1, 'the sweep removed the one upload');
          assert.deepEqual(
            await inBucket(bucket, bucketName),
            ['backups/notes.info', `backups/notes (multipart upload ${foreign.UploadId})`],
            'swept: only what is not the node’s is left',
          );
        } finally {
          await node.stop();
        }
      } finally {
        await removeBucket(bucket, bucketName).catch(() => {});
        bucket.destroy();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('does not start when the bucket is missing, naming the bucket', async () => {
      const config = loadConfig({
        overrides: { port: 0, host: '127.0.0.1', logLevel: 'silent', dev: false },
        argv: [
          '--media',
          's3://parley-missing-bucket',
          '--s3-endpoint',
          s3Endpoint,
          '--s3-force-path-style',
          'true',
        ],
      });
      await assert.rejects(
        openNode(config, { log: createLogger('silent'), sms: new CapturingSms() }),
        /parley-missing-bucket does not exist/,
      );
    });
  });
}
