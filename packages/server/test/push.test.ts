/**
 * Push pipeline over real sockets, on SQLite and PostgreSQL: devices register, replace, move
 * and remove their push target through the SDK; a message committed for a registered device
 * that is not connected leaves one coalesced job in the store, which the worker (run by hand,
 * on an injected clock) sends through the provider, retries with backoff, dead-letters, or
 * drops when the device came online or received the messages first.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ChatKind, type Credentials, createLinkCode, linkDevice, removeDevice } from '@parley/sdk';
import { ManualClock } from '../src/ports/clock.js';
import { cursorList, type DeviceId, type UserId } from '../src/ports/types.js';
import { startNode, type TestNode } from './harness.js';
import { storeBackends } from './postgres-fixture.js';
import { closeWatched, newUser, text, until, watch } from './sdk-helpers.js';
import { PushRecorder } from './support/push-recorder.js';

const APNS_TOKEN = (n: number) => n.toString(16).padStart(64, '0');
const FCM = (n: number) => ({ platform: 'fcm' as const, token: `fcm-token-${n}:APA91b` });

async function metric(t: TestNode, line: string): Promise<number> {
  const body = await (await fetch(`${t.url}/metrics`)).text();
  const found = body.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

for (const backend of storeBackends('parley-push-')) {
  describe(`push pipeline (${backend.name})`, { skip: backend.skip ?? false }, () => {
    const clock = new ManualClock();
    const fcm = new PushRecorder('fcm');
    const apns = new PushRecorder('apns');
    let t: TestNode;
    let done: () => Promise<void>;
    let n = 0;
    /** Chats the alert hook treats as muted (what the mute feature decides in a deployment). */
    const muted = new Set<string>();
    const alertCalls: Array<{ chatId: string; mentioned: boolean }> = [];

    before(async () => {
      const opened = await backend.open();
      done = opened.done;
      t = await startNode(
        {
          pushEnabled: false, // the tests run the worker by hand
          pushCoalesceMs: 2000,
          pushMaxAttempts: 3,
          pushWebhookOrigins: 'https://relay.example.org',
        },
        {
          store: opened.store,
          clock,
          push: {
            providers: [fcm, apns],
            random: () => 0.5,
            alertFor: (_userId, chatId, mentioned) => {
              alertCalls.push({ chatId, mentioned });
              return mentioned || !muted.has(chatId);
            },
          },
        },
      );
    });
    afterEach(async () => {
      await closeWatched();
      fcm.reset();
      apns.reset();
    });
    after(async () => {
      await t.stop();
      await done();
    });

    /** Alice and Bob in a direct chat; Bob registered with a fresh FCM token and offline. */
    async function offlinePair(): Promise<{
      alice: ReturnType<typeof watch>;
      bob: Credentials;
      chatId: string;
    }> {
      const aliceCreds = await newUser(t);
      const bob = await newUser(t);
      const alice = watch(aliceCreds);
      const b = watch(bob);
      await Promise.all([alice.client.connect(), b.client.connect()]);
      await b.client.registerPush(FCM(++n));
      const chat = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bob.userId] });
      await b.client.close();
      await until(() => !t.node.hub.get(bob.deviceId as DeviceId), 'bob is offline on the node');
      return { alice, bob, chatId: chat.id };
    }

    it('registers, replaces, moves to another device and unregisters a token', async () => {
      const aCreds = await newUser(t);
      const bCreds = await newUser(t);
      const a = watch(aCreds);
      const b = watch(bCreds);
      await Promise.all([a.client.connect(), b.client.connect()]);
      assert.equal((await a.client.pushRegistration()).registered, false);
      const first = await a.client.registerPush(FCM(++n));
      assert.equal(first.registered, true);
      assert.equal(first.platform, 'fcm');
      assert.match(first.tokenHash, /^[0-9a-f]{12}$/);
      const token = APNS_TOKEN(++n);
      const replaced = await a.client.registerPush({
        platform: 'apns',
        token,
        topic: 'org.example.app',
        sandbox: true,
      });
      assert.equal(replaced.platform, 'apns');
      assert.deepEqual(await a.client.pushRegistration(), replaced);
      // Bob's device registers the same APNs token: it moves to Bob.
      const moved = await b.client.registerPush({
        platform: 'apns',
        token: token.toUpperCase(),
        topic: 'org.example.app',
      });
      assert.equal(moved.tokenHash, replaced.tokenHash, 'hex tokens compare without case');
      assert.equal((await a.client.pushRegistration()).registered, false);
      assert.equal(t.node.push.registry.has(aCreds.deviceId as DeviceId), false);
      assert.equal(t.node.push.registry.has(bCreds.deviceId as DeviceId), true);
      assert.equal((await b.client.unregisterPush()).registered, false);
      assert.equal((await b.client.pushRegistration()).registered, false);
      assert.equal(t.node.push.registry.has(bCreds.deviceId as DeviceId), false);
    });

    it('a removed device loses its registration, on the node and in the store', async () => {
      const primary = await newUser(t);
      const laptopCreds = await linkDevice(t.url, { code: (await createLinkCode(primary)).code });
      const laptop = watch(laptopCreds);
      await laptop.client.connect();
      await laptop.client.registerPush(FCM(++n));
      assert.equal(t.node.push.registry.has(laptopCreds.deviceId as DeviceId), true);
      await removeDevice(primary, laptopCreds.deviceId);
      await until(
        () => !t.node.push.registry.has(laptopCreds.deviceId as DeviceId),
        'the registry forgets it',
      );
      for (
        let i = 0;
        i < 100 && (await t.node.store.pushRegistrationGet(laptopCreds.deviceId as DeviceId));
        i++
      )
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(await t.node.store.pushRegistrationGet(laptopCreds.deviceId as DeviceId), undefined);
    });

    it('a platform without a provider dead-letters its jobs, saying so', async () => {
      const { alice, bob, chatId } = await offlinePair();
      const b = watch(bob);
      await b.client.connect();
      const p256dh = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 5)]).toString('base64url');
      await b.client.registerPush({
        platform: 'webpush',
        endpoint: `https://push.example.net/${++n}`,
        keys: { p256dh, auth: Buffer.alloc(16, 6).toString('base64url') },
      });
      await b.client.close();
      await until(() => !t.node.hub.get(bob.deviceId as DeviceId), 'bob is offline');
      await alice.client.send(chatId, text('x'));
      clock.advance(2000);
      assert.equal(await t.node.push.worker.runOnce(), 1);
      const [status] = (await t.node.store.pushStatus(bob.userId as UserId)).filter(
        (s) => s.deviceId === bob.deviceId,
      );
      assert.deepEqual(
        status!.deadLetters.map((d) => d.reason),
        ['no webpush provider is configured'],
      );
      assert.equal(status!.attempts[0]!.outcome, 'no-provider');
    });

    it('refuses malformed targets with INVALID_ARGUMENT naming the field', async () => {
      const a = watch(await newUser(t));
      await a.client.connect();
      const bad: Array<[Parameters<typeof a.client.registerPush>[0], RegExp]> = [
        [{ platform: 'apns', token: 'xyz', topic: 'org.example.app' }, /apns\.token/],
        [{ platform: 'apns', token: APNS_TOKEN(1), topic: 'bad topic' }, /apns\.topic/],
        [{ platform: 'fcm', token: '' }, /fcm\.token/],
        [{ platform: 'fcm', token: 'a b' }, /fcm\.token/],
        [
          { platform: 'webpush', endpoint: 'http://push.example.org/x', keys: { p256dh: 'AA', auth: 'AA' } },
          /webpush\.p256dh/,
        ],
        [
          {
            platform: 'webpush',
            endpoint: 'http://push.example.org/x',
            keys: {
              p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url'),
              auth: Buffer.alloc(16, 2).toString('base64url'),
            },
          },
          /webpush\.endpoint must be an https URL/,
        ],
        [
          {
            platform: 'webpush',
            endpoint: 'https://127.0.0.1/x',
            keys: {
              p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url'),
              auth: Buffer.alloc(16, 2).toString('base64url'),
            },
          },
          /private or loopback/,
        ],
        [{ platform: 'webhook', url: 'https://elsewhere.example.org/hook' }, /not on an origin/],
      ];
      for (const [target, message] of bad)
        await assert.rejects(a.client.registerPush(target), { code: 'INVALID_ARGUMENT', message });
      assert.equal((await a.client.pushRegistration()).registered, false, 'nothing was stored');
      const ok = await a.client.registerPush({
        platform: 'webhook',
        url: 'https://relay.example.org/hook',
        token: 'abc',
      });
      assert.equal(ok.platform, 'webhook');
    });

    it('an offline registered device gets exactly one push for three quick messages', async () => {
      const { alice, bob, chatId } = await offlinePair();
      const queuedBefore = await metric(t, 'parley_push_queued_total');
      for (const s of ['one', 'two', 'three']) await alice.client.send(chatId, text(s));
      assert.equal(await t.node.push.worker.runOnce(), 0, 'nothing is due within the coalesce window');
      clock.advance(1999);
      assert.equal(await t.node.push.worker.runOnce(), 0);
      clock.advance(1);
      assert.equal(await t.node.push.worker.runOnce(), 1);
      const got = fcm.to(bob.deviceId);
      assert.equal(got.length, 1);
      assert.deepEqual(
        { ...got[0]!.payload },
        {
          kind: 'message',
          deviceId: bob.deviceId,
          userId: bob.userId,
          chatId,
          messageCount: 3,
          badge: 3,
          alert: true,
          collapseId: chatId,
        },
      );
      assert.equal(got[0]!.target.platform, 'fcm');
      clock.advance(60_000);
      assert.equal(await t.node.push.worker.runOnce(), 0, 'the job is gone');
      assert.equal(fcm.to(bob.deviceId).length, 1);
      assert.equal((await metric(t, 'parley_push_queued_total')) - queuedBefore, 3);
      const [status] = (await t.node.store.pushStatus(bob.userId as UserId)).filter(
        (s) => s.deviceId === bob.deviceId,
      );
      assert.equal(status!.job, undefined);
      assert.equal(status!.attempts[0]!.outcome, 'sent');
    });

    it('the alert hook decides silent pushes, and a mention reaches it', async () => {
      const { alice, bob, chatId } = await offlinePair();
      muted.add(chatId);
      await alice.client.send(chatId, text('quiet'));
      clock.advance(2000);
      await t.node.push.worker.runOnce();
      await alice.client.send(chatId, text('hey @bob'), { mentions: [bob.userId] });
      await alice.client.send(chatId, text('and more'));
      clock.advance(2000);
      await t.node.push.worker.runOnce();
      assert.deepEqual(
        fcm.to(bob.deviceId).map((p) => [p.payload.alert, p.payload.messageCount]),
        [
          [false, 1],
          [true, 2],
        ],
      );
      assert.deepEqual(
        alertCalls.filter((c) => c.chatId === chatId).map((c) => c.mentioned),
        [false, true],
      );
    });

    it('a connected device gets no push job', async () => {
      const aliceCreds = await newUser(t);
      const bob = await newUser(t);
      const alice = watch(aliceCreds);
      const b = watch(bob);
      await Promise.all([alice.client.connect(), b.client.connect()]);
      await b.client.registerPush(FCM(++n));
      const chat = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bob.userId] });
      await alice.client.send(chat.id, text('hi'));
      await until(() => b.messages.length === 1, 'bob receives it live');
      const [status] = (await t.node.store.pushStatus(bob.userId as UserId)).filter(
        (s) => s.deviceId === bob.deviceId,
      );
      assert.equal(status!.job, undefined, 'no job was recorded');
      clock.advance(5000);
      await t.node.push.worker.runOnce();
      assert.equal(fcm.to(bob.deviceId).length, 0);
    });

    it('a device that connects before its push is due gets none', async () => {
      const { alice, bob, chatId } = await offlinePair();
      await alice.client.send(chatId, text('while you were away'));
      const [pending] = (await t.node.store.pushStatus(bob.userId as UserId)).filter(
        (s) => s.deviceId === bob.deviceId,
      );
      assert.equal(pending!.job?.messageCount, 1, 'a job waits');
      const b = watch(bob);
      await b.client.connect();
      await until(() => b.messages.length === 1, 'bob drains the message');
      clock.advance(2000);
      assert.equal(await t.node.push.worker.runOnce(), 1);
      assert.equal(fcm.to(bob.deviceId).length, 0, 'online: no push');
      const [status] = (await t.node.store.pushStatus(bob.userId as UserId)).filter(
        (s) => s.deviceId === bob.deviceId,
      );
      assert.equal(status!.job, undefined);
      assert.deepEqual([status!.attempts[0]!.outcome, status!.attempts[0]!.reason], ['dropped', 'online']);

      // Connected, drained, acked and gone again before the push was due: still none.
      await b.client.close();
      await until(() => !t.node.hub.get(bob.deviceId as DeviceId), 'bob is offline');
      await alice.client.send(chatId, text('again'));
      const back = watch(bob);
      await back.client.connect();
      await until(() => back.messages.some((m) => m.seq === 3), 'bob drains it');
      await back.client.close();
      await until(() => !t.node.hub.get(bob.deviceId as DeviceId), 'bob is offline again');
      const acked = async () => {
        const c = cursorList(await t.node.store.cursorsOf(bob.deviceId as DeviceId));
        return (c.find((x) => x.chatId === chatId)?.ackedSeq ?? 0) >= 3;
      };
      for (let i = 0; i < 200 && !(await acked()); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(await acked(), 'the ack reached the store');
      clock.advance(2000);
      assert.equal(await t.node.push.worker.runOnce(), 1);
      assert.equal(fcm.to(bob.deviceId).length, 0, 'delivered: no push');
      const [later] = (await t.node.store.pushStatus(bob.userId as UserId)).filter(
        (s) => s.deviceId === bob.deviceId,
      );
      assert.deepEqual([later!.attempts[0]!.outcome, later!.attempts[0]!.reason], ['dropped', 'delivered']);
    });

    it('retries with backoff honouring Retry-After, then sends', async () => {
      const { alice, bob, chatId } = await offlinePair();
      fcm.answer(
        { kind: 'retry', status: 429, reason: 'QUOTA_EXCEEDED', retryAfterMs: 5000 },
        { kind: 'retry', status: 503, reason: 'UNAVAILABLE' },
      );
      const failedBefore = await metric(t, 'parley_push_failed_total{platform="fcm",reason="retry"}');
      await alice.client.send(chatId, text('x'));
      clock.advance(2000);
      assert.equal(await t.node.push.worker.runOnce(), 1);
      // Retry-After 5 s beats the jittered first wait (0.5 * 1 s).
      clock.advance(4999);
      assert.equal(await t.node.push.worker.runOnce(), 0);
      clock.advance(1);
      assert.equal(await t.node.push.worker.runOnce(), 1);
      // Second retry: 0.5 * min(cap, 1 s * 2) = 1 s.
      clock.advance(999);
      assert.equal(await t.node.push.worker.runOnce(), 0);
      clock.advance(1);
      assert.equal(await t.node.push.worker.runOnce(), 1);
      assert.deepEqual(
        fcm.to(bob.deviceId).map((p) => p.outcome.kind),
        ['retry', 'retry', 'sent'],
      );
      assert.equal(
        (await metric(t, 'parley_push_failed_total{platform="fcm",reason="retry"}')) - failedBefore,
        2,
      );
    });

    it('an invalid token removes the registration', async () => {
      const { alice, bob, chatId } = await offlinePair();
      fcm.answer({ kind: 'invalid-token', status: 404, reason: 'UNREGISTERED' });
      await alice.client.send(chatId, text('x'));
      clock.advance(2000);
      assert.equal(await t.node.push.worker.runOnce(), 1);
      assert.equal(await t.node.store.pushRegistrationGet(bob.deviceId as DeviceId), undefined);
      assert.equal(t.node.push.registry.has(bob.deviceId as DeviceId), false);
      await alice.client.send(chatId, text('y'));
      const [status] = (await t.node.store.pushStatus(bob.userId as UserId)).filter(
        (s) => s.deviceId === bob.deviceId,
      );
      assert.equal(status!.job, undefined, 'no more jobs for the device');
      assert.equal(status!.attempts[0]!.outcome, 'invalid-token');
    });

    it('a job goes to the dead letters after N attempts and comes back with a retry', async () => {
      const { alice, bob, chatId } = await offlinePair();
      const retry = { kind: 'retry' as const, status: 500, reason: 'INTERNAL' };
      fcm.answer(retry, retry, retry);
      const deadBefore = await metric(t, 'parley_push_dead_lettered_total{platform="fcm"}');
      await alice.client.send(chatId, text('x'));
      for (let i = 0; i < 3; i++) {
        clock.advance(10 * 60_000);
        assert.equal(await t.node.push.worker.runOnce(), 1);
      }
      clock.advance(10 * 60_000);
      assert.equal(await t.node.push.worker.runOnce(), 0, 'nothing left to try');
      const [status] = (await t.node.store.pushStatus(bob.userId as UserId)).filter(
        (s) => s.deviceId === bob.deviceId,
      );
      assert.equal(status!.deadLetters.length, 1);
      assert.match(status!.deadLetters[0]!.reason, /gave up after 3 attempts: INTERNAL/);
      assert.equal((await metric(t, 'parley_push_dead_lettered_total{platform="fcm"}')) - deadBefore, 1);
      assert.equal(await t.node.store.pushDeadRetry(bob.userId as UserId, clock.now()), 1);
      assert.equal(await t.node.push.worker.runOnce(), 1);
      assert.deepEqual(
        fcm.to(bob.deviceId).map((p) => p.outcome.kind),
        ['retry', 'retry', 'retry', 'sent'],
      );
      const sent = await metric(t, 'parley_push_sent_total{platform="fcm"}');
      assert.ok(sent >= 1);
      assert.ok((await metric(t, 'parley_push_commit_to_answer_seconds_count{platform="fcm"}')) >= 4);
    });
  });
}

describe('push registration limits', () => {
  let t: TestNode;
  before(async () => {
    t = await startNode({ pushRegistrationsPerHour: 2 });
  });
  afterEach(() => closeWatched());
  after(() => t.stop());

  it('registrations and removals past the hourly limit are RATE_LIMITED', async () => {
    const a = watch(await newUser(t));
    await a.client.connect();
    await a.client.registerPush(FCM(1000));
    await a.client.unregisterPush();
    await assert.rejects(a.client.registerPush(FCM(1001)), { code: 'RATE_LIMITED' });
    assert.equal((await a.client.pushRegistration()).registered, false, 'reading is not limited');
  });
});

describe("push alerts follow the user's mutes", () => {
  const clock = new ManualClock();
  const fcm = new PushRecorder('fcm');
  let t: TestNode;
  before(async () => {
    t = await startNode({ pushEnabled: false }, { clock, push: { providers: [fcm] } });
  });
  afterEach(() => closeWatched());
  after(() => t.stop());

  it('a muted group is silent unless the message mentions the user', async () => {
    const aliceCreds = await newUser(t);
    const bob = await newUser(t);
    const alice = watch(aliceCreds);
    const b = watch(bob);
    await Promise.all([alice.client.connect(), b.client.connect()]);
    await b.client.registerPush(FCM(2000));
    const g = await alice.client.createChat({ kind: ChatKind.GROUP, memberUserIds: [bob.userId], name: 'g' });
    await b.client.mute(g.id, 'forever');
    await b.client.close();
    await until(() => !t.node.hub.get(bob.deviceId as DeviceId), 'bob is offline');
    const round = async (send: () => Promise<unknown>) => {
      await send();
      clock.advance(2000);
      await t.node.push.worker.runOnce();
      return fcm.to(bob.deviceId).at(-1)!.payload.alert;
    };
    assert.equal(await round(() => alice.client.send(g.id, text('quiet'))), false, 'muted');
    assert.equal(
      await round(() => alice.client.send(g.id, text('@bob'), { mentions: [bob.userId] })),
      true,
      'a mention breaks through the group mute',
    );
  });
});
