/**
 * Resumable uploads (tus 1.0 at /v1/uploads) against a real node on local disk: chunks from
 * the server's offset, a resume after a dropped client, the digest checked before the body
 * becomes fetchable, per-class caps on declared and on actual length, ownership, and tus's
 * answers to requests out of order. The media root holds nothing outside its tree.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { uploadMediaResumable } from '@parley/sdk';
import { filesUnder } from './db-scan.js';
import { type Creds, register, startNode, type TestNode } from './harness.js';
import { keptUploads, TUS, tusCreate, tusHead, tusPatch } from './tus-client.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('resumable uploads (tus) on local disk', () => {
  let t: TestNode;
  let me: Creds;
  let other: Creds;
  const creds = (c: Creds) => ({
    serverUrl: t.url,
    token: c.token,
    userId: c.userId,
    deviceId: c.deviceId,
    primary: true,
  });
  before(async () => {
    t = await startNode({
      mediaMaxBytes: 1024 * 1024,
      mediaBytesPerHour: 64 * 1024 * 1024,
      mediaMaxImageBytes: 100_000,
      mediaMaxVideoBytes: 8 * 1024 * 1024,
    });
    me = await register(t);
    other = await register(t);
  });
  after(() => t.stop());

  const create = (
    c: Creds,
    length: number,
    meta: Record<string, string>,
    extra: Record<string, string> = {},
  ) => tusCreate(t.url, c.token, length, meta, extra);
  const patch = (
    c: Creds,
    url: string,
    offset: number,
    body: Uint8Array,
    extra: Record<string, string> = {},
  ) => tusPatch(t.url, url, c.token, offset, body, extra);
  const head = (c: Creds, url: string) => tusHead(t.url, url, c.token);
  const download = (id: string) =>
    fetch(`${t.url}/v1/media/${id}`, { headers: { authorization: `Bearer ${me.token}` } });
  const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  it('takes a body in chunks, tells the offset, and stores it under its digest when complete', async () => {
    const body = randomBytes(300_000);
    const created = await create(me, body.length, { sha256: sha(body), class: 'video' });
    assert.equal(created.status, 201);
    const url = created.headers.get('location')!;
    assert.match(url, /^\/v1\/uploads\/[0-9a-f]{32}$/);
    const first = await patch(me, url, 0, body.subarray(0, 100_000));
    assert.equal(first.status, 204);
    assert.equal(first.headers.get('upload-offset'), '100000');
    const probe = await head(me, url);
    assert.deepEqual(
      [probe.status, probe.headers.get('upload-offset'), probe.headers.get('upload-length')],
      [200, '100000', '300000'],
    );
    assert.equal((await download(sha(body))).status, 404, 'nothing is fetchable before the end');
    const last = await patch(me, url, 100_000, body.subarray(100_000));
    assert.equal(last.status, 204);
    assert.equal(last.headers.get('upload-media-id'), sha(body));
    const got = await download(sha(body));
    assert.equal(got.status, 200);
    assert.equal(sha(new Uint8Array(await got.arrayBuffer())), sha(body));
    assert.equal((await head(me, url)).status, 404, 'the finished upload is gone');
  });

  it('the SDK resumes from the server offset with a kept URL, reporting progress, with or without chunk checksums', async () => {
    const body = randomBytes(700_000);
    const resume = keptUploads();
    const kept = resume.kept;
    // The first run stops after 300,000 bytes, as a killed client would.
    const stop = new AbortController();
    await assert.rejects(
      uploadMediaResumable(creds(me), body, {
        mediaClass: 'video',
        chunkBytes: 100_000,
        resume,
        signal: stop.signal,
        onProgress: (sent) => sent >= 300_000 && stop.abort(),
      }),
    );
    assert.equal(kept.size, 1, 'the unfinished upload is remembered');
    const progress: number[] = [];
    // The second run also sends each chunk's checksum (the server checks it before writing).
    const done = await uploadMediaResumable(creds(me), body, {
      mediaClass: 'video',
      chunkBytes: 100_000,
      resume,
      checksum: true,
      onProgress: (sent) => progress.push(sent),
    });
    assert.deepEqual(done, { mediaId: sha(body), size: body.length, resumedAt: 300_000 });
    assert.deepEqual(progress, [300_000, 400_000, 500_000, 600_000, 700_000]);
    assert.equal(kept.size, 0);
    assert.equal(sha(new Uint8Array(await (await download(sha(body))).arrayBuffer())), sha(body));
  });

  it('suggests a chunk size for its store (Upload-Chunk-Bytes), which the SDK follows unless told one', async () => {
    const MiB = 1024 * 1024;
    const created = await create(me, 1000, { sha256: sha(randomBytes(8)), class: 'document' });
    assert.equal(created.headers.get('upload-chunk-bytes'), String(8 * MiB), 'local disk: 8 MiB');
    // 6 MiB (the test cap for video is 8 MiB): one PATCH, where the SDK's own default is 4 MiB.
    const body = randomBytes(6 * MiB);
    const progress: number[] = [];
    const done = await uploadMediaResumable(creds(me), body, {
      mediaClass: 'video',
      onProgress: (sent) => progress.push(sent),
    });
    assert.equal(done.mediaId, sha(body));
    assert.deepEqual(progress, [0, 6 * MiB]);
  });

  it('refuses a body that does not match its digest, and nothing becomes fetchable', async () => {
    const body = randomBytes(50_000);
    const claimed = sha(randomBytes(8));
    const created = await create(me, body.length, { sha256: claimed, class: 'document' });
    const url = created.headers.get('location')!;
    const res = await patch(me, url, 0, body);
    assert.equal(res.status, 400);
    assert.equal(await code(res), 'DIGEST_MISMATCH');
    assert.equal((await download(claimed)).status, 404);
    assert.equal((await download(sha(body))).status, 404);
    assert.equal((await head(me, url)).status, 404, 'the upload was deleted');
  });

  it('caps each class on the declared length and on the bytes that arrive', async () => {
    const tooBig = await create(me, 100_001, { sha256: sha(randomBytes(4)), class: 'image' });
    assert.deepEqual([tooBig.status, await code(tooBig)], [413, 'PAYLOAD_TOO_LARGE']);
    // Two GiB declared as a video over an 8 MiB cap: refused at creation, nothing written.
    const huge = await create(me, 2 * 1024 ** 3, { sha256: sha(randomBytes(4)), class: 'video' });
    assert.equal(huge.status, 413);
    // More bytes than declared: tus refuses the PATCH and keeps the offset.
    const body = randomBytes(1000);
    const url = (await create(me, 1000, { sha256: sha(body), class: 'image' })).headers.get('location')!;
    const over = await patch(me, url, 0, randomBytes(1500));
    assert.equal(over.status, 413);
    assert.equal((await head(me, url)).headers.get('upload-offset'), '0');
    assert.equal((await patch(me, url, 0, body)).status, 204, 'the right bytes still complete it');
  });

  it('a resumable upload takes from the hourly upload count and byte quotas', async () => {
    // A node of its own with quotas small enough to meet: 3 uploads and 10,000 bytes per user an hour.
    const q = await startNode({ mediaUploadsPerHour: 3, mediaBytesPerHour: 10_000 });
    try {
      const [amy, ben, cat] = [await register(q), await register(q), await register(q)];
      const start = (c: Creds, length: number, body?: Uint8Array) =>
        tusCreate(q.url, c.token, length, { sha256: sha(body ?? randomBytes(8)), class: 'document' });
      const statuses = async (c: Creds, lengths: number[]) => {
        const out: number[] = [];
        for (const length of lengths) out.push((await start(c, length)).status);
        return out;
      };
      /** A 429 as the limiters give it: RATE_LIMITED with a wait within the hour, and no upload. */
      const assertLimited = async (res: Response, what: string) => {
        const text = await res.text();
        assert.equal(res.status, 429, `${what}: ${text}`);
        const { error } = JSON.parse(text) as { error: { code: string; retryAfterMs?: number } };
        assert.deepEqual([error.code, res.headers.get('location')], ['RATE_LIMITED', null], what);
        const ms = error.retryAfterMs ?? 0;
        assert.ok(ms > 0 && ms <= 3_600_000, `${what}: retryAfterMs ${ms}`);
        assert.equal(res.headers.get('retry-after'), String(Math.ceil(ms / 1000)), `${what}: Retry-After`);
      };

      // The count: a fourth upload in the hour is refused, and so is a single PUT, which shares it.
      assert.deepEqual(await statuses(amy, [1000, 1000, 1000]), [201, 201, 201]);
      await assertLimited(await start(amy, 1000), 'a fourth upload');
      const small = randomBytes(100);
      const put = await fetch(`${q.url}/v1/media/${sha(small)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${amy.token}` },
        body: small,
      });
      await assertLimited(put, 'a single PUT after three resumable uploads');

      // The bytes, taken at creation for the declared length: a length past the whole hour's
      // budget never fits (413) and takes nothing from the count either (were the two refusals
      // counted, the second of the uploads after them would be the fourth); the budget fills
      // exactly, and one byte more is refused while the count still has room. An upload
      // refused for more bytes than are left takes nothing: what is left still fits.
      for (let i = 0; i < 2; i++) {
        const tooBig = await start(ben, 10_001);
        assert.deepEqual([tooBig.status, await code(tooBig)], [413, 'PAYLOAD_TOO_LARGE']);
      }
      assert.deepEqual(await statuses(ben, [6000]), [201]);
      await assertLimited(await start(ben, 5000), 'more bytes than are left');
      assert.deepEqual(await statuses(ben, [4000]), [201], 'what is left, after a refusal');
      await assertLimited(await start(ben, 1), 'a byte past the budget, with uploads left in the count');

      // Another user's quotas are their own; an upload sent in three PATCHes counts once.
      const body = randomBytes(3000);
      const url = (await start(cat, body.length, body)).headers.get('location')!;
      for (const at of [0, 1000, 2000])
        assert.equal((await tusPatch(q.url, url, cat.token, at, body.subarray(at, at + 1000))).status, 204);
      assert.deepEqual(await statuses(cat, [1000, 1000]), [201, 201]);
      await assertLimited(await start(cat, 1000), 'cat’s fourth upload');
    } finally {
      await q.stop();
    }
  });

  it('answers bad metadata and requests out of order with the status tus and the API say', async () => {
    const body = randomBytes(2000);
    for (const [meta, what] of [
      [{ class: 'image' }, 'no digest'],
      [{ sha256: 'xyz', class: 'image' }, 'a bad digest'],
      [{ sha256: sha(body), class: 'executable' }, 'an unknown class'],
    ] as const) {
      const res = await create(me, body.length, meta);
      assert.deepEqual([res.status, await code(res)], [400, 'INVALID_ARGUMENT'], what);
    }
    const deferred = await create(me, 0, { sha256: sha(body) }, { 'upload-defer-length': '1' });
    assert.equal(deferred.status, 400, 'a length is required');
    assert.equal((await create(me, 0, { sha256: sha(body) })).status, 400, 'an empty body');
    const noVersion = await fetch(`${t.url}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${me.token}`, 'upload-length': '10' },
    });
    assert.equal(noVersion.status, 412, 'Tus-Resumable is required');

    const url = (await create(me, body.length, { sha256: sha(body) })).headers.get('location')!;
    assert.equal((await patch(me, url, 500, body)).status, 409, 'an offset that is not the server’s');
    assert.equal(
      (await patch(me, url, 0, body, { 'content-type': 'application/octet-stream' })).status,
      415,
      'the tus content type is required',
    );
    const past = await patch(me, url, 5000, body.subarray(0, 10));
    assert.equal(past.status, 409, 'an offset past the length');
    // Two PATCHes at once to one upload (tus's lock lets one write at a time): one completes it;
    // the other then finds the server's offset at the end (409, tus's answer to an offset that
    // is not the server's) or, arriving after the finished upload was removed, no upload (404).
    const [a, b] = await Promise.all([patch(me, url, 0, body), patch(me, url, 0, body)]);
    const [won, lost] = a.status === 204 ? [a, b] : [b, a];
    assert.equal(won.status, 204, `one PATCH completes it (${a.status}, ${b.status})`);
    assert.deepEqual(
      [won.headers.get('upload-offset'), won.headers.get('upload-media-id')],
      [String(body.length), sha(body)],
    );
    assert.ok([409, 404].includes(lost.status), `the other is refused (${lost.status})`);
    assert.equal((await head(me, url)).status, 404, 'the finished upload is gone');
    const stored = await download(sha(body));
    assert.equal(stored.status, 200);
    assert.equal(sha(new Uint8Array(await stored.arrayBuffer())), sha(body), 'the winner’s bytes, whole');
  });

  it('tells its tus extensions and checksum algorithms on OPTIONS, without a token', async () => {
    const res = await fetch(`${t.url}/v1/uploads`, { method: 'OPTIONS' });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('tus-version'), '1.0.0');
    const extensions = res.headers.get('tus-extension')?.split(',') ?? [];
    for (const e of ['creation', 'expiration', 'termination', 'checksum'])
      assert.ok(extensions.includes(e), e);
    const algorithms = res.headers.get('tus-checksum-algorithm')?.split(',') ?? [];
    assert.ok(algorithms.includes('sha256') && algorithms.includes('sha1'), algorithms.join());
    assert.equal(res.headers.get('tus-max-size'), String(2 * 1024 ** 3), 'the largest class cap (documents)');
  });

  it('writes a chunk only when it matches its Upload-Checksum: 460 on a mismatch, 400 for an unknown algorithm', async () => {
    const body = randomBytes(3000);
    const url = (await create(me, body.length, { sha256: sha(body), class: 'document' })).headers.get(
      'location',
    )!;
    const sum = (alg: string, b: Uint8Array) => `${alg} ${createHash(alg).update(b).digest('base64')}`;
    const first = body.subarray(0, 1000);
    const offset = async () => (await head(me, url)).headers.get('upload-offset');

    const damaged = Buffer.from(first);
    damaged[500]! ^= 1;
    const mismatch = await patch(me, url, 0, damaged, { 'upload-checksum': sum('sha256', first) });
    assert.equal(mismatch.status, 460);
    assert.equal(await offset(), '0', 'nothing of the damaged chunk was written');

    for (const [header, what] of [
      [`crc32 ${Buffer.alloc(4).toString('base64')}`, 'an unknown algorithm'],
      [`sha256 ${createHash('sha1').update(first).digest('base64')}`, 'a digest of the wrong length'],
      ['sha256', 'no digest'],
    ] as const) {
      const res = await patch(me, url, 0, first, { 'upload-checksum': header });
      assert.deepEqual([res.status, await code(res)], [400, 'INVALID_ARGUMENT'], what);
    }
    assert.equal(await offset(), '0');

    const ok = await patch(me, url, 0, first, { 'upload-checksum': sum('sha256', first) });
    assert.deepEqual([ok.status, ok.headers.get('upload-offset')], [204, '1000']);
    const second = body.subarray(1000, 2000);
    assert.equal(
      (await patch(me, url, 1000, second, { 'upload-checksum': sum('sha1', second) })).status,
      204,
    );
    const last = await patch(me, url, 2000, body.subarray(2000), {
      'upload-checksum': sum('sha512', body.subarray(2000)),
    });
    assert.deepEqual([last.status, last.headers.get('upload-media-id')], [204, sha(body)]);
    assert.equal(sha(new Uint8Array(await (await download(sha(body))).arrayBuffer())), sha(body));
  });

  it('answers requests before creation or without the tus version as tus says', async () => {
    const never = `${t.url}/v1/uploads/${randomBytes(16).toString('hex')}`;
    assert.equal((await patch(me, never, 0, randomBytes(10))).status, 404, 'a PATCH before creation');
    assert.equal((await head(me, never)).status, 404, 'a HEAD before creation');
    const body = randomBytes(100);
    const url = (await create(me, body.length, { sha256: sha(body) })).headers.get('location')!;
    const unversioned = await fetch(new URL(url, t.url), {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${me.token}`,
        'content-type': 'application/offset+octet-stream',
        'upload-offset': '0',
      },
      body,
    });
    assert.equal(unversioned.status, 412, 'Tus-Resumable is required on PATCH');
    const noOffset = await fetch(new URL(url, t.url), {
      method: 'PATCH',
      headers: {
        ...TUS,
        authorization: `Bearer ${me.token}`,
        'content-type': 'application/offset+octet-stream',
      },
      body,
    });
    assert.equal(noOffset.status, 403, 'Upload-Offset is required (tus answers 403)');
    assert.equal((await patch(me, url, -1, body)).status, 400, 'a negative offset');
    assert.equal((await head(me, url)).headers.get('upload-offset'), '0', 'untouched');
    assert.equal((await patch(me, url, 0, body)).status, 204);
  });

  it('only the uploader may see or touch an upload; ids that are not ids are 404', async () => {
    const body = randomBytes(5000);
    const url = (await create(me, body.length, { sha256: sha(body) })).headers.get('location')!;
    assert.equal((await head(other, url)).status, 404);
    const theirs = await patch(other, url, 0, body);
    assert.deepEqual([theirs.status, await code(theirs)], [404, 'NOT_FOUND']);
    assert.equal((await head(me, url)).headers.get('upload-offset'), '0', 'untouched');
    const noToken = await fetch(new URL(url, t.url), { method: 'HEAD', headers: TUS });
    assert.equal(noToken.status, 401);
    for (const bad of ['..%2F..%2Fparley.db', '%2e%2e', 'abc', `${'a'.repeat(32)}%00`, 'A'.repeat(32)]) {
      const res = await tusPatch(t.url, `/v1/uploads/${bad}`, me.token, 0, 'x');
      assert.equal(res.status, 404, bad);
    }
    const mediaRoot = join(t.dataDir, 'media');
    for (const f of filesUnder(mediaRoot)) {
      const rel = relative(mediaRoot, f);
      assert.ok(!rel.startsWith('..'), `${f} is inside the media root`);
      assert.match(rel, /^(uploads\/[0-9a-f]{32}(\.json)?|[0-9a-f]{2}\/[0-9a-f]{64})$/, rel);
    }
  });
});
