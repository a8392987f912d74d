/**
 * Builds the FCM HTTP v1 `messages:send` body for one push. Android gets a data message (the app
 * draws the notification, decrypting the preview if any), high priority for an alert and normal
 * for a silent push; the apns block lets iOS apps registered through FCM show a generic alert.
 * The data block (at most 4 KB) carries no content: kind, chat id, count, badge and the preview.
 */
import type { PushPayload } from '../../../ports/push.js';
import { fitPreview } from '../http.js';

export const FCM_MAX_DATA_BYTES = 4096;

/** FCM's data limit counts keys and values. */
function dataSize(data: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(data)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

export function buildFcmMessage(
  token: string,
  p: PushPayload,
  o: { ttlSeconds: number },
): { body: string; previewDropped: boolean } | undefined {
  const fitted = fitPreview(
    p.preview,
    (preview): Record<string, string> => ({
      kind: p.kind,
      ...(p.chatId !== undefined && { chatId: p.chatId }),
      count: String(p.messageCount),
      badge: String(p.badge),
      alert: p.alert ? '1' : '0',
      ...(preview !== undefined && { preview }),
    }),
    dataSize,
    FCM_MAX_DATA_BYTES,
  );
  if (fitted === undefined) return undefined;
  const data = fitted.built;
  const collapse = p.collapseId?.slice(0, 64);
  const apnsHeaders: Record<string, string> = {
    'apns-push-type': p.alert ? 'alert' : 'background',
    'apns-priority': p.alert ? '10' : '5',
    ...(collapse !== undefined && { 'apns-collapse-id': collapse }),
  };
  const aps = p.alert
    ? {
        alert: { title: p.kind === 'call' ? 'Incoming call' : 'New message' },
        badge: p.badge,
        sound: 'default',
        ...(data.preview !== undefined && { 'mutable-content': 1 }),
      }
    : { 'content-available': 1 };
  const message = {
    token,
    data,
    android: {
      priority: p.alert ? 'high' : 'normal',
      ttl: `${o.ttlSeconds}s`,
      ...(collapse !== undefined && { collapse_key: collapse }),
    },
    apns: { headers: apnsHeaders, payload: { aps } },
  };
  return { body: JSON.stringify({ message }), previewDropped: fitted.previewDropped };
}
