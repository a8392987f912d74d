/**
 * GET /v1/push/webpush-key: the VAPID public key a browser subscribes to Web Push with, to
 * anyone (it is public), the same key the node signs its pushes with (set, or made once by a
 * lone node in its data dir); NOT_FOUND on a node without Web Push.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateVapidKeys } from '../src/adapters/push/webpush/vapid.js';
import { VAPID_KEYS_FILE } from '../src/adapters/push/webpush/vapid-file.js';
import { startNode } from './harness.js';

describe('the Web Push key', () => {
  it('a node with Web Push answers its VAPID public key, without a token', async () => {
    const vapid = generateVapidKeys();
    const t = await startNode({
      pushVapidPublicKey: vapid.publicKey,
      pushVapidPrivateKey: vapid.privateKey,
      pushVapidSubject: 'mailto:ops@parley.example',
    });
    try {
      const res = await fetch(`${t.url}/v1/push/webpush-key`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = (await res.json()) as { publicKey: string };
      assert.deepEqual(body, { publicKey: vapid.publicKey });
      const point = Buffer.from(body.publicKey, 'base64url');
      assert.equal(point.length, 65, 'an uncompressed P-256 point, as applicationServerKey takes it');
      assert.equal(point[0], 4);
    } finally {
      await t.stop();
    }
  });

  it('a lone node given only a subject makes its pair in the data dir and answers the same key after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-vapid-node-'));
    try {
      const config = { dataDir, pushVapidSubject: 'mailto:ops@parley.example' };
      let t = await startNode(config);
      const key = (await (await fetch(`${t.url}/v1/push/webpush-key`)).json()) as { publicKey: string };
      const file = JSON.parse(readFileSync(join(dataDir, VAPID_KEYS_FILE), 'utf8')) as { publicKey: string };
      assert.equal(key.publicKey, file.publicKey);
      assert.equal(t.node.push.enabled, true, 'Web Push is on');
      await t.stop();
      t = await startNode(config);
      assert.deepEqual(await (await fetch(`${t.url}/v1/push/webpush-key`)).json(), key);
      await t.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a node without Web Push answers NOT_FOUND, saying so', async () => {
    const t = await startNode();
    try {
      const res = await fetch(`${t.url}/v1/push/webpush-key`);
      assert.equal(res.status, 404);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'NOT_FOUND');
      assert.equal(body.error.message, 'Web Push is not configured on this node');
    } finally {
      await t.stop();
    }
  });
});
