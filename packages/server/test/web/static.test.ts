/**
 * The node serves the built web client (packages/web/dist) at `/`: index.html revalidated on
 * each load with the strict Content-Security-Policy, hashed assets cached for a year, the right
 * content types, the service worker at /sw.js, index.html for page navigations to the app's own paths, and the API's JSON
 * errors unchanged. A node without a build, or with the client turned off, still starts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DEFAULT_WEB_DIR, WEB_CSP } from '../../src/gateway/web.js';
import { startNode, type TestNode } from '../harness.js';
import { rawExchange, request } from '../raw-http.js';

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('the web client served at /', () => {
  let t: TestNode;
  let index: Awaited<ReturnType<typeof get>>;
  before(async () => {
    t = await startNode();
    index = await get(`${t.url}/`, HTML);
  });
  after(() => t.stop());

  it('index.html: no-cache, the strict CSP, nosniff, no referrer', () => {
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.equal(index.headers.get('content-security-policy'), WEB_CSP);
    assert.match(WEB_CSP, /^default-src 'none'; script-src 'self'; style-src 'self';/);
    assert.match(WEB_CSP, / media-src blob:;/, 'a video to send is loaded from its blob: URL, nothing else');
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(index.headers.get('referrer-policy'), 'no-referrer');
    assert.ok(index.headers.get('etag'), 'revalidated by ETag');
    assert.match(index.text, /<div id="app"><\/div>/);
    // Nothing inline for the CSP to block, nothing from another origin.
    assert.doesNotMatch(index.text, /<script>|<style>|style="|https?:\/\//);
  });

  it('hashed assets: immutable for a year, with their content types', async () => {
    const assets = [...index.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), assets.join());
    for (const path of assets) {
      const r = await get(`${t.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable', path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(
        r.headers.get('content-type'),
        path.endsWith('.js') ? 'application/javascript; charset=utf-8' : 'text/css; charset=utf-8',
        path,
      );
    }
  });

  it('the JavaScript of the first load is within the 300 KB (gzip) budget', async () => {
    const scripts = [...index.text.matchAll(/<script[^>]+src="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
    assert.ok(scripts.length > 0);
    let compressed = 0;
    for (const path of scripts)
      compressed += gzipSync(Buffer.from(await (await fetch(`${t.url}${path}`)).arrayBuffer())).length;
    console.log(`# first-load JavaScript: ${(compressed / 1024).toFixed(1)} KB gzip`);
    assert.ok(compressed <= 300 * 1024, `${compressed} bytes`);
  });

  it('the service worker /sw.js: at the root, JavaScript, revalidated on each check, under the CSP', async () => {
    const sw = await get(`${t.url}/sw.js`);
    assert.equal(sw.status, 200);
    assert.equal(sw.headers.get('content-type'), 'application/javascript; charset=utf-8');
    assert.equal(sw.headers.get('cache-control'), 'no-cache');
    assert.equal(sw.headers.get('content-security-policy'), WEB_CSP);
    assert.match(WEB_CSP, /worker-src 'self'/);
    assert.equal(sw.headers.get('x-content-type-options'), 'nosniff');
    // One classic script: no import of a hashed chunk that a new build would remove.
    assert.doesNotMatch(sw.text, /^\s*import\b|\bimport\(/m);
    assert.match(sw.text, /addEventListener\(`push`|addEventListener\("push"|addEventListener\('push'/);
  });

  it('a page navigation to an unknown app path gets index.html; the API and other requests keep JSON errors', async () => {
    const page = await get(`${t.url}/chats/c_123?x=1`, HTML);
    assert.equal(page.status, 200);
    assert.equal(page.text, index.text);
    assert.equal(page.headers.get('content-security-policy'), WEB_CSP);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    for (const [path, headers] of [
      ['/chats/c_123', {}],
      ['/assets/missing-0000.js', {}],
      ['/v1/nope', HTML],
      ['/v1', HTML],
    ] as const) {
      const r = await get(`${t.url}${path}`, headers);
      assert.equal(r.status, 404, path);
      assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8', path);
      assert.equal(JSON.parse(r.text).error.code, 'NOT_FOUND', path);
    }
    const post = await fetch(`${t.url}/chats`, { method: 'POST', headers: HTML });
    assert.equal(post.status, 404);
    assert.equal(((await post.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
    // The API answers as before.
    const health = await get(`${t.url}/healthz`, HTML);
    assert.deepEqual(JSON.parse(health.text), { status: 'ok' });
  });

  it('no path reaches a file outside the build or a dot file', async () => {
    const port = Number(new URL(t.url).port);
    for (const target of [
      '/../package.json',
      '/assets/../../package.json',
      '/%2e%2e/package.json',
      '/.env',
    ]) {
      const a = await rawExchange(port, [request('GET', target)]);
      assert.equal(a.status, 404, target);
      assert.equal(JSON.parse(a.body).error.code, 'NOT_FOUND', target);
    }
  });
});

describe('a node without the web client', () => {
  it('without a build, / answers NOT_FOUND saying how to build it, and the API works', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'parley-noweb-'));
    const t = await startNode({ webDir: empty });
    try {
      const r = await get(`${t.url}/`, HTML);
      assert.equal(r.status, 404);
      const body = JSON.parse(r.text);
      assert.equal(body.error.code, 'NOT_FOUND');
      assert.match(body.error.message, /web client is not built: run npm run build/);
      assert.doesNotMatch(body.error.message, new RegExp(empty), 'no server path is shown');
      assert.equal((await get(`${t.url}/some/page`, HTML)).status, 404);
      assert.equal((await get(`${t.url}/healthz`)).status, 200);
    } finally {
      await t.stop();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('turned off, / is an unknown path like any other', async () => {
    const t = await startNode({ webClient: false });
    try {
      const r = await get(`${t.url}/`, HTML);
      assert.equal(r.status, 404);
      assert.equal(JSON.parse(r.text).error.message, 'no route for GET /');
    } finally {
      await t.stop();
    }
  });

  it('the default directory is packages/web/dist', () => {
    assert.match(DEFAULT_WEB_DIR, /packages\/web\/dist$/);
  });
});
