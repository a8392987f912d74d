/**
 * The bench's in-memory S3 endpoint, driven by the real AWS SDK client: what it stores comes
 * back byte for byte, multipart uploads page and complete as on S3, and it refuses what S3
 * refuses, with S3's status codes and error codes.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { MIN_PART_BYTES, type S3Sink, startS3Sink } from './s3-sink.js';
import { startS3SinkProcess } from './s3-sink-proc.js';

const KEY_ID = 'sinktestkey';
const BUCKET = 'parley-test';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const client = (url: string, accessKeyId = KEY_ID) =>
  new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey: 'unchecked' },
  });

async function bytesOf(body: unknown): Promise<Buffer> {
  return Buffer.from(await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

/** Asserts `p` fails with this S3 error code and HTTP status. */
async function refused(p: Promise<unknown>, name: string, status: number): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof S3ServiceException, String(err));
    assert.deepEqual([err.name, err.$metadata.httpStatusCode], [name, status]);
    return true;
  });
}

describe('the in-memory S3 endpoint', () => {
  let sink: S3Sink;
  let s3: S3Client;
  before(async () => {
    sink = await startS3Sink({ accessKeyId: KEY_ID, bucket: BUCKET });
    s3 = client(sink.url);
  });
  after(async () => {
    s3.destroy();
    await sink.close();
  });

  it('assembles a multipart upload from its parts, pages ListParts, and serves it whole and by range', async () => {
    const parts = [MIN_PART_BYTES, MIN_PART_BYTES + 3, MIN_PART_BYTES, 1234].map((n) => randomBytes(n));
    const whole = Buffer.concat(parts);
    const Key = 'uploads/big.bin';
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        ContentType: 'video/mp4',
        Metadata: { 'tus-version': '1.0.0' },
      }),
    );
    assert.ok(UploadId);
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      // One part as a stream: the SDK frames it aws-chunked, with its checksum in a trailer.
      const Body = i === 1 ? Readable.from([part.subarray(0, 100_000), part.subarray(100_000)]) : part;
      const r = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key,
          UploadId,
          PartNumber: i + 1,
          Body,
          ContentLength: part.length,
        }),
      );
      assert.match(r.ETag ?? '', /^"[0-9a-f]{32}"$/);
      etags.push(r.ETag!);
    }
    assert.equal(new Set(etags).size, 4, 'each part has its own ETag');

    const first = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId, MaxParts: 3 }));
    assert.deepEqual(
      first.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]),
      [0, 1, 2].map((i) => [i + 1, parts[i]!.length, etags[i]]),
    );
    assert.equal(first.IsTruncated, true);
    assert.equal(first.NextPartNumberMarker, '3');
    const rest = await s3.send(
      new ListPartsCommand({ Bucket: BUCKET, Key, UploadId, PartNumberMarker: first.NextPartNumberMarker }),
    );
    assert.deepEqual(
      rest.Parts?.map((p) => [p.PartNumber, p.Size]),
      [[4, 1234]],
    );
    assert.equal(rest.IsTruncated, false);
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.deepEqual(
      listed.Uploads?.map((u) => [u.Key, u.UploadId]),
      [[Key, UploadId]],
    );

    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-4"$/);
    assert.equal(done.Location, `${sink.url}/${BUCKET}/uploads%2Fbig.bin`);
    assert.equal(sink.held, whole.length, 'the parts became the object: held once');
    await refused(s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId })), 'NoSuchUpload', 404);

    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    assert.deepEqual(
      [got.ContentLength, got.ContentType, got.ETag, got.AcceptRanges, got.Metadata],
      [whole.length, 'video/mp4', done.ETag, 'bytes', { 'tus-version': '1.0.0' }],
    );
    assert.equal(sha(await bytesOf(got.Body)), sha(whole));

    // A range across the first two parts' boundary.
    const [start, end] = [MIN_PART_BYTES - 10, MIN_PART_BYTES + 20];
    const part = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, Range: `bytes=${start}-${end}` }));
    assert.equal(part.$metadata.httpStatusCode, 206);
    assert.equal(part.ContentRange, `bytes ${start}-${end}/${whole.length}`);
    assert.deepEqual(await bytesOf(part.Body), whole.subarray(start, end + 1));
    const tail = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, Range: 'bytes=-100' }));
    assert.deepEqual(await bytesOf(tail.Body), whole.subarray(whole.length - 100));
    await refused(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, Range: `bytes=${whole.length}-` })),
      'InvalidRange',
      416,
    );

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
    assert.deepEqual(
      [head.ContentLength, head.ETag, head.LastModified?.getTime(), head.Metadata],
      [whole.length, done.ETag, got.LastModified?.getTime(), { 'tus-version': '1.0.0' }],
    );
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key }));
    assert.equal(sink.held, 0);
  });

  it('refuses to complete with a missing part, a wrong ETag, parts out of order or a small part', async () => {
    const Key = 'uploads/refused';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    const small = randomBytes(1000);
    const big = randomBytes(MIN_PART_BYTES);
    const e1 = (
      await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: small }))
    ).ETag!;
    const e2 = (
      await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 2, Body: big }))
    ).ETag!;
    const complete = (Parts: Array<{ ETag: string; PartNumber: number }>) =>
      s3.send(
        new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts } }),
      );
    await refused(complete([{ ETag: e1, PartNumber: 3 }]), 'InvalidPart', 400);
    await refused(complete([{ ETag: e2, PartNumber: 1 }]), 'InvalidPart', 400);
    await refused(
      complete([
        { ETag: e2, PartNumber: 2 },
        { ETag: e1, PartNumber: 1 },
      ]),
      'InvalidPartOrder',
      400,
    );
    await refused(
      complete([
        { ETag: e1, PartNumber: 1 },
        { ETag: e2, PartNumber: 2 },
      ]),
      'EntityTooSmall',
      400,
    );
    // The upload survives refusals; completing with the one part that may be small works.
    await complete([{ ETag: e1, PartNumber: 1 }]);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    assert.equal(sha(await bytesOf(got.Body)), sha(small));
    assert.equal(sink.held, small.length, 'the part left out was released');
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key }));
  });

  it('answers NoSuchUpload for an upload never made, aborted or completed', async () => {
    const Key = 'uploads/gone';
    await refused(
      s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId: 'nope', PartNumber: 1, Body: 'x' })),
      'NoSuchUpload',
      404,
    );
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: randomBytes(5000) }),
    );
    assert.equal(sink.held, 5000);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId }));
    assert.equal(sink.held, 0, 'aborting releases its parts');
    await refused(s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId })), 'NoSuchUpload', 404);
    await refused(
      s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId })),
      'NoSuchUpload',
      404,
    );
  });

  it('copies an object without holding its bytes twice, deletes one or many, and answers NoSuchKey', async () => {
    const body = randomBytes(300_000);
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'a/src', Body: body, ContentType: 'text/plain' }),
    );
    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'b/copy',
        CopySource: `${BUCKET}/${encodeURIComponent('a/src')}`,
        ContentType: 'application/octet-stream',
        MetadataDirective: 'REPLACE',
      }),
    );
    assert.match(copied.CopyObjectResult?.ETag ?? '', /^"[0-9a-f]{32}"$/);
    assert.equal(sink.held, body.length);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'a/src' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'b/copy' }));
    assert.equal(got.ContentType, 'application/octet-stream');
    assert.equal(sha(await bytesOf(got.Body)), sha(body), 'the copy outlives its source');
    await refused(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/src' })), 'NoSuchKey', 404);
    await refused(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'a/src' })), 'NotFound', 404);
    await refused(
      s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'c', CopySource: `${BUCKET}/a/src` })),
      'NoSuchKey',
      404,
    );

    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'b/two', Body: 'two' }));
    const deleted = await s3.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: [{ Key: 'b/copy' }, { Key: 'b/two' }, { Key: 'b/never' }] },
      }),
    );
    assert.deepEqual(deleted.Deleted?.map((d) => d.Key).sort(), ['b/copy', 'b/never', 'b/two']);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    assert.equal(left.KeyCount, 0);
    assert.equal(sink.held, 0);
  });

  it('lists keys in order, a page at a time, with common prefixes', async () => {
    const keys = ['p/a', 'p/b', 'p/d/1', 'p/d/2', 'p/e', 'q/x'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }));
    const pages: string[][] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: BUCKET,
          Prefix: 'p/',
          Delimiter: '/',
          MaxKeys: 2,
          ContinuationToken,
        }),
      );
      pages.push([
        ...(page.Contents ?? []).map((c) => c.Key!),
        ...(page.CommonPrefixes ?? []).map((c) => c.Prefix!),
      ]);
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    assert.deepEqual(pages, [
      ['p/a', 'p/b'],
      ['p/e', 'p/d/'],
    ]);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, StartAfter: 'p/d/1' }));
    assert.deepEqual(
      after.Contents?.map((c) => [c.Key, c.Size]),
      [
        ['p/d/2', 5],
        ['p/e', 3],
        ['q/x', 3],
      ],
    );
    await s3.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
    );
  });

  it('creates buckets on request and answers NoSuchBucket for one that does not exist', async () => {
    await refused(s3.send(new HeadBucketCommand({ Bucket: 'parley-other' })), 'NotFound', 404);
    await refused(
      s3.send(new PutObjectCommand({ Bucket: 'parley-other', Key: 'k', Body: 'x' })),
      'NoSuchBucket',
      404,
    );
    await s3.send(new CreateBucketCommand({ Bucket: 'parley-other' }));
    await refused(
      s3.send(new CreateBucketCommand({ Bucket: 'parley-other' })),
      'BucketAlreadyOwnedByYou',
      409,
    );
    await s3.send(new HeadBucketCommand({ Bucket: 'parley-other' }));
    await s3.send(new PutObjectCommand({ Bucket: 'parley-other', Key: 'k', Body: 'x' }));
    await refused(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' })), 'NoSuchKey', 404);
    await s3.send(new DeleteObjectCommand({ Bucket: 'parley-other', Key: 'k' }));
  });

  it('refuses a request without credentials or with another access key id: 403', async () => {
    const stranger = client(sink.url, 'someoneelse');
    await refused(
      stranger.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' })),
      'InvalidAccessKeyId',
      403,
    );
    // A HEAD answer has no body to name the error: the SDK knows only the status.
    await refused(stranger.send(new HeadBucketCommand({ Bucket: BUCKET })), 'Unknown', 403);
    stranger.destroy();
    const anonymous = await fetch(`${sink.url}/${BUCKET}/k`);
    assert.equal(anonymous.status, 403);
    assert.match(await anonymous.text(), /<Code>AccessDenied<\/Code>/);
  });
});

describe('the in-memory S3 endpoint’s memory cap', () => {
  it('refuses a body past the cap with 400 EntityTooLarge, keeps what it holds, and takes bodies again once room is freed', async () => {
    const sink = await startS3Sink({ accessKeyId: KEY_ID, bucket: BUCKET, maxBytes: 1_000_000 });
    const s3 = client(sink.url);
    try {
      const a = randomBytes(600_000);
      const b = randomBytes(600_000);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a', Body: a }));
      await refused(
        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'b', Body: b })),
        'EntityTooLarge',
        400,
      );
      // Streamed with no length declared: refused as the bytes arrive.
      const streamed = await fetch(`${sink.url}/${BUCKET}/b`, {
        method: 'PUT',
        headers: {
          authorization: `AWS4-HMAC-SHA256 Credential=${KEY_ID}/20260101/us-east-1/s3/aws4_request`,
        },
        body: Readable.toWeb(Readable.from([b.subarray(0, 300_000), b.subarray(300_000)])) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      assert.equal(streamed.status, 400);
      assert.match(await streamed.text(), /<Code>EntityTooLarge<\/Code>/);
      assert.equal(sink.held, a.length, 'the refused bodies were dropped');
      await refused(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'b' })), 'NotFound', 404);
      assert.equal(
        sha(await bytesOf((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a' }))).Body)),
        sha(a),
      );
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'a' }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'b', Body: b }));
      assert.equal(
        sha(await bytesOf((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'b' }))).Body)),
        sha(b),
      );
    } finally {
      s3.destroy();
      await sink.close();
    }
  });
});

describe('the in-memory S3 endpoint as a process', () => {
  it('prints its URL, answers with the given key id, counts its requests and stops', async () => {
    const sink = await startS3SinkProcess({ bucket: 'parley-proc', accessKeyId: KEY_ID });
    const s3 = client(sink.url);
    try {
      assert.match(sink.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const body = randomBytes(10_000);
      await s3.send(new PutObjectCommand({ Bucket: 'parley-proc', Key: 'k', Body: body }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'parley-proc', Key: 'k' }));
      assert.equal(sha(await bytesOf(got.Body)), sha(body));
      assert.deepEqual(await sink.stats(), { requests: 2, heldBytes: body.length, internalErrors: 0 });
      assert.ok(sink.cpuSec() > 0, 'its CPU is read from /proc');
    } finally {
      s3.destroy();
      await sink.close();
    }
    assert.throws(() => process.kill(sink.pid, 0), { code: 'ESRCH' });
  });
});
