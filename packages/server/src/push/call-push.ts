/**
 * Ring pushes for incoming calls: when a call starts ringing, each of the callee's devices that
 * is registered for pushes and connected to no node gets one push (APNs VoIP when the device
 * registered a VoIP token, else an alert; FCM high priority), sent at once. Unlike message
 * pushes no job is kept: a ring is worth nothing once the call stops ringing, so a push that
 * fails is not retried. Do-not-disturb and a muted chat send none. The push says only that a
 * call rings in a chat (kind `call`, the chat id, the call id as collapse id), never the offer.
 */
import type { Logger } from '../log.js';
import type { PushPayload, PushPlatform, PushProvider } from '../ports/push.js';
import type { Store } from '../ports/store.js';
import type { ChatId, DeviceId, UserId } from '../ports/types.js';
import type { PushMetrics } from './metrics.js';
import type { PushRegistry } from './registry.js';

export interface CallPushDeps {
  store: Pick<Store, 'pushRegistrationGet' | 'chatSummaries'>;
  registry: Pick<PushRegistry, 'has'>;
  providers: ReadonlyMap<PushPlatform, PushProvider>;
  metrics: Pick<PushMetrics, 'sent' | 'failed'>;
  log: Logger;
  online(deviceIds: readonly DeviceId[]): Promise<Set<DeviceId>>;
  alertFor(userId: UserId, chatId: ChatId): Promise<boolean>;
  /** A provider called the device's token invalid: its registration goes. */
  forget(deviceId: DeviceId): void;
}

export interface RingingCall {
  callId: string;
  chatId: ChatId;
  calleeUserId: UserId;
  deviceIds: readonly DeviceId[];
}

/** Sends the ring pushes of `call`; resolves when every push was answered (never rejects). */
export async function sendCallPushes(d: CallPushDeps, call: RingingCall): Promise<void> {
  try {
    const registered = call.deviceIds.filter((id) => d.registry.has(id));
    if (registered.length === 0) return;
    const online = await d.online(registered);
    const away = registered.filter((id) => !online.has(id));
    if (away.length === 0 || !(await d.alertFor(call.calleeUserId, call.chatId))) return;
    let badge = 0;
    for (const c of await d.store.chatSummaries(call.calleeUserId)) badge += c.unreadCount;
    await Promise.all(away.map((deviceId) => sendOne(d, call, deviceId, badge)));
  } catch (err) {
    d.log.warn({ err, callId: call.callId }, 'ring pushes failed');
  }
}

async function sendOne(d: CallPushDeps, call: RingingCall, deviceId: DeviceId, badge: number): Promise<void> {
  const registration = await d.store.pushRegistrationGet(deviceId);
  if (!registration) return;
  const platform = registration.platform;
  const provider = d.providers.get(platform);
  if (!provider) {
    d.metrics.failed.inc({ platform, reason: 'no-provider' });
    return;
  }
  const payload: PushPayload = {
    kind: 'call',
    deviceId,
    userId: call.calleeUserId,
    chatId: call.chatId,
    messageCount: 0,
    badge,
    alert: true,
    collapseId: call.callId,
  };
  const outcome = await provider
    .send(registration.target, payload)
    .catch((err: Error) => ({ kind: 'retry' as const, status: 0, reason: err.message || 'provider failed' }));
  if (outcome.kind === 'sent') {
    d.metrics.sent.inc({ platform });
    return;
  }
  d.metrics.failed.inc({ platform, reason: outcome.kind });
  if (outcome.kind === 'invalid-token') d.forget(deviceId);
  d.log.info({ callId: call.callId, deviceId, platform, reason: outcome.reason }, 'ring push not sent');
}
