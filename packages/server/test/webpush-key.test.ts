/**
 * GET /v1/push/webpush-key: the VAPID public key a browser subscribes to Web Push with, to
 * anyone (it is public), the same key the node signs its pushes with; NOT_FOUND on a node
 * without Web Push.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateVapidKeys } from '../src/adapters/push/webpush/vapid.js';
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
