/**
 * Validates a device's push target as the wire gives it, and derives what the store keys it
 * by. Every field is checked here, at the edge: hex tokens, base64url keys of the right
 * length, https URLs (http and private hosts only with `allowInsecureUrls`, a dev setting),
 * webhook URLs only on the operator's configured origins. Tokens never appear in errors or
 * logs: `tokenHash` is what may be shown.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { ParleyError } from '@parley/protocol';
import { z } from 'zod';
import type { PushTarget } from '../ports/push.js';
import type { DeviceId } from '../ports/types.js';

export interface TargetRules {
  /** http:// URLs and loopback/private hosts are accepted (development only). */
  allowInsecureUrls: boolean;
  /** Origins (scheme://host[:port]) a webhook URL may be on; none: webhooks are refused. */
  webhookOrigins: readonly string[];
}

const hexToken = z
  .string()
  .regex(/^[0-9a-fA-F]{64,200}$/, 'must be 64-200 hex digits')
  .transform((v) => v.toLowerCase());
const b64url = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url')
    .refine((v) => Buffer.from(v, 'base64url').length === bytes, `must be ${what}`);

const apns = z.object({
  token: hexToken,
  topic: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[A-Za-z0-9._-]+$/, 'must be a bundle id'),
  sandbox: z.boolean(),
  voipToken: z.union([z.literal(''), hexToken]),
});
const fcm = z.object({
  token: z
    .string()
    .min(1)
    .max(4096)
    .regex(/^[A-Za-z0-9_:-]+$/, 'must be an FCM registration token'),
});
const webpush = z.object({
  endpoint: z.string().min(1).max(2048),
  p256dh: b64url(65, 'an uncompressed P-256 public key (65 bytes)').refine(
    (v) => Buffer.from(v, 'base64url')[0] === 4,
    'must be an uncompressed P-256 public key',
  ),
  auth: b64url(16, '16 bytes'),
});
const webhook = z.object({
  url: z.string().min(1).max(2048),
  token: z
    .string()
    .max(512)
    .regex(/^[\x21-\x7e]*$/, 'must be printable ASCII without spaces'),
});

export type WireTarget =
  | { case: 'apns'; value: { token: string; topic: string; sandbox: boolean; voipToken: string } }
  | { case: 'fcm'; value: { token: string } }
  | { case: 'webpush'; value: { endpoint: string; p256dh: string; auth: string } }
  | { case: 'webhook'; value: { url: string; token: string } }
  | { case: undefined; value?: undefined };

function parse<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new ParleyError('INVALID_ARGUMENT', `${prefix}.${issue.path.join('.')} ${issue.message}`);
}

const PRIVATE_V4 = [/^10\./, /^127\./, /^169\.254\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^0\./];

/** Whether a URL host is loopback, link-local or private (a push must not reach inside). */
function isPrivateHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h.endsWith('.internal'))
    return true;
  const family = isIP(h);
  if (family === 4) return PRIVATE_V4.some((r) => r.test(h));
  if (family === 6)
    return h === '::1' || h === '::' || /^f[cd]/.test(h) || /^fe[89ab]/.test(h) || h.startsWith('::ffff:');
  return false;
}

function checkUrl(value: string, field: string, rules: TargetRules): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ParleyError('INVALID_ARGUMENT', `${field} must be a URL`);
  }
  if (u.username || u.password)
    throw new ParleyError('INVALID_ARGUMENT', `${field} must not carry credentials`);
  if (u.protocol !== 'https:' && !(rules.allowInsecureUrls && u.protocol === 'http:'))
    throw new ParleyError('INVALID_ARGUMENT', `${field} must be an https URL`);
  if (!rules.allowInsecureUrls && isPrivateHost(u.hostname))
    throw new ParleyError('INVALID_ARGUMENT', `${field} must not name a private or loopback host`);
  return u;
}

/** The target a RegisterPushRequest names, validated; INVALID_ARGUMENT naming the field otherwise. */
export function parseTarget(wire: WireTarget, rules: TargetRules): PushTarget {
  switch (wire.case) {
    case 'apns': {
      const v = parse(apns, wire.value, 'apns');
      return {
        platform: 'apns',
        token: v.token,
        topic: v.topic,
        sandbox: v.sandbox,
        ...(v.voipToken && { voipToken: v.voipToken }),
      };
    }
    case 'fcm':
      return { platform: 'fcm', token: parse(fcm, wire.value, 'fcm').token };
    case 'webpush': {
      const v = parse(webpush, wire.value, 'webpush');
      checkUrl(v.endpoint, 'webpush.endpoint', rules);
      return { platform: 'webpush', endpoint: v.endpoint, p256dh: v.p256dh, auth: v.auth };
    }
    case 'webhook': {
      const v = parse(webhook, wire.value, 'webhook');
      const u = checkUrl(v.url, 'webhook.url', rules);
      if (!rules.webhookOrigins.includes(u.origin))
        throw new ParleyError('INVALID_ARGUMENT', 'webhook.url is not on an origin this server pushes to');
      return { platform: 'webhook', url: v.url, ...(v.token && { token: v.token }) };
    }
    default:
      throw new ParleyError('INVALID_ARGUMENT', 'one of apns, fcm, webpush or webhook is required');
  }
}

/**
 * What makes a registration unique on its platform: the token (the endpoint for Web Push).
 * A webhook relay is shared by many devices, so its key is the URL with the relay's token,
 * or with the device when there is none.
 */
export function tokenKeyOf(target: PushTarget, deviceId: DeviceId): string {
  switch (target.platform) {
    case 'apns':
    case 'fcm':
      return target.token;
    case 'webpush':
      return target.endpoint;
    case 'webhook':
      return `${target.url}\n${target.token ?? `device:${deviceId}`}`;
  }
}

/** A short hash of a token key: what logs, results and admin output show instead of the token. */
export function tokenHash(tokenKey: string): string {
  return createHash('sha256').update(tokenKey).digest('hex').slice(0, 12);
}
