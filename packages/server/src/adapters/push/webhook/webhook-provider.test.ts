import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebhookServer, type WebhookTestServer } from '../../../../test/support/push-servers/index.js';
import { ManualClock } from '../../../ports/clock.js';
import { pushProviderContract, testPayload } from '../../../ports/push.contract.js';
import { closedPort, silentLog } from '../test-helpers.js';
import { isPrivateAddress } from './address-guard.js';
import { type WebhookPushOptions, WebhookPushProvider } from './webhook-provider.js';

const secret = 'a-webhook-secret-of-at-least-32-characters';
let n = 0;
const newId = () => `relay-${++n}`;

function provider(over: Partial<WebhookPushOptions> = {}) {
  return new WebhookPushProvider({
    secret,
    timeoutMs: 600,
    allowPrivate: true,
    clock: new ManualClock(Date.now()),
    log: silentLog(),
    ...over,
  });
}

pushProviderContract('Webhook', async (log) => {
  const server = await startWebhookServer({ secret });
  const p = provider({ log });
  return {
    provider: p,
    timeoutMs: 600,
    server,
    target: () => {
      const token = newId();
      return { token, target: { platform: 'webhook', url: server.hookUrl(token), token: `opaque-${token}` } };
    },
    previewOf: (r) => (server.received.find((x) => x === r)?.body.preview as string | null) ?? undefined,
    previewFits: 3500,
    previewTooBig: 4100,
    unreachable: async () => ({
      provider: provider({ log }),
      target: { platform: 'webhook', url: `http://127.0.0.1:${await closedPort()}/hook/x` },
    }),
    close: async () => {
      await p.close();
      await server.close();
    },
  };
});

describe('webhook pushes to an operator relay', () => {
  let server: WebhookTestServer;
  before(async () => {
    server = await startWebhookServer({ secret });
  });
  after(() => server.close());

  it('posts the documented JSON, signed over the timestamp and body', async () => {
    const clock = new ManualClock(Date.now());
    const id = newId();
    const outcome = await provider({ clock }).send(
      { platform: 'webhook', url: server.hookUrl(id), token: 'relay-token-1' },
      testPayload({ preview: 'c2VjcmV0' }),
    );
    assert.deepEqual(outcome, { kind: 'sent', status: 204 });
    const r = server.received.find((x) => x.token === id)!;
    assert.equal(r.timestamp, Math.floor(clock.now() / 1000));
    assert.deepEqual(r.body, {
      type: 'message',
      deviceId: 'dev-1',
      userId: 'user-1',
      chatId: 'chat-1',
      count: 2,
      badge: 5,
      alert: true,
      preview: 'c2VjcmV0',
      token: 'relay-token-1',
    });
    assert.deepEqual(server.problems, []);
  });

  it('is refused by a relay with another secret (the relay can tell a forgery)', async () => {
    const id = newId();
    const outcome = await provider({ secret: 'another-secret-that-is-32-characters-long' }).send(
      { platform: 'webhook', url: server.hookUrl(id) },
      testPayload(),
    );
    assert.deepEqual(outcome, { kind: 'rejected', status: 401, reason: 'HTTP 401' });
    assert.deepEqual(server.problems.splice(0), ['signature does not verify']);
  });

  it('refuses loopback, private and link-local URLs unless allowed', async () => {
    const p = provider({ allowPrivate: false });
    for (const url of [
      server.hookUrl('x'),
      'http://10.0.0.8/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[fd00::1]/hook',
      `http://localhost:${new URL(server.url).port}/hook/x`,
    ]) {
      assert.deepEqual(
        await p.send({ platform: 'webhook', url }, testPayload()),
        { kind: 'rejected', status: 0, reason: 'private address refused' },
        url,
      );
    }
    assert.equal(server.received.filter((r) => r.token === 'x').length, 0);
    assert.equal(isPrivateAddress('93.184.216.34'), false);
    assert.equal(isPrivateAddress('2606:2800:220:1::1'), false);
  });

  it('turns an unexpected failure into a retry instead of throwing', async () => {
    const broken = {
      now: (): number => {
        throw new TypeError('clock failed');
      },
    };
    const outcome = await provider({ clock: broken }).send(
      { platform: 'webhook', url: server.hookUrl(newId()) },
      testPayload(),
    );
    assert.deepEqual(outcome, { kind: 'retry', status: 0, reason: 'internal error' });
  });
});
