/**
 * The service worker (built on its own into /sw.js): shows a notification for a Web Push that
 * arrives while no tab of the app is in front, and opens the chat when it is clicked. A push
 * carries no message content: the title is the chat's name as the page last listed it
 * (push-state.ts), the body a count, or the sender's preview when this device can open it
 * from its key store without changing it (openStoredPushPreview reads only).
 */
import { IndexedDbKeyValueStore, openStoredPushPreview } from '@parley/sdk/browser';
import { openChatMessage } from './open-chat.js';
import { loadPushState, type PushState } from './push-state.js';

declare const self: ServiceWorkerGlobalScope;

/** What the node's Web Push provider sends (docs/push.md, "What a push contains"). */
interface PushMessage {
  kind: 'message' | 'call';
  chatId: string | undefined;
  count: number;
  badge: number | undefined;
  alert: boolean;
  preview: string | undefined;
}

/** The push's JSON, checked field by field; undefined for anything that is not one. */
function parsePush(data: PushMessageData | null): PushMessage | undefined {
  let raw: unknown;
  try {
    raw = data ? JSON.parse(data.text()) : undefined;
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if ((r.kind !== 'message' && r.kind !== 'call') || typeof r.alert !== 'boolean') return undefined;
  const count = typeof r.count === 'number' && Number.isSafeInteger(r.count) && r.count > 0 ? r.count : 1;
  const ok = (v: unknown, max: number): v is string =>
    typeof v === 'string' && v.length > 0 && v.length <= max;
  return {
    kind: r.kind,
    chatId: ok(r.chatId, 256) ? r.chatId : undefined,
    count,
    badge: typeof r.badge === 'number' && Number.isSafeInteger(r.badge) && r.badge >= 0 ? r.badge : undefined,
    alert: r.alert,
    preview: ok(r.preview, 4096) ? r.preview : undefined,
  };
}

const keysDb = (deviceId: string) => `parley-keys-${deviceId}`;

/** The preview's text, opened with the device's keys when its database exists (never created here). */
async function previewText(state: PushState, chatId: string, preview: string): Promise<string | undefined> {
  const name = keysDb(state.deviceId);
  const dbs = await indexedDB.databases();
  if (!dbs.some((d) => d.name === name)) return undefined;
  const keys = await IndexedDbKeyValueStore.open(name);
  try {
    return (await openStoredPushPreview(keys, { chatId, preview }))?.text;
  } finally {
    await keys.close();
  }
}

async function onPush(data: PushMessageData | null): Promise<void> {
  const push = parsePush(data);
  if (!push) return;
  if (push.badge !== undefined) await self.navigator.setAppBadge?.(push.badge).catch(() => {});
  if (!push.alert) return;
  // A page of the app in front shows its own notifications.
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  if (windows.some((w) => w.visibilityState === 'visible' && w.focused)) return;
  const state = await loadPushState().catch(() => undefined);
  const chatId = push.chatId;
  const title = (chatId && state?.names[chatId]) || 'Parley';
  let body: string | undefined;
  if (push.kind === 'call') body = 'Incoming call';
  else if (state && chatId && push.preview)
    body = await previewText(state, chatId, push.preview).catch(() => undefined);
  body ??= push.count === 1 ? '1 new message' : `${push.count} new messages`;
  await self.registration.showNotification(title, {
    body,
    // One per chat: a newer push of the chat replaces the one shown.
    tag: chatId ?? 'parley',
    data: { chatId },
  });
}

/** Focuses a window of the app and tells it to open the chat, or opens one at the chat. */
async function onNotificationClick(notification: Notification): Promise<void> {
  notification.close();
  const data = notification.data as { chatId?: unknown } | null;
  const chatId = typeof data?.chatId === 'string' ? data.chatId : undefined;
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows[0];
  if (open) {
    if (chatId) open.postMessage(openChatMessage(chatId));
    await open.focus();
    return;
  }
  await self.clients.openWindow(chatId ? `/#/chat/${encodeURIComponent(chatId)}` : '/');
}

self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('push', (event) => event.waitUntil(onPush(event.data)));
self.addEventListener('notificationclick', (event) =>
  event.waitUntil(onNotificationClick(event.notification)),
);
