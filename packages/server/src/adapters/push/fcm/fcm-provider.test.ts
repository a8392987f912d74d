import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FcmTestServer, startFcmServer } from '../../../../test/support/push-servers/index.js';
import { ManualClock } from '../../../ports/clock.js';
import { pushProviderContract, testPayload } from '../../../ports/push.contract.js';
import { closedPort, silentLog } from '../test-helpers.js';
import { type FcmOptions, FcmProvider } from './fcm-provider.js';

let n = 0;
const newToken = () => `fcm-token-${++n}:APA91b${'x'.repeat(40)}`;

function provider(server: FcmTestServer, over: Partial<FcmOptions> = {}) {
  return new FcmProvider({
    serviceAccount: server.serviceAccountJson,
    baseUrl: server.url,
    timeoutMs: 600,
    ttlSeconds: 3600,
    clock: new ManualClock(Date.now()),
    log: silentLog(),
    ...over,
  });
}

pushProviderContract('FCM', async (log) => {
  const server = await startFcmServer();
  const p = provider(server, { log });
  return {
    provider: p,
    timeoutMs: 600,
    server,
    target: () => {
      const token = newToken();
      return { token, target: { platform: 'fcm', token } };
    },
    previewOf: (r) => server.received.find((x) => x === r)?.message.data.preview,
    previewFits: 3500,
    previewTooBig: 4100,
    unreachable: async () => ({
      provider: provider(server, { baseUrl: `http://127.0.0.1:${await closedPort()}`, log }),
      target: { platform: 'fcm', token: newToken() },
    }),
    close: async () => {
      await p.close();
      await server.close();
    },
  };
});

describe('FCM HTTP v1 with a service account', () => {
  let server: FcmTestServer;
  before(async () => {
    server = await startFcmServer();
  });
  after(() => server.close());
  const lastFor = (token: string) => server.received.filter((r) => r.token === token).at(-1)!;

  it('sends a high-priority data message with the collapse key, and an apns block for iOS', async () => {
    const p = provider(server);
    const token = newToken();
    const outcome = await p.send({ platform: 'fcm', token }, testPayload({ preview: 'c2VjcmV0' }));
    assert.equal(outcome.kind, 'sent');
    assert.match(
      outcome.kind === 'sent' ? (outcome.providerId ?? '') : '',
      /^projects\/parley-test\/messages\//,
    );
    const m = lastFor(token).message;
    assert.deepEqual(m.data, {
      kind: 'message',
      chatId: 'chat-1',
      count: '2',
      badge: '5',
      alert: '1',
      preview: 'c2VjcmV0',
    });
    assert.deepEqual(m.android, { priority: 'high', ttl: '3600s', collapse_key: 'chat-1' });
    assert.equal(m.notification, undefined, 'a data message: the app draws the notification');
    assert.equal(m.apns?.headers['apns-push-type'], 'alert');
    assert.deepEqual(server.problems, []);
  });

  it('sends a silent push at normal priority with no alert', async () => {
    const p = provider(server);
    const token = newToken();
    await p.send({ platform: 'fcm', token }, testPayload({ alert: false }));
    const m = lastFor(token).message;
    assert.equal(m.android.priority, 'normal');
    assert.equal(m.data.alert, '0');
    assert.deepEqual(m.apns?.payload.aps, { 'content-available': 1 });
    assert.equal(m.apns?.headers['apns-priority'], '5');
  });

  it('maps 400 INVALID_ARGUMENT on message.token to invalid-token', async () => {
    const p = provider(server);
    const token = newToken();
    server.setAnswer(token, { kind: 'bad-token' });
    assert.deepEqual(await p.send({ platform: 'fcm', token }, testPayload()), {
      kind: 'invalid-token',
      status: 400,
      reason: 'INVALID_ARGUMENT',
    });
  });

  it('gets one access token for many sends and a new one shortly before it expires', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const p = provider(server, { clock });
    const before = server.tokensIssued;
    await Promise.all([1, 2, 3].map(() => p.send({ platform: 'fcm', token: newToken() }, testPayload())));
    assert.equal(server.tokensIssued - before, 1, 'one exchange for three concurrent sends');
    clock.advance(54 * 60_000);
    await p.send({ platform: 'fcm', token: newToken() }, testPayload());
    assert.equal(server.tokensIssued - before, 1);
    clock.advance(60_000);
    await p.send({ platform: 'fcm', token: newToken() }, testPayload());
    assert.equal(server.tokensIssued - before, 2, 'renewed five minutes before expires_in');
    assert.deepEqual(server.problems, []);
  });

  it('fetches a new access token after a 401 and tries once more', async () => {
    const p = provider(server);
    await p.send({ platform: 'fcm', token: newToken() }, testPayload());
    const before = server.tokensIssued;
    const token = newToken();
    server.setAnswer(token, { kind: 'auth-expired-once' });
    assert.equal((await p.send({ platform: 'fcm', token }, testPayload())).kind, 'sent');
    assert.equal(server.tokensIssued - before, 1);
    const tries = server.received.filter((r) => r.token === token);
    assert.equal(tries.length, 2);
    assert.notEqual(tries[0]!.bearer, tries[1]!.bearer);
  });

  it('rejects when the access token is refused twice, without a third try', async () => {
    const p = provider(server);
    const token = newToken();
    server.setAnswer(token, { kind: 'status', status: 401, body: '{"error":{"status":"UNAUTHENTICATED"}}' });
    const outcome = await p.send({ platform: 'fcm', token }, testPayload());
    assert.deepEqual(outcome, { kind: 'rejected', status: 401, reason: 'UNAUTHENTICATED' });
    assert.equal(server.received.filter((r) => r.token === token).length, 2);
  });

  it('rejects every push while the token endpoint refuses the service account', async () => {
    const other = await startFcmServer();
    // The key of one service account, the token URL of another server: the assertion does not verify.
    const account = JSON.parse(server.serviceAccountJson);
    account.token_uri = `${other.url}/token`;
    const p = provider(other, { serviceAccount: JSON.stringify(account) });
    const outcome = await p.send({ platform: 'fcm', token: newToken() }, testPayload());
    assert.deepEqual(outcome, { kind: 'rejected', status: 400, reason: 'token endpoint refused (HTTP 400)' });
    assert.equal(other.received.length, 0);
    assert.equal(other.problems.length, 1);
    await other.close();
  });

  it('refuses a service account that is not one, naming the field and never the key', () => {
    const account = JSON.parse(server.serviceAccountJson);
    assert.throws(() => provider(server, { serviceAccount: '{' }), /not JSON/);
    assert.throws(
      () => provider(server, { serviceAccount: JSON.stringify({ ...account, client_email: 'nope' }) }),
      (e: Error) => /client_email/.test(e.message) && !e.message.includes('PRIVATE KEY'),
    );
    assert.throws(
      () => provider(server, { serviceAccount: JSON.stringify({ ...account, private_key: 'x' }) }),
      /private_key/,
    );
  });

  it('asks for a retry while the token endpoint cannot be reached', async () => {
    const p = provider(server, { tokenUrl: `http://127.0.0.1:${await closedPort()}/token` });
    assert.deepEqual(await p.send({ platform: 'fcm', token: newToken() }, testPayload()), {
      kind: 'retry',
      status: 0,
      reason: 'token network error ECONNREFUSED',
    });
    await p.close();
  });
});
