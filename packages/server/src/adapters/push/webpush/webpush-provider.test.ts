import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebPushServer, type WebPushTestServer } from '../../../../test/support/push-servers/index.js';
import { ManualClock } from '../../../ports/clock.js';
import { pushProviderContract, testPayload } from '../../../ports/push.contract.js';
import type { PushTarget } from '../../../ports/push.js';
import { closedPort, silentLog } from '../test-helpers.js';
import { generateVapidKeys } from './vapid.js';
import { type WebPushOptions, WebPushProvider } from './webpush-provider.js';

const vapid = generateVapidKeys();

function provider(over: Partial<WebPushOptions> = {}) {
  return new WebPushProvider({
    vapid,
    subject: 'mailto:ops@parley.example',
    timeoutMs: 600,
    ttlSeconds: 3600,
    allowPrivate: true,
    clock: new ManualClock(Date.now()),
    log: silentLog(),
    ...over,
  });
}

const targetOf = (s: { endpoint: string; p256dh: string; auth: string }): PushTarget => ({
  platform: 'webpush',
  endpoint: s.endpoint,
  p256dh: s.p256dh,
  auth: s.auth,
});

pushProviderContract('Web Push', async (log) => {
  const server = await startWebPushServer({ vapidPublicKey: vapid.publicKey });
  const p = provider({ log });
  return {
    provider: p,
    timeoutMs: 600,
    server,
    target: () => {
      const s = server.subscribe();
      return { token: s.token, target: targetOf(s) };
    },
    previewOf: (r) => server.received.find((x) => x === r)?.payload.preview as string | undefined,
    previewFits: 2900,
    previewTooBig: 3100,
    unreachable: async () => {
      const s = server.subscribe();
      const port = await closedPort();
      return {
        provider: provider({ log }),
        target: targetOf({ ...s, endpoint: `http://127.0.0.1:${port}/push/x` }),
      };
    },
    close: async () => {
      await p.close();
      await server.close();
    },
  };
});

describe('Web Push with VAPID and aes128gcm', () => {
  let server: WebPushTestServer;
  before(async () => {
    server = await startWebPushServer({ vapidPublicKey: vapid.publicKey });
  });
  after(() => server.close());
  const lastFor = (token: string) => server.received.filter((r) => r.token === token).at(-1)!;

  it('sends a payload only the subscription can decrypt, with TTL, high urgency and the topic', async () => {
    const s = server.subscribe();
    const outcome = await provider().send(targetOf(s), testPayload({ preview: 'c2VjcmV0' }));
    assert.equal(outcome.kind, 'sent');
    assert.equal(outcome.status, 201);
    const r = lastFor(s.token);
    assert.deepEqual(r.payload, {
      kind: 'message',
      chatId: 'chat-1',
      count: 2,
      badge: 5,
      alert: true,
      preview: 'c2VjcmV0',
    });
    assert.deepEqual(r.headers, {
      ttl: '3600',
      urgency: 'high',
      topic: 'chat-1',
      contentEncoding: 'aes128gcm',
    });
    assert.equal(r.vapid.aud, server.url);
    assert.equal(r.vapid.sub, 'mailto:ops@parley.example');
    assert.deepEqual(server.problems, []);
  });

  it('sends a silent push with low urgency, and a topic within 32 URL-safe characters for any collapse id', async () => {
    const s = server.subscribe();
    await provider().send(
      targetOf(s),
      testPayload({ alert: false, collapseId: 'chat:with/odd+chars-and-a-long-id-000000' }),
    );
    const r = lastFor(s.token);
    assert.equal(r.headers.urgency, 'low');
    assert.match(r.headers.topic ?? '', /^[A-Za-z0-9_-]{32}$/);
    assert.equal(r.payload.alert, false);
  });

  it('maps 404 to invalid-token, 413 to rejected, and keys no browser would make to invalid-token', async () => {
    const p = provider();
    const gone = server.subscribe();
    server.setAnswer(gone.token, { kind: 'bad-token' });
    assert.deepEqual(await p.send(targetOf(gone), testPayload()), {
      kind: 'invalid-token',
      status: 404,
      reason: 'Not Found',
    });
    const big = server.subscribe();
    server.setAnswer(big.token, { kind: 'status', status: 413 });
    assert.deepEqual(await p.send(targetOf(big), testPayload()), {
      kind: 'rejected',
      status: 413,
      reason: 'payload too large',
    });
    const broken = server.subscribe();
    const outcome = await p.send(targetOf({ ...broken, p256dh: 'AAAA' }), testPayload());
    assert.deepEqual(outcome, { kind: 'invalid-token', status: 0, reason: 'bad subscription keys' });
  });

  it('refuses endpoints on private addresses unless allowed', async () => {
    const p = provider({ allowPrivate: false });
    for (const endpoint of [
      'http://127.0.0.1:9/push/x',
      'https://[::1]/push/x',
      'https://10.1.2.3/x',
      'http://localhost:9/x',
    ]) {
      const s = server.subscribe();
      const outcome = await p.send(targetOf({ ...s, endpoint }), testPayload());
      assert.deepEqual(outcome, { kind: 'rejected', status: 0, reason: 'private address refused' }, endpoint);
    }
  });

  it('will not start with a VAPID public key that is not the private key’s', () => {
    const other = generateVapidKeys();
    assert.throws(
      () => provider({ vapid: { publicKey: other.publicKey, privateKey: vapid.privateKey } }),
      /does not belong/,
    );
  });
});
