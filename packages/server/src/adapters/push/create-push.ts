/**
 * The push providers a config turns on, after checking their settings: a provider is on when its
 * credentials are set, and a half-set or unusable one stops the start with a message naming each
 * setting (never its value). Platforms left off have no provider: the pipeline keeps their jobs
 * out of the outbox or dead-letters them.
 */
import { ParleyError } from '@parley/protocol';
import type { Logger } from '../../log.js';
import type { Clock } from '../../ports/clock.js';
import type { PushPlatform, PushProvider } from '../../ports/push.js';
import { ApnsProvider } from './apns/apns-provider.js';
import type { PushProvidersConfig, PushProvidersConfigKey } from './config.js';
import { FcmProvider } from './fcm/fcm-provider.js';
import { WebhookPushProvider } from './webhook/webhook-provider.js';
import type { VapidKeys } from './webpush/vapid.js';
import { WebPushProvider } from './webpush/webpush-provider.js';

export interface PushProviderDeps {
  log: Logger;
  clock: Clock;
  /** VAPID keys to use when none are configured (the pipeline keeps generated ones in the data dir). */
  vapidKeys?: VapidKeys;
  /** Extra CA certificates APNs connections trust (a local test server's). */
  apnsCa?: string | Buffer;
}

const envOf = (key: string) => `PARLEY_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
const flagOf = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const named = (key: PushProvidersConfigKey) => `${key} (--${flagOf(key)} / ${envOf(key)})`;

function refuse(problem: string): never {
  throw new ParleyError('INVALID_ARGUMENT', `${problem} (see docs/push-providers.md)`);
}

/** All of `keys` set, none set, or a start-stopping error naming the missing ones. */
function allOrNone(config: PushProvidersConfig, provider: string, keys: PushProvidersConfigKey[]): boolean {
  const missing = keys.filter((k) => config[k] === undefined);
  if (missing.length === keys.length) return false;
  if (missing.length > 0) refuse(`${provider} push needs ${missing.map(named).join(' and ')} as well`);
  return true;
}

export function createPushProviders(
  config: PushProvidersConfig,
  deps: PushProviderDeps,
): Map<PushPlatform, PushProvider> {
  const providers = new Map<PushPlatform, PushProvider>();
  const common = { timeoutMs: config.pushTimeoutMs, clock: deps.clock, log: deps.log };
  try {
    if (allOrNone(config, 'APNs', ['pushApnsKeyId', 'pushApnsTeamId', 'pushApnsKey'])) {
      try {
        providers.set(
          'apns',
          new ApnsProvider({
            ...common,
            keyId: config.pushApnsKeyId!,
            teamId: config.pushApnsTeamId!,
            key: config.pushApnsKey!,
            host: config.pushApnsHost,
            sandboxHost: config.pushApnsSandboxHost,
            ttlSeconds: config.pushTtlSeconds,
            ...(config.pushApnsAlertLocKey !== undefined && { alertLocKey: config.pushApnsAlertLocKey }),
            ...(deps.apnsCa !== undefined && { ca: deps.apnsCa }),
          }),
        );
      } catch {
        refuse(`${named('pushApnsKey')} is not an EC P-256 private key in PEM (the .p8 file's text)`);
      }
    }
    if (config.pushFcmServiceAccount !== undefined) {
      try {
        providers.set(
          'fcm',
          new FcmProvider({
            ...common,
            serviceAccount: config.pushFcmServiceAccount,
            baseUrl: config.pushFcmBaseUrl,
            ...(config.pushFcmTokenUrl !== undefined && { tokenUrl: config.pushFcmTokenUrl }),
            ttlSeconds: config.pushTtlSeconds,
          }),
        );
      } catch (err) {
        refuse(`${named('pushFcmServiceAccount')}: ${(err as Error).message}`);
      }
    }
    const vapidSet = allOrNone(config, 'Web Push', ['pushVapidPublicKey', 'pushVapidPrivateKey']);
    const vapid: VapidKeys | undefined = vapidSet
      ? { publicKey: config.pushVapidPublicKey!, privateKey: config.pushVapidPrivateKey! }
      : deps.vapidKeys;
    if (vapid !== undefined) {
      if (config.pushVapidSubject === undefined) {
        refuse(`Web Push needs ${named('pushVapidSubject')} (mailto: or https: URL of the operator)`);
      }
      try {
        providers.set(
          'webpush',
          new WebPushProvider({
            ...common,
            vapid,
            subject: config.pushVapidSubject,
            ttlSeconds: config.pushTtlSeconds,
            allowPrivate: config.pushAllowInsecureUrls,
          }),
        );
      } catch {
        refuse(`${named('pushVapidPublicKey')} and ${named('pushVapidPrivateKey')} are not a P-256 key pair`);
      }
    }
    if (config.pushWebhookSecret !== undefined) {
      providers.set(
        'webhook',
        new WebhookPushProvider({
          ...common,
          secret: config.pushWebhookSecret,
          allowPrivate: config.pushAllowInsecureUrls,
        }),
      );
    }
  } catch (err) {
    for (const p of providers.values()) void p.close();
    throw err;
  }
  return providers;
}
