/**
 * The push providers' settings, as flat keys the node's one config schema takes in
 * (`...pushProvidersConfigSchema.shape`). A provider is on when its credentials are set; the
 * factory (create-push.ts) checks that each is complete and usable before the node starts.
 */
import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v)),
]);
const baseUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/]+\/?$/, 'http(s)://host[:port] with no path')
  .transform((v) => v.replace(/\/$/, ''));

export const pushProvidersConfigSchema = z.object({
  /** Longest time one provider request may take (connect, answer and body). */
  pushTimeoutMs: int(100, 120_000).default(10_000),
  /** How long a provider keeps trying to deliver a push the device has not fetched (APNs/FCM/Web Push). */
  pushTtlSeconds: int(0, 2_419_200).default(86_400),
  /** APNs: the 10-character key id of the .p8 auth key. */
  pushApnsKeyId: z
    .string()
    .regex(/^[A-Z0-9]{10}$/, '10 letters or digits (the key id of the .p8 key)')
    .optional(),
  /** APNs: the 10-character team id. */
  pushApnsTeamId: z
    .string()
    .regex(/^[A-Z0-9]{10}$/, '10 letters or digits (the team id)')
    .optional(),
  /** APNs: the .p8 auth key (PEM). Prefer PARLEY_PUSH_APNS_KEY_FILE. Never printed. */
  pushApnsKey: z.string().min(1).max(8192).optional(),
  /** APNs: production host. */
  pushApnsHost: baseUrl.default('https://api.push.apple.com'),
  /** APNs: sandbox host, for targets registered with sandbox=true. */
  pushApnsSandboxHost: baseUrl.default('https://api.sandbox.push.apple.com'),
  /** APNs: a localization key for the alert title; unset, the title is "New message". */
  pushApnsAlertLocKey: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .optional(),
  /** FCM: the service-account JSON (text). Prefer PARLEY_PUSH_FCM_SERVICE_ACCOUNT_FILE. Never printed. */
  pushFcmServiceAccount: z.string().min(2).max(16_384).optional(),
  /** FCM: API base URL. */
  pushFcmBaseUrl: baseUrl.default('https://fcm.googleapis.com'),
  /** FCM: OAuth token URL; unset, the service account's token_uri. */
  pushFcmTokenUrl: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL')
    .optional(),
  /** Web Push: VAPID public key (base64url, 65 bytes uncompressed P-256). */
  pushVapidPublicKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{86,88}$/, 'base64url of a 65-byte P-256 public key')
    .optional(),
  /** Web Push: VAPID private key (base64url, 32 bytes). Prefer PARLEY_PUSH_VAPID_PRIVATE_KEY_FILE. */
  pushVapidPrivateKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{42,44}$/, 'base64url of a 32-byte P-256 private key')
    .optional(),
  /** Web Push: VAPID subject, a mailto: or https: URL push services can reach the operator at. */
  pushVapidSubject: z
    .string()
    .regex(/^(mailto:[^\s@]+@[^\s@]+|https:\/\/[^\s]+)$/, 'a mailto: or https: URL')
    .optional(),
  /** Webhook: the HMAC-SHA256 key signing each push POST (at least 32 characters). Never printed. */
  pushWebhookSecret: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
    .max(4096)
    .optional(),
  /** Development only: accept http:// and loopback/private hosts in Web Push and webhook URLs. */
  pushAllowInsecureUrls: bool.default(false),
});

export type PushProvidersConfig = z.infer<typeof pushProvidersConfigSchema>;
export type PushProvidersConfigKey = keyof PushProvidersConfig;

/** Settings that may come from a file (PARLEY_<NAME>_FILE), for config/load.ts's fileSettingKeys. */
export const pushProviderSecretKeys: readonly PushProvidersConfigKey[] = [
  'pushApnsKey',
  'pushFcmServiceAccount',
  'pushVapidPrivateKey',
  'pushWebhookSecret',
];

/** One line per setting for `parley serve --help` (config/descriptions.ts). */
export const pushProviderDescriptions: Record<PushProvidersConfigKey, string> = {
  pushTimeoutMs:
    'Longest time one push provider request may take (connect, answer and body); past it the push is retried.',
  pushTtlSeconds:
    'How long APNs, FCM and Web Push keep trying to reach a device that is off (0: now or never).',
  pushApnsKeyId: 'APNs: the key id (10 characters) of the .p8 token-auth key. Set with the team id and key.',
  pushApnsTeamId: 'APNs: the Apple developer team id (10 characters).',
  pushApnsKey:
    'APNs: the .p8 token-auth key as PEM text. Prefer PARLEY_PUSH_APNS_KEY_FILE naming the .p8 file. Never printed.',
  pushApnsHost: 'APNs: the production host (tests point it at a local server).',
  pushApnsSandboxHost: 'APNs: the sandbox host, used for devices registered with sandbox=true.',
  pushApnsAlertLocKey:
    'APNs: a key in the app\'s Localizable.strings for the alert title (default: the title "New message").',
  pushFcmServiceAccount:
    'FCM: the service-account JSON key of the Firebase project. Prefer PARLEY_PUSH_FCM_SERVICE_ACCOUNT_FILE. Never printed.',
  pushFcmBaseUrl: 'FCM: the HTTP v1 API base URL (tests point it at a local server).',
  pushFcmTokenUrl: "FCM: the OAuth2 token URL (default: the service account's token_uri).",
  pushVapidPublicKey:
    'Web Push: the VAPID public key, base64url (the web client subscribes with it). Set with the private key and subject; a lone SQLite node given only the subject makes a pair into <data-dir>/vapid-keys.json.',
  pushVapidPrivateKey:
    'Web Push: the VAPID private key, base64url. Prefer PARLEY_PUSH_VAPID_PRIVATE_KEY_FILE. Never printed.',
  pushVapidSubject: 'Web Push: a mailto: or https: URL where push services can reach the operator.',
  pushWebhookSecret:
    'Webhook pushes: the HMAC-SHA256 key (at least 32 characters) that signs each POST. Prefer PARLEY_PUSH_WEBHOOK_SECRET_FILE.',
  pushAllowInsecureUrls:
    'Development only: accepts http:// and loopback or private hosts in Web Push endpoints and webhook URLs (off: refused at registration and at connect time, against SSRF).',
};
