/**
 * The retention job and media, end to end on local disk and on the S3 gateway: it removes
 * exactly the bodies nothing keeps (an upload no message names 24 h on, one whose only
 * message was deleted, an avatar that was replaced, and, past the message retention, bodies
 * whose messages expired), keeps everything else (a referenced body, a group icon, the
 * newest avatar, a fresh upload) and leaves an upload in progress alone, which then
 * completes. The media tree (the folder, or the bucket listing) is compared before and
 * after. The node's clock is injected; the bodies' own times are real, so the clock moves
 * ahead of them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { MessageType } from '@parley/protocol';
import { S3BlobStore } from '../src/adapters/blobs/s3/s3-blobs.js';
import { ensureTestBucket, TEST_BUCKET } from '../src/adapters/blobs/s3/testing.js';
import { s3UploadStore } from '../src/media/s3-uploads.js';
import { ManualClock } from '../src/ports/clock.js';
import { type Creds, createGroup, RawClient, register, startNode, type TestNode, text } from './harness.js';
import { askUrl, putMedia, sha } from './media-http.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TUS = { 'tus-resumable': '1.0.0' };
const s3Endpoint = process.env.PARLEY_TEST_S3_ENDPOINT;

interface Backend {
  node: TestNode;
  /** The media bodies the store holds now, by id. */
  tree(): Promise<string[]>;
  /** What the incomplete upload `uploadId` keeps beside the bodies (its bytes and info). */
  others(uploadId: string): Promise<string[]>;
  close(): Promise<void>;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

async function localBackend(clock: ManualClock): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-media-retention-'));
  const node = await startNode({ dataDir: dir }, { clock });
  const media = join(dir, 'media');
  const isBody = (p: string) => /^[0-9a-f]{2}\/[0-9a-f]{64}$/.test(p);
  return {
    node,
    tree: async () =>
      walk(media)
        .filter(isBody)
        .map((p) => p.slice(3)),
    others: async (id) => walk(media).filter((p) => !isBody(p) && p.includes(id)),
    close: async () => {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function s3Backend(clock: ManualClock): Promise<Backend> {
  await ensureTestBucket(s3Endpoint!);
  const prefix = `retention-${randomBytes(6).toString('hex')}/`;
  const s3 = {
    url: `s3://${TEST_BUCKET}/${prefix}`,
    endpoint: s3Endpoint!,
    region: 'us-east-1',
    forcePathStyle: true,
  };
  const blobs = await S3BlobStore.open(s3);
  const node = await startNode(
    {},
    {
      clock,
      blobs,
      uploadStore: s3UploadStore(s3),
      uploadAdopt: (id, uploadId, max) => blobs.adoptObject(id, uploadId, max),
    },
  );
  const client = new S3Client({ endpoint: s3Endpoint!, region: 'us-east-1', forcePathStyle: true });
  const list = async (under: string) => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: TEST_BUCKET,
          Prefix: under,
          ...(token && { ContinuationToken: token }),
        }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!.slice(under.length)));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  };
  return {
    node,
    tree: () => list(prefix),
    // Incomplete uploads live at the bucket's root, named by their upload id.
    others: async (id) => (await list(id)).map((k) => `${id}${k}`),
    close: async () => {
      client.destroy();
      await node.stop();
    },
  };
}

const variants = [
  { name: 'local disk', make: localBackend, skip: false as const },
  {
    name: 'S3',
    make: s3Backend,
    skip: s3Endpoint ? (false as const) : 'PARLEY_TEST_S3_ENDPOINT is not set',
  },
];

for (const variant of variants) {
  describe(`retention of media (${variant.name})`, { skip: variant.skip }, () => {
    const clock = new ManualClock(Date.now());
    let b: Backend;
    let t: TestNode;
    let alice: Creds;
    let bob: Creds;
    before(async () => {
      b = await variant.make(clock);
      t = b.node;
      [alice, bob] = [await register(t), await register(t)];
    });
    after(() => b.close());

    const tusCreate = async (c: Creds, body: Uint8Array) => {
      const meta = [`sha256 ${Buffer.from(sha(body)).toString('base64')}`, `class ${btoa('video')}`].join(
        ',',
      );
      const res = await fetch(`${t.url}/v1/uploads`, {
        method: 'POST',
        headers: {
          ...TUS,
          authorization: `Bearer ${c.token}`,
          'upload-length': String(body.length),
          'upload-metadata': meta,
        },
      });
      assert.equal(res.status, 201);
      return res.headers.get('location')!;
    };
    const tusPatch = (c: Creds, location: string, offset: number, part: Uint8Array) =>
      fetch(new URL(location, t.url), {
        method: 'PATCH',
        headers: {
          ...TUS,
          authorization: `Bearer ${c.token}`,
          'content-type': 'application/offset+octet-stream',
          'upload-offset': String(offset),
        },
        body: part,
      });

    it('deletes exactly the bodies nothing keeps, and nothing else', async () => {
      const a = await RawClient.connect(t, alice);
      const chatId = await createGroup(a, [bob.userId]);
      let n = 0;
      const send = async (ids: string[]) =>
        Number(
          (
            await a.call<{ seq: bigint }>({
              case: 'send',
              value: { clientMessageId: `r${++n}`, chatId, payload: text('file'), mediaIds: ids },
            })
          ).seq,
        );
      const up = (c: Creds, headers: Record<string, string> = {}) =>
        putMedia(t.url, c.token, randomBytes(1000 + n++), headers);

      const unreferenced = await up(alice);
      const referenced = await up(alice);
      await send([referenced]);
      const deleted = await up(alice);
      const deletedSeq = await send([deleted]);
      await a.call({
        case: 'send',
        value: {
          clientMessageId: `r${++n}`,
          chatId,
          meta: { type: MessageType.DELETE, refSeq: BigInt(deletedSeq) },
        },
      });
      const icon = await up(alice, { 'x-media-class': 'image' });
      await a.call({ case: 'updateChat', value: { chatId, iconMediaId: icon } });
      const oldAvatar = await up(bob, { 'x-media-class': 'image', 'x-media-use': 'avatar' });
      clock.advance(1000);
      const newAvatar = await up(bob, { 'x-media-class': 'image', 'x-media-use': 'avatar' });
      const repeatedBytes = randomBytes(900);
      const repeated = await putMedia(t.url, bob.token, repeatedBytes);
      // An upload in progress: half of it is there.
      const big = randomBytes(200_000);
      const location = await tusCreate(alice, big);
      assert.equal((await tusPatch(alice, location, 0, big.subarray(0, 100_000))).status, 204);
      const uploadId = location.split('/').pop()!;
      const othersBefore = await b.others(uploadId);
      assert.ok(othersBefore.length > 0, 'the incomplete upload is under the media root');

      const all = [unreferenced, referenced, deleted, icon, oldAvatar, newAvatar, repeated];
      assert.deepEqual(await b.tree(), [...all].sort());
      assert.equal((await t.node.runRetention()).mediaExpired, 0, 'nothing is 24 h old yet');
      assert.deepEqual(await b.tree(), [...all].sort());

      clock.advance(25 * HOUR);
      // Uploaded (again) just now, by the node's clock: its 24 h start again.
      const fresh = await up(alice);
      assert.equal(await putMedia(t.url, bob.token, repeatedBytes), repeated);
      const result = await t.node.runRetention();
      assert.equal(result.mediaExpired, 3, 'the unreferenced body, the deleted message’s, the old avatar');
      assert.deepEqual(await b.tree(), [referenced, icon, newAvatar, fresh, repeated].sort());
      assert.deepEqual(await b.others(uploadId), othersBefore, 'the upload in progress is untouched');
      assert.equal(
        (await askUrl(t.url, alice.token, unreferenced)).code,
        'NOT_FOUND',
        'its records went too',
      );
      assert.equal((await askUrl(t.url, bob.token, referenced)).status, 200);

      // The rest of the upload goes up after the run and completes it.
      const done = await tusPatch(alice, location, 100_000, big.subarray(100_000));
      assert.equal(done.status, 204);
      assert.equal(done.headers.get('upload-media-id'), sha(big));

      // Past the message retention (30 days) the message and its body go; icon and avatar stay.
      clock.advance(31 * DAY);
      const later = await t.node.runRetention();
      assert.ok(later.expired >= 1, 'the messages expired');
      assert.equal(
        later.mediaExpired,
        4,
        'the referenced body, the fresh and repeated ones, the completed upload',
      );
      assert.deepEqual(await b.tree(), [icon, newAvatar].sort());
      assert.equal((await askUrl(t.url, bob.token, icon)).status, 200);
      await a.close();
    });
  });
}
