import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParleyError } from '@parley/protocol';
import {
  startApnsServer,
  startFcmServer,
  startWebhookServer,
  startWebPushServer,
  testApnsKey,
} from '../../../test/support/push-servers/index.js';
import { ManualClock } from '../../ports/clock.js';
import { testPayload } from '../../ports/push.contract.js';
import type { PushTarget } from '../../ports/push.js';
import { type PushProvidersConfig, pushProviderDescriptions, pushProvidersConfigSchema } from './config.js';
import { createPushProviders } from './create-push.js';
import { silentLog } from './test-helpers.js';
import { generateVapidKeys } from './webpush/vapid.js';

const deps = { log: silentLog(), clock: new ManualClock(Date.now()) };
const parse = (input: Record<string, unknown>): PushProvidersConfig => pushProvidersConfigSchema.parse(input);
const refusal = (input: Record<string, unknown>, re: RegExp) =>
  assert.throws(
    () => createPushProviders(parse(input), deps),
    (e: unknown) => e instanceof ParleyError && e.code === 'INVALID_ARGUMENT' && re.test(e.message),
  );

describe('the push providers a config turns on', () => {
  it('are none by default', () => {
    assert.equal(createPushProviders(parse({}), deps).size, 0);
  });

  it('send through each provider to its local service, configured by settings alone', async () => {
    const key = testApnsKey();
    const apns = await startApnsServer(key);
    const fcm = await startFcmServer();
    const vapid = generateVapidKeys();
    const web = await startWebPushServer({ vapidPublicKey: vapid.publicKey });
    const secret = 's'.repeat(40);
    const hook = await startWebhookServer({ secret });
    const providers = createPushProviders(
      parse({
        pushTimeoutMs: '2000',
        pushApnsKeyId: key.keyId,
        pushApnsTeamId: key.teamId,
        pushApnsKey: key.pem,
        pushApnsHost: apns.url,
        pushFcmServiceAccount: fcm.serviceAccountJson,
        pushFcmBaseUrl: fcm.url,
        pushVapidPublicKey: vapid.publicKey,
        pushVapidPrivateKey: vapid.privateKey,
        pushVapidSubject: 'https://parley.example/contact',
        pushWebhookSecret: secret,
        pushAllowInsecureUrls: 'true',
      }),
      { ...deps, apnsCa: apns.cert },
    );
    const sub = web.subscribe();
    const targets: PushTarget[] = [
      { platform: 'apns', token: 'aa11', topic: 'org.parley.app', sandbox: false },
      { platform: 'fcm', token: 'fcm-1' },
      { platform: 'webpush', endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth },
      { platform: 'webhook', url: hook.hookUrl('h1') },
    ];
    try {
      assert.deepEqual([...providers.keys()].sort(), ['apns', 'fcm', 'webhook', 'webpush']);
      for (const t of targets) {
        const outcome = await providers.get(t.platform)!.send(t, testPayload());
        assert.equal(outcome.kind, 'sent', `${t.platform}: ${JSON.stringify(outcome)}`);
      }
      for (const s of [apns, fcm, web, hook]) {
        assert.equal(s.received.length, 1);
        assert.deepEqual(s.problems, []);
      }
    } finally {
      await Promise.all([...providers.values()].map((p) => p.close()));
      await Promise.all([apns, fcm, web, hook].map((s) => s.close()));
    }
  });

  it('use generated VAPID keys when none are configured', () => {
    const providers = createPushProviders(parse({ pushVapidSubject: 'mailto:ops@parley.example' }), {
      ...deps,
      vapidKeys: generateVapidKeys(),
    });
    assert.deepEqual([...providers.keys()], ['webpush']);
  });

  it('stop the start when a provider is half configured, naming the missing settings', () => {
    refusal(
      { pushApnsKeyId: 'ABC123DEFG' },
      /pushApnsTeamId \(--push-apns-team-id \/ PARLEY_PUSH_APNS_TEAM_ID\)/,
    );
    const key = testApnsKey();
    refusal(
      { pushApnsKeyId: key.keyId, pushApnsTeamId: key.teamId, pushApnsKey: 'nope' },
      /pushApnsKey .*EC P-256/,
    );
    refusal({ pushFcmServiceAccount: '{"type":"service_account"}' }, /pushFcmServiceAccount.*project_id/);
    const vapid = generateVapidKeys();
    refusal({ pushVapidPublicKey: vapid.publicKey }, /pushVapidPrivateKey/);
    refusal(
      { pushVapidPublicKey: vapid.publicKey, pushVapidPrivateKey: vapid.privateKey },
      /pushVapidSubject/,
    );
  });

  it('never put a secret in a refusal', () => {
    const key = testApnsKey();
    const secretPart = key.pem.split('\n')[1]!;
    try {
      createPushProviders(
        parse({ pushApnsKeyId: key.keyId, pushApnsTeamId: key.teamId, pushApnsKey: key.pem.slice(0, 80) }),
        deps,
      );
      assert.fail('accepted a broken key');
    } catch (e) {
      assert.ok(!(e as Error).message.includes(secretPart.slice(0, 20)));
    }
  });

  it('are described, every setting', () => {
    for (const k of Object.keys(pushProvidersConfigSchema.shape)) {
      assert.ok((pushProviderDescriptions as Record<string, string>)[k]?.length, k);
    }
    assert.equal(pushProvidersConfigSchema.safeParse({ pushWebhookSecret: 'short' }).success, false);
    assert.equal(pushProvidersConfigSchema.safeParse({ pushApnsHost: 'https://x/path' }).success, false);
  });
});
