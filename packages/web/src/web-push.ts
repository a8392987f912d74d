/**
 * Notifications with the tab closed: the service worker (/sw.js) subscribed to the browser's
 * push service with the node's VAPID key, and the subscription registered as this device's
 * push target (`registerPush`). Turned on with the in-tab notifications, checked again at each
 * start (a changed subscription is registered anew), turned off with them and at sign-out.
 * Every failure comes back as a calm sentence: the in-tab notifications work regardless.
 */
import type { ChatInfo, ParleyClient } from '@parley/sdk/browser';
import { chatTitle } from './format.js';
import { clearPushState, savePushState } from './push-state.js';

const SW_URL = '/sw.js';
/** The subscription last registered with the node, as "deviceId endpoint p256dh auth". */
const REGISTERED = 'parley.webpush';

const OPEN_ONLY = 'Notifications show while Parley is open';

export function webPushSupported(): boolean {
  return 'serviceWorker' in navigator && typeof PushManager !== 'undefined';
}

/** The node's VAPID public key, or undefined when the node has no Web Push. */
async function serverKey(serverUrl: string): Promise<Uint8Array | undefined> {
  const res = await fetch(`${serverUrl}/v1/push/webpush-key`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`the server answered ${res.status}`);
  const body = (await res.json()) as { publicKey?: unknown };
  if (typeof body.publicKey !== 'string' || !/^[A-Za-z0-9_-]{86,88}$/.test(body.publicKey))
    throw new Error('the server sent no usable key');
  const b64 = body.publicKey.replaceAll('-', '+').replaceAll('_', '/');
  return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

function sameBytes(a: ArrayBuffer | null, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.length) return false;
  const x = new Uint8Array(a);
  return x.every((v, i) => v === b[i]);
}

function connected(client: ParleyClient): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = client.on('connected', () => {
      stop();
      resolve();
    });
  });
}

export interface PushDevice {
  client: ParleyClient;
  chats: () => ChatInfo[] | undefined;
  name: (userId: string) => string;
}

/** Chat id to the title the chat list shows. */
function namesOf(d: PushDevice): Record<string, string> {
  const me = d.client.credentials.userId;
  const names: Record<string, string> = {};
  for (const chat of d.chats() ?? []) names[chat.id] = chatTitle(chat, me, d.name);
  return names;
}

/** Keeps the chat names the service worker titles notifications with (when push is on). */
export function saveChatNames(d: PushDevice): Promise<void> {
  if (localStorage.getItem(REGISTERED) === null) return Promise.resolve();
  return savePushState({ deviceId: d.client.credentials.deviceId, names: namesOf(d) });
}

/**
 * Subscribes (or keeps the subscription) and registers it with the node when it changed.
 * Resolves with undefined when pushes will come, else with what to tell the user.
 */
export async function startWebPush(d: PushDevice): Promise<string | undefined> {
  // Service workers exist only on https:// pages (and http://localhost).
  if (!isSecureContext) return `${OPEN_ONLY}: with it closed they need the page served over https.`;
  if (!webPushSupported()) return `${OPEN_ONLY}: this browser cannot show them when it is closed.`;
  const { client } = d;
  let key: Uint8Array | undefined;
  let registration: ServiceWorkerRegistration;
  try {
    key = await serverKey(client.credentials.serverUrl);
    if (!key) return `${OPEN_ONLY}: this server does not send them when it is closed.`;
    registration = await navigator.serviceWorker.register(SW_URL, { scope: '/' });
  } catch {
    return `${OPEN_ONLY}: notifications with Parley closed could not be set up.`;
  }
  let subscription: PushSubscription;
  try {
    let current = await registration.pushManager.getSubscription();
    if (current && !sameBytes(current.options.applicationServerKey, key)) {
      // The server's key changed: the old subscription can no longer be pushed to.
      await current.unsubscribe().catch(() => false);
      current = null;
    }
    subscription =
      current ??
      (await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: key as Uint8Array<ArrayBuffer>,
      }));
  } catch {
    return `${OPEN_ONLY}: this browser's push service could not be reached, so none come when it is closed.`;
  }
  const json = subscription.toJSON();
  const p256dh = json.keys?.p256dh;
  const auth = json.keys?.auth;
  if (!json.endpoint || !p256dh || !auth)
    return `${OPEN_ONLY}: this browser's push service gave an unusable subscription.`;
  const fingerprint = [client.credentials.deviceId, json.endpoint, p256dh, auth].join(' ');
  try {
    await connected(client);
    const held = await client.pushRegistration();
    if (localStorage.getItem(REGISTERED) !== fingerprint || !held.registered || held.platform !== 'webpush') {
      await client.registerPush({ platform: 'webpush', endpoint: json.endpoint, keys: { p256dh, auth } });
      localStorage.setItem(REGISTERED, fingerprint);
    }
    await savePushState({ deviceId: client.credentials.deviceId, names: namesOf(d) });
  } catch {
    return `${OPEN_ONLY}: the server did not take this browser's subscription; Parley tries again next time it opens.`;
  }
  return undefined;
}

/**
 * Ends pushes to this browser: unsubscribes, forgets the names the service worker kept and,
 * when `client` is given (not after sign-out, where the device goes with its registration),
 * removes the registration from the node. Never throws.
 */
export async function stopWebPush(client?: ParleyClient): Promise<void> {
  localStorage.removeItem(REGISTERED);
  await clearPushState().catch(() => {});
  if (webPushSupported()) {
    const registration = await navigator.serviceWorker.getRegistration('/').catch(() => undefined);
    const subscription = await registration?.pushManager.getSubscription().catch(() => null);
    await subscription?.unsubscribe().catch(() => false);
  }
  if (client?.connected) await client.unregisterPush().catch(() => {});
}
