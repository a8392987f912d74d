/**
 * The BlobStore contract against a real S3-compatible service (PARLEY_TEST_S3_ENDPOINT, with
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), each test under a fresh prefix of one bucket,
 * then listing, large bodies and the errors a misconfigured store opens with. A whole node on
 * S3 is tested in test/media-s3.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { blobStoreContract } from '../../../ports/blobs.contract.js';
import { parseS3Url, S3BlobStore } from './s3-blobs.js';
import { ensureTestBucket, TEST_BUCKET } from './testing.js';

const endpoint = process.env.PARLEY_TEST_S3_ENDPOINT;
const skipReason = 'PARLEY_TEST_S3_ENDPOINT is not set';
const bucket = TEST_BUCKET;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function* once(b: Uint8Array): AsyncIterable<Uint8Array> {
  yield b;
}

describe('parseS3Url', () => {
  it('takes a bucket and an optional prefix, and refuses anything else', () => {
    assert.deepEqual(parseS3Url('s3://media-bucket'), { bucket: 'media-bucket', prefix: '' });
    assert.deepEqual(parseS3Url('s3://media-bucket/parley/prod/'), {
      bucket: 'media-bucket',
      prefix: 'parley/prod/',
    });
    for (const bad of ['s3://', 'http://b/x', 's3://UPPER', 's3://a', 's3://b/with space'])
      assert.throws(() => parseS3Url(bad), { code: 'INVALID_ARGUMENT' }, bad);
  });
});

describe('S3BlobStore.open', () => {
  it('names the network failure when the service cannot be reached', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID ??= 'unused';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'unused';
    try {
      await assert.rejects(
        S3BlobStore.open({
          url: 's3://parley-x',
          endpoint: 'http://127.0.0.1:1',
          region: 'us-east-1',
          forcePathStyle: true,
        }),
        /^Error: media bucket parley-x cannot be reached \(ECONNREFUSED\)$/,
      );
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });
});

if (endpoint === undefined) {
  console.log(`S3BlobStore tests skipped: ${skipReason}`);
  describe('S3BlobStore', { skip: skipReason }, () => {});
} else {
  const s3Endpoint = endpoint;
  const open = (url: string) =>
    S3BlobStore.open({ url, endpoint: s3Endpoint, region: 'us-east-1', forcePathStyle: true });
  const freshUrl = () => `s3://${bucket}/t-${randomBytes(6).toString('hex')}`;

  before(() => ensureTestBucket(s3Endpoint));

  blobStoreContract('S3', async () => ({ blobs: await open(freshUrl()) }));

  describe('S3BlobStore', () => {
    it('lists only bodies: other objects under the prefix are left out', async () => {
      const url = freshUrl();
      const blobs = await open(url);
      const body = new Uint8Array([1, 2, 3]);
      await blobs.put(sha(body), once(body), 100);
      // What a resumable upload leaves at the same level: an info object and a part.
      const raw = new S3Client({
        endpoint: s3Endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
      });
      const prefix = url.slice(`s3://${bucket}/`.length);
      for (const key of [`${'0'.repeat(32)}.info`, `${'0'.repeat(32)}.part`, 'notes/readme'])
        await raw.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}`, Body: 'x' }));
      raw.destroy();
      assert.deepEqual(
        (await blobs.list('', 100)).map((b) => b.id),
        [sha(body)],
      );
      await blobs.close();
    });

    it('keeps prefixes apart and streams a large body back whole', async () => {
      const a = await open(freshUrl());
      const b = await open(freshUrl());
      const big = randomBytes(6 * 1024 * 1024);
      const chunks = async function* () {
        for (let i = 0; i < big.length; i += 64 * 1024) yield big.subarray(i, i + 64 * 1024);
      };
      assert.deepEqual(await a.put(sha(big), chunks(), big.length), { size: big.length, created: true });
      assert.equal(await b.has(sha(big)), false, 'another prefix does not see it');
      const got = await a.get(sha(big));
      const hash = createHash('sha256');
      for await (const c of got!.body) hash.update(c);
      assert.equal(hash.digest('hex'), sha(big));
      await Promise.all([a.close(), b.close()]);
    });

    it('refuses to start on a missing bucket or with credentials the service rejects', async () => {
      await assert.rejects(
        open('s3://parley-no-such-bucket'),
        /media bucket parley-no-such-bucket does not exist/,
      );
      const keyId = process.env.AWS_ACCESS_KEY_ID;
      process.env.AWS_ACCESS_KEY_ID = 'not-a-key';
      try {
        await assert.rejects(open(`s3://${bucket}`), /media bucket parley-test is not accessible/);
      } finally {
        process.env.AWS_ACCESS_KEY_ID = keyId;
      }
    });

    it('adopts an object of the bucket by a copy within it, checked like an upload', async () => {
      const blobs = await open(freshUrl());
      const s3 = new S3Client({ endpoint: s3Endpoint, region: 'us-east-1', forcePathStyle: true });
      const body = randomBytes(200_000);
      const key = `finished-${randomBytes(6).toString('hex')}`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      await assert.rejects(blobs.adoptObject(sha(randomBytes(4)), key, 300_000), { code: 'DIGEST_MISMATCH' });
      await assert.rejects(blobs.adoptObject(sha(body), key, 199_999), { code: 'PAYLOAD_TOO_LARGE' });
      assert.equal(await blobs.has(sha(body)), false);
      assert.deepEqual(await blobs.adoptObject(sha(body), key, 300_000), { size: 200_000, created: true });
      assert.deepEqual(await blobs.adoptObject(sha(body), key, 300_000), { size: 200_000, created: false });
      const got = await blobs.get(sha(body));
      const hash = createHash('sha256');
      for await (const c of got!.body) hash.update(c);
      assert.equal(hash.digest('hex'), sha(body));
      s3.destroy();
      await blobs.close();
    });

    it('never stores a body that does not hash to its id', async () => {
      const url = freshUrl();
      const blobs = await open(url);
      const body = randomBytes(1000);
      const wrong = sha(randomBytes(8));
      await assert.rejects(blobs.put(wrong, once(body), 10_000), { code: 'DIGEST_MISMATCH' });
      const s3 = new S3Client({ endpoint: s3Endpoint, region: 'us-east-1', forcePathStyle: true });
      const { prefix } = parseS3Url(url);
      await assert.rejects(
        s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}${wrong}` })),
        (err: unknown) => err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404,
      );
      s3.destroy();
      await blobs.close();
    });
  });
}
