/**
 * Push providers: APNs, FCM, Web Push and an operator's webhook. The push pipeline decides who
 * gets a push and when; a provider only turns one push into one request and its answer into an
 * outcome. A push never carries message content: ids, counts and an opaque E2E preview at most.
 */

export type PushPlatform = 'apns' | 'fcm' | 'webpush' | 'webhook';

/** A device's registration, as the store keeps it. Exactly one token per device. */
export type PushTarget =
  | { platform: 'apns'; token: string; topic: string; sandbox: boolean; voipToken?: string }
  | { platform: 'fcm'; token: string }
  | { platform: 'webpush'; endpoint: string; p256dh: string; auth: string } // keys base64url as the browser gives them
  | { platform: 'webhook'; url: string; token?: string }; // token: opaque id the operator's relay uses

/** What one push says. Never message content: only ids, counts and an opaque E2E preview. */
export interface PushPayload {
  kind: 'message' | 'call';
  /** Which device this push is for (webhook relays need it). */
  deviceId: string;
  userId: string;
  chatId?: string;
  /** Messages coalesced into this push. */
  messageCount: number;
  /** The device's unread total across chats (badge). */
  badge: number;
  /** false: a silent/background push (muted chat or do-not-disturb), no alert or sound. */
  alert: boolean;
  /** Opaque ciphertext from the sender's SDK, base64; providers drop it if over their cap. */
  preview?: string;
  /** Collapses pushes of one chat on the device (apns-collapse-id, FCM collapse key, Web Push Topic). */
  collapseId?: string;
}

export type PushOutcome =
  | { kind: 'sent'; status: number; providerId?: string }
  | { kind: 'invalid-token'; status: number; reason: string } // remove the registration
  | { kind: 'retry'; status: number; reason: string; retryAfterMs?: number } // 429/5xx/network: back off and retry
  | { kind: 'rejected'; status: number; reason: string }; // permanent for this payload: dead-letter

export interface PushProvider {
  readonly platform: PushPlatform;
  /** Sends one push. Never throws for provider answers (maps them to an outcome); network errors and timeouts
   *  become `retry` with status 0. Bounded time (timeout option). Never logs tokens or the preview.
   *
   *  Not idempotent: a `retry` after a timeout may mean the device got the push after all (providers
   *  collapse repeats that share a `collapseId`). `status` is the provider's HTTP status, 0 when no answer
   *  came. `reason` is a short code safe to log and show to operators (`Unregistered`, `HTTP 503`,
   *  `timeout`), never the token or the preview. `retryAfterMs` is the provider's Retry-After, when given. */
  send(target: PushTarget, payload: PushPayload): Promise<PushOutcome>;
  /** Closes connections; sends in flight end as `retry` with status 0. Idempotent. */
  close(): Promise<void>;
}
