/**
 * Builds one APNs request from a push: the device path, the apns-* headers and the JSON body.
 * The body has no message content: a generic alert (or none for a silent push), the badge, the
 * chat id, the message count and, when it fits the 4 KB limit, the opaque E2E preview.
 */
import { createHash } from 'node:crypto';
import type { PushPayload, PushTarget } from '../../../ports/push.js';
import { fitPreview } from '../http.js';

/** APNs' payload limits: 4 KB for every push type but VoIP (5 KB). */
export const APNS_MAX_PAYLOAD = 4096;
export const APNS_MAX_VOIP_PAYLOAD = 5120;

export interface ApnsRequest {
  /** The device token the request goes to (the VoIP token for a call to a device that has one). */
  token: string;
  headers: Record<string, string>;
  body: string;
  previewDropped: boolean;
}

export interface ApnsRequestOptions {
  nowMs: number;
  ttlSeconds: number;
  alertLocKey?: string;
}

type ApnsTarget = Extract<PushTarget, { platform: 'apns' }>;

/** apns-collapse-id is at most 64 bytes: a longer id is replaced by its hash. */
function collapseIdOf(id: string): string {
  return Buffer.byteLength(id) <= 64 ? id : createHash('sha256').update(id).digest('base64url');
}

export function buildApnsRequest(
  target: ApnsTarget,
  p: PushPayload,
  o: ApnsRequestOptions,
): ApnsRequest | undefined {
  const voip = p.kind === 'call' && target.voipToken !== undefined;
  const pushType = voip ? 'voip' : p.alert ? 'alert' : 'background';
  const headers: Record<string, string> = {
    'apns-topic': voip ? `${target.topic}.voip` : target.topic,
    'apns-push-type': pushType,
    'apns-priority': pushType === 'background' ? '5' : '10',
    // A ringing call that cannot be delivered now is worthless later.
    'apns-expiration': String(voip || o.ttlSeconds === 0 ? 0 : Math.floor(o.nowMs / 1000) + o.ttlSeconds),
  };
  if (p.collapseId !== undefined && !voip) headers['apns-collapse-id'] = collapseIdOf(p.collapseId);

  const build = (preview: string | undefined): string => {
    let aps: Record<string, unknown>;
    if (pushType === 'background') {
      // A background push carries content-available only; the badge travels beside it for the app.
      aps = { 'content-available': 1 };
    } else if (voip) {
      aps = {};
    } else {
      const title = p.kind === 'call' ? 'Incoming call' : 'New message';
      aps = {
        alert: o.alertLocKey !== undefined ? { 'title-loc-key': o.alertLocKey } : { title },
        badge: p.badge,
        sound: 'default',
        ...(preview !== undefined && { 'mutable-content': 1 }),
      };
    }
    return JSON.stringify({
      aps,
      kind: p.kind,
      ...(p.chatId !== undefined && { chatId: p.chatId }),
      count: p.messageCount,
      badge: p.badge,
      ...(preview !== undefined && { preview }),
    });
  };
  const cap = voip ? APNS_MAX_VOIP_PAYLOAD : APNS_MAX_PAYLOAD;
  const fitted = fitPreview(p.preview, build, (b) => Buffer.byteLength(b), cap);
  if (fitted === undefined) return undefined;
  return {
    token: voip ? target.voipToken! : target.token,
    headers,
    body: fitted.built,
    previewDropped: fitted.previewDropped,
  };
}
