/**
 * A node whose providers come from its settings alone (no test doubles): FCM credentials and
 * a webhook secret turn those providers on, the worker runs on its own timer, and offline
 * devices' pushes reach local services that check the real requests (the OAuth assertion and
 * bearer token for FCM, the HMAC signature for the webhook). No message content travels.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChatKind } from '@parley/sdk';
import type { DeviceId } from '../src/ports/types.js';
import { startNode, type TestNode } from './harness.js';
import { closeWatched, newUser, text, until, watch } from './sdk-helpers.js';
import {
  type FcmTestServer,
  startFcmServer,
  startWebhookServer,
  type WebhookTestServer,
} from './support/push-servers/index.js';

const SECRET = 'a-webhook-secret-of-at-least-32-characters';

describe('push providers from the node settings', () => {
  let t: TestNode;
  let fcm: FcmTestServer;
  let hook: WebhookTestServer;

  before(async () => {
    fcm = await startFcmServer();
    hook = await startWebhookServer({ secret: SECRET });
    t = await startNode({
      pushFcmServiceAccount: fcm.serviceAccountJson,
      pushFcmBaseUrl: fcm.url,
      pushWebhookSecret: SECRET,
      pushWebhookOrigins: hook.url,
      pushAllowInsecureUrls: true,
      pushCoalesceMs: 50,
      pushPollMs: 50,
    });
  });
  after(async () => {
    await closeWatched();
    await t.stop();
    await Promise.all([fcm.close(), hook.close()]);
  });

  it('the worker is on, and offline devices get one push each through FCM and a webhook', async () => {
    assert.equal(t.node.push.enabled, true, 'configured providers turn the worker on');
    const alice = watch(await newUser(t));
    const bobCreds = await newUser(t);
    const carolCreds = await newUser(t);
    const bob = watch(bobCreds);
    const carol = watch(carolCreds);
    await Promise.all([alice.client.connect(), bob.client.connect(), carol.client.connect()]);
    await bob.client.registerPush({ platform: 'fcm', token: 'bob-fcm-token:APA91b' });
    await carol.client.registerPush({ platform: 'webhook', url: hook.hookUrl('carol') });
    const toBob = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bobCreds.userId] });
    const toCarol = await alice.client.createChat({
      kind: ChatKind.DIRECT,
      memberUserIds: [carolCreds.userId],
    });
    await Promise.all([bob.client.close(), carol.client.close()]);
    await until(
      () =>
        !t.node.hub.get(bobCreds.deviceId as DeviceId) && !t.node.hub.get(carolCreds.deviceId as DeviceId),
      'bob and carol are offline',
    );
    await alice.client.send(toBob.id, text('secret words for bob'));
    await alice.client.send(toCarol.id, text('secret words for carol'));
    await until(() => fcm.received.length >= 1 && hook.received.length >= 1, 'both pushes arrived', 30_000);
    assert.deepEqual([fcm.problems, hook.problems], [[], []], 'every request passed the checks');
    const f = fcm.received[0]!;
    assert.equal(f.token, 'bob-fcm-token:APA91b');
    assert.equal(f.message.data.chatId, toBob.id);
    const w = hook.received[0]!;
    assert.equal(w.token, 'carol');
    assert.equal(w.body.chatId, toCarol.id);
    assert.equal(w.body.deviceId, carolCreds.deviceId);
    const wire = JSON.stringify([fcm.received, hook.received]);
    assert.ok(!wire.includes('secret words'), 'no message content in a push');
  });
});
