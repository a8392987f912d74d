import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Registry } from 'prom-client';
import { createLogger } from '../log.js';
import type { PushOutcome, PushPayload, PushProvider, PushTarget } from '../ports/push.js';
import type { ChatId, DeviceId, UserId } from '../ports/types.js';
import { sendCallPushes } from './call-push.js';
import { PushMetrics } from './metrics.js';

const d = (id: string) => id as DeviceId;

function setup(outcome: PushOutcome, opts: { online?: string[]; alert?: boolean } = {}) {
  const sent: PushPayload[] = [];
  const forgotten: string[] = [];
  const provider: PushProvider = {
    platform: 'fcm',
    async send(_target: PushTarget, payload: PushPayload) {
      sent.push(payload);
      return outcome;
    },
    async close() {},
  };
  const deps = {
    store: {
      pushRegistrationGet: async (deviceId: DeviceId) => ({
        deviceId,
        userId: 'u_bob' as UserId,
        platform: 'fcm' as const,
        tokenKey: `fcm:${deviceId}`,
        target: { platform: 'fcm' as const, token: `tok-${deviceId}` },
        createdAt: 0,
        updatedAt: 0,
      }),
      chatSummaries: async () => [{ unreadCount: 2 }, { unreadCount: 3 }] as never,
    },
    registry: { has: (id: DeviceId) => id !== d('d_unregistered') },
    providers: new Map([['fcm' as const, provider]]),
    metrics: new PushMetrics(new Registry()),
    log: createLogger('silent'),
    online: async () => new Set((opts.online ?? []).map(d)),
    alertFor: async () => opts.alert ?? true,
    forget: (id: DeviceId) => void forgotten.push(id),
  };
  const call = {
    callId: 'call-1',
    chatId: 'c_1' as ChatId,
    calleeUserId: 'u_bob' as UserId,
    deviceIds: [d('d_phone'), d('d_tablet'), d('d_unregistered')],
  };
  return { deps, call, sent, forgotten };
}

it('pushes each registered device that is connected nowhere, with the badge and the call as collapse id', async () => {
  const s = setup({ kind: 'sent', status: 200 }, { online: ['d_phone'] });
  await sendCallPushes(s.deps, s.call);
  assert.deepEqual(
    s.sent.map((p) => [p.kind, p.deviceId, p.chatId, p.collapseId, p.badge, p.alert, p.messageCount]),
    [['call', 'd_tablet', 'c_1', 'call-1', 5, true, 0]],
  );
});

it('a token the provider calls invalid loses its registration; do-not-disturb sends nothing', async () => {
  const s = setup({ kind: 'invalid-token', status: 410, reason: 'Unregistered' });
  await sendCallPushes(s.deps, s.call);
  assert.deepEqual(s.forgotten.sort(), ['d_phone', 'd_tablet']);
  const quiet = setup({ kind: 'sent', status: 200 }, { alert: false });
  await sendCallPushes(quiet.deps, quiet.call);
  assert.equal(quiet.sent.length, 0);
});
