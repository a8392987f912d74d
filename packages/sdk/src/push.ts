/**
 * Push registration in the SDK: what an app passes to `registerPush` (the token its platform
 * gave it) and what the server answers. The server never echoes the token, only a short hash.
 */
import type { FrameInit } from '@parley/protocol';

/** Where this device's pushes go while it has no socket open. */
export type PushTargetInput =
  /** iOS: the APNs device token (hex), the app's bundle id, and sandbox for development builds. */
  | { platform: 'apns'; token: string; topic: string; sandbox?: boolean; voipToken?: string }
  /** Android: the FCM registration token. */
  | { platform: 'fcm'; token: string }
  /** Browsers: `PushSubscription.toJSON()` as it comes (endpoint and keys). */
  | { platform: 'webpush'; endpoint: string; keys: { p256dh: string; auth: string } }
  /** The operator's own relay (its origin must be allowed by the server). */
  | { platform: 'webhook'; url: string; token?: string };

export interface PushRegistrationInfo {
  registered: boolean;
  platform: '' | 'apns' | 'fcm' | 'webpush' | 'webhook';
  /** A short hash of the token (12 hex digits), to compare with `parley admin push status`. */
  tokenHash: string;
  updatedAt: number;
}

type RegisterBody = Extract<FrameInit['body'], { case: 'registerPush' }>;

export function toRegisterPush(t: PushTargetInput): RegisterBody {
  switch (t.platform) {
    case 'apns':
      return {
        case: 'registerPush',
        value: {
          target: {
            case: 'apns',
            value: {
              token: t.token,
              topic: t.topic,
              sandbox: t.sandbox ?? false,
              voipToken: t.voipToken ?? '',
            },
          },
        },
      };
    case 'fcm':
      return { case: 'registerPush', value: { target: { case: 'fcm', value: { token: t.token } } } };
    case 'webpush':
      return {
        case: 'registerPush',
        value: {
          target: {
            case: 'webpush',
            value: { endpoint: t.endpoint, p256dh: t.keys.p256dh, auth: t.keys.auth },
          },
        },
      };
    case 'webhook':
      return {
        case: 'registerPush',
        value: { target: { case: 'webhook', value: { url: t.url, token: t.token ?? '' } } },
      };
  }
}

export function toRegistrationInfo(r: {
  registered: boolean;
  platform: string;
  tokenHash: string;
  updatedAt: bigint;
}): PushRegistrationInfo {
  return {
    registered: r.registered,
    platform: r.platform as PushRegistrationInfo['platform'],
    tokenHash: r.tokenHash,
    updatedAt: Number(r.updatedAt),
  };
}
