import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type ApnsTestServer,
  startApnsServer,
  testApnsKey,
} from '../../../../test/support/push-servers/index.js';
import { ManualClock } from '../../../ports/clock.js';
import { pushProviderContract, testPayload } from '../../../ports/push.contract.js';
import type { PushTarget } from '../../../ports/push.js';
import { closedPort, silentLog } from '../test-helpers.js';
import { type ApnsOptions, ApnsProvider, loadApnsKey } from './apns-provider.js';

const key = testApnsKey();
let n = 0;
const newToken = () => `${(++n).toString(16).padStart(8, '0')}${'ab'.repeat(28)}`;
const apnsTarget = (
  token: string,
  over: Partial<Extract<PushTarget, { platform: 'apns' }>> = {},
): PushTarget => ({
  platform: 'apns',
  token,
  topic: 'org.parley.app',
  sandbox: false,
  ...over,
});

function provider(server: ApnsTestServer, over: Partial<ApnsOptions> = {}) {
  return new ApnsProvider({
    keyId: key.keyId,
    teamId: key.teamId,
    key: key.pem,
    host: server.url,
    sandboxHost: server.url,
    timeoutMs: 600,
    ttlSeconds: 3600,
    clock: new ManualClock(Date.now()),
    log: silentLog(),
    ca: server.cert,
    ...over,
  });
}

pushProviderContract('APNs', async (log) => {
  const server = await startApnsServer(key);
  const p = provider(server, { log });
  return {
    provider: p,
    timeoutMs: 600,
    server,
    target: () => {
      const token = newToken();
      return { token, target: apnsTarget(token) };
    },
    previewOf: (r) => (server.received.find((x) => x === r)?.body.preview as string | undefined) ?? undefined,
    previewFits: 3500,
    previewTooBig: 4100,
    unreachable: async () => {
      const port = await closedPort();
      return {
        provider: provider(server, { host: `https://127.0.0.1:${port}`, log }),
        target: apnsTarget(newToken()),
      };
    },
    close: async () => {
      await p.close();
      await server.close();
    },
  };
});

describe('APNs over HTTP/2 with token auth', () => {
  let server: ApnsTestServer;
  before(async () => {
    server = await startApnsServer(key);
  });
  after(() => server.close());
  const lastFor = (token: string) => server.received.filter((r) => r.token === token).at(-1)!;

  it('sends an alert to /3/device/<token> with the topic, type, priority, expiry and collapse id', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const p = provider(server, { clock });
    const token = newToken();
    const outcome = await p.send(apnsTarget(token), testPayload({ preview: 'c2VjcmV0' }));
    await p.close();
    assert.equal(outcome.kind, 'sent');
    assert.match(outcome.kind === 'sent' ? (outcome.providerId ?? '') : '', /^[0-9a-f-]{36}$/);
    const r = lastFor(token);
    assert.deepEqual(r.headers, {
      'apns-topic': 'org.parley.app',
      'apns-push-type': 'alert',
      'apns-priority': '10',
      'apns-expiration': String(1_800_000_000 + 3600),
      'apns-collapse-id': 'chat-1',
    });
    assert.deepEqual(r.body, {
      aps: { alert: { title: 'New message' }, badge: 5, sound: 'default', 'mutable-content': 1 },
      kind: 'message',
      chatId: 'chat-1',
      count: 2,
      badge: 5,
      preview: 'c2VjcmV0',
    });
    assert.equal(r.jwt.iat, 1_800_000_000);
    assert.deepEqual(server.problems, []);
  });

  it('sends a silent push as background, priority 5, content-available only, and a localized title when set', async () => {
    const p = provider(server, { alertLocKey: 'PUSH_NEW_MESSAGE' });
    const silent = newToken();
    const loud = newToken();
    assert.equal((await p.send(apnsTarget(silent), testPayload({ alert: false }))).kind, 'sent');
    assert.equal((await p.send(apnsTarget(loud), testPayload())).kind, 'sent');
    await p.close();
    const s = lastFor(silent);
    assert.equal(s.headers['apns-push-type'], 'background');
    assert.equal(s.headers['apns-priority'], '5');
    assert.deepEqual(s.body.aps, { 'content-available': 1 });
    assert.equal(s.body.badge, 5);
    assert.deepEqual(lastFor(loud).body.aps.alert, { 'title-loc-key': 'PUSH_NEW_MESSAGE' });
  });

  it('rings a call on the VoIP token with the .voip topic, and as an alert when the device has none', async () => {
    const p = provider(server);
    const token = newToken();
    const voip = newToken();
    await p.send(apnsTarget(token, { voipToken: voip }), testPayload({ kind: 'call' }));
    await p.send(apnsTarget(token), testPayload({ kind: 'call' }));
    await p.close();
    const v = lastFor(voip);
    assert.equal(v.headers['apns-topic'], 'org.parley.app.voip');
    assert.equal(v.headers['apns-push-type'], 'voip');
    assert.equal(v.headers['apns-expiration'], '0');
    const a = lastFor(token);
    assert.equal(a.headers['apns-push-type'], 'alert');
    assert.deepEqual(a.body.aps.alert, { title: 'Incoming call' });
  });

  it('maps 400 BadDeviceToken to invalid-token', async () => {
    const p = provider(server);
    const token = newToken();
    server.setAnswer(token, { kind: 'bad-token' });
    assert.deepEqual(await p.send(apnsTarget(token), testPayload()), {
      kind: 'invalid-token',
      status: 400,
      reason: 'BadDeviceToken',
    });
    await p.close();
  });

  it('reuses one signed JWT and one HTTP/2 connection, and signs a new JWT after 50 minutes', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const p = provider(server, { clock });
    const before = server.sessions;
    const tokens = [newToken(), newToken(), newToken()];
    await Promise.all(tokens.slice(0, 2).map((t) => p.send(apnsTarget(t), testPayload())));
    clock.advance(49 * 60_000);
    await p.send(apnsTarget(tokens[2]!), testPayload());
    const jwts = tokens.map((t) => lastFor(t).jwt.raw);
    assert.equal(new Set(jwts).size, 1, 'one JWT for the first 50 minutes');
    assert.equal(server.sessions - before, 1, 'one connection');
    assert.equal(p.sessions, 1);
    clock.advance(60_000);
    const later = newToken();
    await p.send(apnsTarget(later), testPayload());
    assert.notEqual(lastFor(later).jwt.raw, jwts[0]);
    assert.equal(lastFor(later).jwt.iat, 1_800_000_000 + 50 * 60);
    await p.close();
  });

  it('renews the JWT and tries once more on ExpiredProviderToken, but not within 20 minutes of the last', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const p = provider(server, { clock });
    await p.send(apnsTarget(newToken()), testPayload());
    clock.advance(10 * 60_000);
    const young = newToken();
    server.setAnswer(young, { kind: 'auth-expired-once' });
    assert.deepEqual(await p.send(apnsTarget(young), testPayload()), {
      kind: 'retry',
      status: 403,
      reason: 'ExpiredProviderToken',
      retryAfterMs: 10 * 60_000,
    });
    clock.advance(15 * 60_000);
    const old = newToken();
    server.setAnswer(old, { kind: 'auth-expired-once' });
    const outcome = await p.send(apnsTarget(old), testPayload());
    assert.equal(outcome.kind, 'sent');
    const tries = server.received.filter((r) => r.token === old);
    assert.equal(tries.length, 2);
    assert.notEqual(tries[0]!.jwt.raw, tries[1]!.jwt.raw);
    assert.equal(tries[1]!.jwt.iat, 1_800_000_000 + 25 * 60);
    await p.close();
  });

  it('opens a new connection after the server sends GOAWAY', async () => {
    const p = provider(server);
    await p.send(apnsTarget(newToken()), testPayload());
    const first = server.sessions;
    server.goaway();
    for (let i = 0; i < 100 && p.sessions > 0; i++) await new Promise((r) => setTimeout(r, 10));
    const token = newToken();
    assert.equal((await p.send(apnsTarget(token), testPayload())).kind, 'sent');
    assert.equal(server.sessions, first + 1);
    assert.equal(lastFor(token).session, first + 1);
    await p.close();
  });

  it('sends to the sandbox host for a sandbox registration', async () => {
    const port = await closedPort();
    const p = provider(server, { host: `https://127.0.0.1:${port}` });
    const outcome = await p.send(apnsTarget(newToken(), { sandbox: true }), testPayload());
    assert.equal(outcome.kind, 'sent');
    await p.close();
  });

  it('ends a send left in flight by close() as a retry with status 0, within a second or so', async () => {
    const p = provider(server, { timeoutMs: 10_000 });
    const token = newToken();
    server.setAnswer(token, { kind: 'hang' });
    const pending = p.send(apnsTarget(token), testPayload());
    while (!server.received.some((r) => r.token === token)) await new Promise((r) => setTimeout(r, 5));
    const started = performance.now();
    await p.close();
    const outcome = await pending;
    assert.equal(outcome.kind, 'retry');
    assert.equal(outcome.status, 0);
    assert.ok(performance.now() - started < 2500);
    assert.equal(
      (await p.send(apnsTarget(newToken()), testPayload())).kind,
      'retry',
      'a closed provider sends nothing',
    );
  });

  it('sends 500 pushes at once over one connection, each answered', async () => {
    const p = provider(server, { timeoutMs: 10_000 });
    const before = server.sessions;
    const tokens = Array.from({ length: 500 }, newToken);
    const outcomes = await Promise.all(tokens.map((t) => p.send(apnsTarget(t), testPayload())));
    assert.equal(outcomes.filter((o) => o.kind === 'sent').length, 500);
    assert.equal(server.sessions - before, 1);
    await p.close();
  });

  it('names the network error when the host refuses the connection', async () => {
    const p = provider(server, { host: `https://127.0.0.1:${await closedPort()}` });
    assert.deepEqual(await p.send(apnsTarget(newToken()), testPayload()), {
      kind: 'retry',
      status: 0,
      reason: 'network error ECONNREFUSED',
    });
    await p.close();
  });

  it('takes a .p8 key whose line breaks are written as \\n (one environment variable)', async () => {
    const p = provider(server, { key: key.pem.replace(/\n/g, '\\n') });
    assert.equal((await p.send(apnsTarget(newToken()), testPayload())).kind, 'sent');
    await p.close();
    assert.throws(
      () => loadApnsKey(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey),
      /P-256/,
    );
  });
});
