import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { downloadMedia } from '@parley/sdk';
import { filesUnder } from './db-scan.js';
import { register, startNode, type TestNode } from './harness.js';
import { checkRanges } from './media-ranges.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function put(t: TestNode, id: string, body: Uint8Array, token?: string, mediaClass?: string) {
  const res = await fetch(`${t.url}/v1/media/${id}`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/octet-stream',
      ...(token && { authorization: `Bearer ${token}` }),
      ...(mediaClass && { 'x-media-class': mediaClass }),
    },
    body,
  });
  const json = (await res.json()) as Record<string, unknown> & { error?: { code: string } };
  return { status: res.status, body: json, code: json.error?.code };
}

describe('media upload and download', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode({
      mediaMaxBytes: 1024 * 1024,
      mediaBytesPerHour: 3 * 1024 * 1024,
      mediaMaxImageBytes: 10_000,
      mediaMaxVoiceBytes: 20_000,
      mediaMaxVideoBytes: 500_000,
    });
  });
  after(() => t.stop());

  it('stores a body under its SHA-256, answers a repeat without storing again, serves it back', async () => {
    const me = await register(t);
    const body = randomBytes(300_000);
    const id = sha(body);
    const first = await put(t, id, body, me.token);
    assert.deepEqual([first.status, first.body], [201, { mediaId: id, size: 300_000 }]);
    const again = await put(t, id, body, me.token);
    assert.equal(again.status, 200);
    const res = await fetch(`${t.url}/v1/media/${id}`, { headers: { authorization: `Bearer ${me.token}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '300000');
    assert.equal(sha(new Uint8Array(await res.arrayBuffer())), id);
  });

  it('serves one range, answers 416 past the end, 304 for a body the client has, on local disk', async () => {
    const me = await register(t);
    const body = randomBytes(200_001);
    assert.equal((await put(t, sha(body), body, me.token)).status, 201);
    await checkRanges(t.url, me.token, body);
  });

  it('the SDK download goes on from the byte it got to when the connection drops', async () => {
    const me = await register(t);
    const body = randomBytes(300_000);
    assert.equal((await put(t, sha(body), body, me.token)).status, 201);
    const asked: Array<string | undefined> = [];
    let cut = false;
    // The real node and sockets; the first response's body is cut off after 100,000 bytes.
    const cutting = async (url: string, init: RequestInit) => {
      const res = await fetch(url, init);
      // The SDK asks for a signed URL first (POST …/url), then GETs it.
      if (init.method !== 'GET') return res;
      assert.match(url, /\?expires=\d+&signature=/, 'downloads through a signed URL');
      asked.push(new Headers(init.headers).get('range') ?? undefined);
      if (cut || !res.body) return res;
      cut = true;
      const reader = res.body.getReader();
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (sent >= 100_000) return c.error(new Error('connection reset'));
          const { done, value } = await reader.read();
          if (done) return c.close();
          const part = value.subarray(0, Math.max(0, Math.min(value.length, 100_000 - sent)));
          sent += part.length;
          c.enqueue(part);
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const progress: number[] = [];
    const got = await downloadMedia(
      { serverUrl: t.url, token: me.token, userId: me.userId, deviceId: me.deviceId, primary: true },
      sha(body),
      {
        fetch: cutting,
        onProgress: (n, total) => {
          assert.equal(total, 300_000);
          progress.push(n);
        },
      },
    );
    assert.equal(sha(got), sha(body));
    assert.deepEqual(asked, [undefined, 'bytes=100000-'], 'the second request asks only for the rest');
    assert.equal(progress.at(-1), 300_000);
    assert.ok(
      progress.every((n, i) => i === 0 || n > progress[i - 1]!),
      'progress only grows',
    );
  });

  it('refuses bad uploads with stable codes and keeps nothing of them', async () => {
    const me = await register(t);
    const body = randomBytes(1000);
    const wrongId = sha(randomBytes(10));
    const mismatch = await put(t, wrongId, body, me.token);
    assert.deepEqual([mismatch.status, mismatch.code], [400, 'DIGEST_MISMATCH']);
    const get = await fetch(`${t.url}/v1/media/${wrongId}`, {
      headers: { authorization: `Bearer ${me.token}` },
    });
    assert.equal(get.status, 404);
    assert.equal(((await get.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');

    assert.equal((await put(t, sha(body), body)).code, 'UNAUTHENTICATED');
    assert.equal((await put(t, 'not-a-hash', body, me.token)).code, 'INVALID_ARGUMENT');
    const big = randomBytes(1024 * 1024 + 1);
    const tooBig = await put(t, sha(big), big, me.token);
    assert.deepEqual([tooBig.status, tooBig.code], [413, 'PAYLOAD_TOO_LARGE']);
  });

  it('answers path-traversal and malformed ids on PUT and GET without touching a file outside the media root', async () => {
    const me = await register(t);
    const body = randomBytes(100);
    // Sent as written (a raw request: fetch would resolve the dots itself).
    const raw = (method: string, path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${t.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${me.token}`,
            'content-type': 'application/octet-stream',
            'content-length': String(body.length),
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(method === 'PUT' ? body : undefined);
      });
    const ids = [
      '..%2F..%2Fparley.db',
      '..%2f..%2f..%2fetc%2fpasswd',
      '%2e%2e%2f%2e%2e%2fescaped',
      '..',
      `${'a'.repeat(62)}%00`,
      `..%5C..%5C${'b'.repeat(60)}`,
      'A'.repeat(64),
      'a'.repeat(63),
      `${'a'.repeat(64)}%2F..`,
    ];
    for (const id of ids) {
      const put = await raw('PUT', `/v1/media/${id}`);
      assert.ok([400, 404].includes(put), `PUT ${id}: ${put}`);
      const get = await raw('GET', `/v1/media/${id}`);
      assert.ok([400, 404].includes(get), `GET ${id}: ${get}`);
    }
    for (const path of ['/v1/media/../../parley.db', '/v1/media/..%2F..%2F..%2Fparley.db']) {
      const status = await raw('GET', path);
      assert.ok([400, 404].includes(status), `${path}: ${status}`);
    }
    const mediaRoot = join(t.dataDir, 'media');
    for (const f of filesUnder(t.dataDir)) {
      const rel = relative(mediaRoot, f);
      if (rel.startsWith('..')) {
        assert.doesNotMatch(f, /escaped|passwd|[0-9a-f]{64}/, `${f} is outside the media root`);
        continue;
      }
      assert.match(rel, /^(uploads\/[0-9a-f]{32}(\.json)?|[0-9a-f]{2}\/[0-9a-f]{64})$/, rel);
    }
  });

  it('caps each declared class on its own, under the single upload cap', async () => {
    const me = await register(t);
    const body = randomBytes(15_000);
    const asImage = await put(t, sha(body), body, me.token, 'image');
    assert.deepEqual([asImage.status, asImage.code], [413, 'PAYLOAD_TOO_LARGE']);
    assert.match(
      String((asImage.body.error as unknown as { message: string }).message),
      /image media is larger than 10000 bytes/,
    );
    assert.equal(
      (await put(t, sha(body), body, me.token, 'voice')).status,
      201,
      'a voice note may be larger',
    );
    const video = randomBytes(600_000);
    assert.equal((await put(t, sha(video), video, me.token, 'video')).code, 'PAYLOAD_TOO_LARGE');
    assert.equal((await put(t, sha(video), video, me.token, 'document')).status, 201, 'documents: 2 GiB');
    assert.equal((await put(t, sha(video), video, me.token)).status, 200, 'no class: a document');
    const bad = await put(t, sha(body), body, me.token, 'executable');
    assert.deepEqual([bad.status, bad.code], [400, 'INVALID_ARGUMENT']);
  });

  it('a body longer than its content-length is cut off and refused', async () => {
    const me = await register(t);
    const body = randomBytes(2000);
    const { port } = new URL(t.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: `/v1/media/${sha(body)}`,
          headers: { authorization: `Bearer ${me.token}`, 'transfer-encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(status, 400, 'an upload without content-length is refused');
  });

  it('limits the bytes a user uploads per hour', async () => {
    const me = await register(t);
    const codes: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const body = randomBytes(1024 * 1024);
      codes.push((await put(t, sha(body), body, me.token)).code);
    }
    assert.deepEqual(codes, [undefined, undefined, undefined, 'RATE_LIMITED']);
  });
});
