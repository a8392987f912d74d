/**
 * The one configuration schema. Every setting has a default that runs embedded; each is
 * settable as env `PARLEY_<SNAKE_NAME>` and flag `--<kebab-name>` (flags win over env).
 */

import { isIP } from 'node:net';
import { z } from 'zod';
import { pushProvidersConfigSchema } from '../adapters/push/config.js';
import { PHONE_NUMBER_TYPES } from '../auth/phone.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v)),
]);

/** An IP address or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
function isAddressOrRange(entry: string): boolean {
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (extra !== undefined || family === 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

/** `*`, or a scheme, host and optional port with nothing after them (what a browser sends as Origin). */
function isOrigin(entry: string): boolean {
  if (entry === '*') return true;
  try {
    const u = new URL(entry);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === entry;
  } catch {
    return false;
  }
}

/** A comma-separated setting as its trimmed, non-empty entries ('' is none). */
const commaList = () =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    );

export const configSchema = z
  .object({
    /** Interface to listen on. */
    host: z.string().min(1).default('0.0.0.0'),
    /** TCP port for HTTP and WebSocket (0 = any free port). */
    port: int(0, 65535).default(8080),
    /** Directory for the SQLite database and dev files; created if missing. */
    dataDir: z.string().min(1).default('./data'),
    /** Dev mode: the console SMS provider also writes codes to <dataDir>/sms-codes.log and the log. */
    dev: bool.default(true),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Durable store: `sqlite` (in dataDir) or a PostgreSQL URL (postgres://user@host:5432/db). */
    store: z
      .string()
      .regex(/^(sqlite|postgres(ql)?:\/\/.+)$/, 'sqlite or a postgres:// URL')
      .default('sqlite'),
    /** PostgreSQL connections per node. */
    postgresPoolSize: int(1, 1000).default(10),
    /** A PostgreSQL statement running longer fails (retryable); 0 leaves the server's setting. */
    postgresStatementTimeoutMs: int(0, 2_147_483_647).default(30_000),
    /** Waiting longer for a PostgreSQL lock fails (retryable); 0 leaves the server's setting. */
    postgresLockTimeoutMs: int(0, 2_147_483_647).default(10_000),
    /** Bus between nodes: `local` (one node) or redis://host:port, or redis+cluster://h1:p1,h2:p2,... */
    bus: z
      .string()
      .regex(/^(local|rediss?(\+cluster)?:\/\/.+)$/, 'local or a redis:// / redis+cluster:// URL')
      .default('local'),
    /** This node's name on the bus (unique per process); default host name, pid and a random suffix. */
    nodeId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (at most 64)')
      .optional(),
    /** How long a device's location on the bus lives without a refresh (refreshed every third of it). */
    busLocationTtlMs: int(1000, 3_600_000).default(30_000),
    /** With several nodes: how long membership and device lists are cached before they are read again. */
    directoryCacheMs: int(0, 3_600_000).default(5_000),
    /**
     * Chats (and, separately, users' device lists) whose membership is kept in memory; each
     * costs roughly 150-250 bytes. A send to a chat not held costs a store read.
     */
    directoryCacheEntries: int(1000, 100_000_000).default(1_000_000),
    /** SQLite durability: FULL survives power loss; NORMAL/OFF need allowUnsafeDurability. */
    sqliteSynchronous: z.enum(['FULL', 'NORMAL', 'OFF']).default('FULL'),
    allowUnsafeDurability: bool.default(false),
    /** Run SQLite in a worker thread so disk syncs never block the event loop. */
    sqliteWorker: bool.default(true),
    /**
     * How often a worker thread copies SQLite's write-ahead log into the database file, so
     * commits never do it (0: SQLite's own checkpoints, inside the commit that fills the log).
     * Each checkpoint ends with a sync of the database file, which delays commits' syncs
     * meanwhile: often and small keeps that delay short.
     */
    sqliteCheckpointMs: int(0, 60_000).default(20),
    /**
     * Bytes of the database file the reader thread reads through a memory map (0: off). A
     * mapped page costs no system call; mapped pages count in the node's RSS, and an I/O
     * error on one stops the process (SIGBUS) instead of failing one read. Off by default:
     * on the `restart` benchmark it added ~90 MiB of RSS without a clear gain (performance.md).
     */
    sqliteReaderMmapBytes: int(0, 64 * 1024 ** 3).default(0),
    /** Largest ciphertext in one message (per device for per-device payloads). */
    maxPayloadBytes: int(1, 16 * 1024 * 1024).default(64 * 1024),
    /** Frames above this get FRAME_TOO_LARGE; above 4x it the socket is closed (1009). */
    maxFrameBytes: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
    maxGroupMembers: int(2, 100_000).default(1024),
    maxDevicesPerUser: int(1, 16).default(5),
    /** Delivered-but-unacked messages per connection before the server pauses it. */
    deliveryWindow: int(1, 100_000).default(1000),
    /** Messages per backlog page (one deliver frame). */
    drainPageSize: int(1, 1000).default(100),
    /** Per-connection send buffer limit; above it live pushes stop and the device drains later. */
    sendBufferBytes: int(16 * 1024, 256 * 1024 * 1024).default(1024 * 1024),
    /**
     * Hard per-connection send buffer limit: a reply or push that finds more than this queued
     * (the client is not reading) closes the connection with 4009. Raised to sendBufferBytes if lower.
     */
    sendBufferMaxBytes: int(64 * 1024, 1024 * 1024 * 1024).default(16 * 1024 * 1024),
    /** Requests of one connection being handled at once; above it the server stops reading the socket. */
    maxInflightRequests: int(1, 10_000).default(64),
    /** WebSocket ping interval; a connection that has not answered a ping (pong) for two intervals is closed. */
    heartbeatMs: int(50, 600_000).default(25_000),
    /** Acks are written to the store at most this often (coalesced per device and chat). */
    ackFlushMs: int(0, 10_000).default(50),
    /** Group-commit window: how long a send may wait for others to share its disk sync. */
    commitWindowMs: int(0, 10).default(1),
    /** Largest number of sends committed in one transaction. */
    commitMaxBatch: int(1, 100_000).default(4096),
    codeTtlMs: int(1000, 3_600_000).default(5 * 60_000),
    codeMaxAttempts: int(1, 100).default(5),
    codeResendMs: int(0, 3_600_000).default(60_000),
    linkCodeTtlMs: int(1000, 3_600_000).default(5 * 60_000),
    /** Wrong registration-lock PINs allowed before the lockout. */
    pinMaxAttempts: int(1, 1000).default(10),
    /** How long a registration lockout lasts (no PIN is tried meanwhile). */
    pinLockoutMs: int(60_000, 365 * 86_400_000).default(7 * 86_400_000),
    /** The registration lock stops applying once no device of the account has been seen for this long. */
    pinLockIdleMs: int(3_600_000, 3650 * 86_400_000).default(7 * 86_400_000),
    /** PIN sets, changes and removals per account per hour (each costs an Argon2id hash). */
    pinChangesPerHour: int(1, 10_000).default(10),
    /** Linked devices are logged out after this many days without their primary. */
    linkedDeviceMaxIdleDays: int(1, 3650).default(14),
    /** How long a sender may edit a message. */
    editWindowMs: int(0, 365 * 86_400_000).default(15 * 60_000),
    /** How long a sender may delete a message for everyone (admins may delete any message). */
    deleteWindowMs: int(0, 365 * 86_400_000).default(48 * 3_600_000),
    /** Messages are kept on the server this many days. */
    retentionDays: int(1, 3650).default(30),
    /** How often the retention job runs. */
    retentionIntervalMs: int(1000, 86_400_000).default(10 * 60_000),
    suspensionCheckMs: int(100, 600_000).default(2000),
    /** Messages (sends and forwarded copies) per user per minute, counted in fixed one-minute windows. */
    sendsPerMinute: int(1, 10_000_000).default(100),
    /**
     * Extra messages a user may send past sendsPerMinute, at most this many per ten minutes in
     * all: a burst above the minute's budget, not a higher steady rate.
     */
    sendBurst: int(0, 10_000_000).default(50),
    /** Groups a user may create per hour (direct chats are not counted). */
    groupsPerHour: int(1, 1_000_000).default(10),
    /** Code requests per phone number per hour. */
    codeRequestsPerHour: int(1, 10_000).default(3),
    /** Code requests per client IP per hour. */
    codeRequestsPerIpPerHour: int(1, 10_000_000).default(100),
    /** Registrations (a code verified, a new primary device) per client IP per day. */
    registrationsPerIpPerDay: int(1, 10_000_000).default(10),
    /** Code requests per phone number per day. */
    codeRequestsPerDay: int(1, 1_000_000).default(20),
    /**
     * Code requests per number prefix (the first codeRequestPrefixLength characters of the E.164
     * form) per hour, against SMS pumping through a range of numbers.
     */
    codeRequestsPerPrefixPerHour: int(1, 100_000_000).default(100),
    /** Characters of the E.164 number, with its '+', that make the prefix of codeRequestsPerPrefixPerHour. */
    codeRequestPrefixLength: int(3, 16).default(6),
    /** Codes sent per day by the whole deployment (shared via Redis). */
    codeRequestsPerDayTotal: int(1, 1_000_000_000).default(10_000),
    /**
     * Number types no code is sent to (PHONE_TYPE_NOT_ALLOWED): comma-separated libphonenumber
     * types, INTERNATIONAL_NETWORK (+881/+882/+883, satellite) or UNKNOWN; NONE allows all.
     */
    smsBlockedNumberTypes: z
      .union([
        z.array(z.string()),
        z.string().transform((v) => (['', 'NONE'].includes(v.trim()) ? [] : v.split(','))),
      ])
      .pipe(z.array(z.string().trim().pipe(z.enum(PHONE_NUMBER_TYPES))))
      .default([
        'PREMIUM_RATE',
        'SHARED_COST',
        'UAN',
        'PERSONAL_NUMBER',
        'PAGER',
        'VOICEMAIL',
        'INTERNATIONAL_NETWORK',
      ]),
    /**
     * Key for the digests of registration and link codes (at least 32 characters). Nodes sharing
     * a PostgreSQL store must set the same one; a lone SQLite node generates <dataDir>/server-secret.
     * Prefer PARLEY_SERVER_SECRET_FILE (a file holding it) to the flag or variable. Never printed.
     */
    serverSecret: z
      .string()
      .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
      .max(4096)
      .optional(),
    /**
     * Where registration codes go: `console` (the log and <dataDir>/sms-codes.log, dev mode only),
     * `http` (a generic SMS gateway), `twilio` (Twilio's Messages API) or `webhook` (a signed
     * POST to the operator's own relay). A node with dev=false refuses to start with `console`.
     */
    smsProvider: z.enum(['console', 'http', 'twilio', 'webhook']).default('console'),
    /** The SMS text; `{code}` is replaced by the code. */
    smsText: z
      .string()
      .min(1)
      .max(640)
      .refine((v) => v.includes('{code}'), 'must contain {code}')
      .default('Your Parley code: {code}'),
    /** Time one request to the SMS provider may take before it is abandoned (and retried). */
    smsTimeoutMs: int(100, 60_000).default(5_000),
    /** Retries after a 5xx answer, a timeout or a network error (never after a 4xx). */
    smsRetries: int(0, 10).default(2),
    /** Wait before the first retry; doubled for each further one. */
    smsRetryBackoffMs: int(0, 60_000).default(250),
    /** A code request is answered within this time whatever the retries (the last try is cut short). */
    smsDeadlineMs: int(100, 120_000).default(12_000),
    /** http: the gateway's URL; `{phone}`, `{code}` and `{text}` in it are replaced (URL-encoded). */
    smsHttpUrl: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL')
      .optional(),
    /** http: the request method. */
    smsHttpMethod: z.enum(['POST', 'PUT', 'GET']).default('POST'),
    /** http: Content-Type of the body; decides how placeholders in smsHttpBody are escaped. */
    smsHttpContentType: z
      .string()
      .regex(/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/, 'a media type such as application/json')
      .default('application/json'),
    /** http: the body; `{phone}`, `{code}` and `{text}` are replaced (JSON- or form-escaped per the type). */
    smsHttpBody: z.string().max(8192).default('{"to":"{phone}","text":"{text}"}'),
    /**
     * http: one header that authenticates Parley to the gateway, as `Name: value` (for example
     * `Authorization: Bearer …`). Prefer PARLEY_SMS_HTTP_AUTH_HEADER_FILE. Never printed.
     */
    smsHttpAuthHeader: z
      .string()
      .max(8192)
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*$/, 'Name: value, on one line')
      .optional(),
    /** http: statuses that mean the gateway accepted the SMS: comma-separated codes or ranges. */
    smsHttpSuccessStatus: z
      .string()
      .regex(
        /^\s*\d{3}(\s*-\s*\d{3})?(\s*,\s*\d{3}(\s*-\s*\d{3})?)*\s*$/,
        'codes or ranges, e.g. 200-299 or 200,202',
      )
      .default('200-299'),
    /** twilio: the account SID (AC…). */
    smsTwilioAccountSid: z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'AC followed by 32 hex digits')
      .optional(),
    /** twilio: the account's auth token (or use an API key). Prefer PARLEY_SMS_TWILIO_AUTH_TOKEN_FILE. Never printed. */
    smsTwilioAuthToken: z.string().min(1).max(256).optional(),
    /** twilio: an API key SID (SK…), used with smsTwilioApiKeySecret instead of the auth token. */
    smsTwilioApiKeySid: z
      .string()
      .regex(/^SK[0-9a-fA-F]{32}$/, 'SK followed by 32 hex digits')
      .optional(),
    /** twilio: the API key's secret. Prefer PARLEY_SMS_TWILIO_API_KEY_SECRET_FILE. Never printed. */
    smsTwilioApiKeySecret: z.string().min(1).max(256).optional(),
    /** twilio: the sender, an E.164 number or an alphanumeric sender ID (or use a messaging service). */
    smsTwilioFrom: z
      .string()
      .regex(/^(\+[1-9]\d{1,14}|[A-Za-z0-9 ]{1,11})$/, 'an E.164 number or an alphanumeric sender ID')
      .optional(),
    /** twilio: a messaging service SID (MG…) that picks the sender, instead of smsTwilioFrom. */
    smsTwilioMessagingServiceSid: z
      .string()
      .regex(/^MG[0-9a-fA-F]{32}$/, 'MG followed by 32 hex digits')
      .optional(),
    /** twilio: the API's base URL (tests point it at a local server). */
    smsTwilioBaseUrl: z
      .string()
      .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'http(s)://host[:port][/path]')
      .default('https://api.twilio.com'),
    /** webhook: the relay's URL; it gets a JSON POST signed with smsWebhookSecret. */
    smsWebhookUrl: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL')
      .optional(),
    /** webhook: the HMAC-SHA256 key (at least 32 characters). Prefer PARLEY_SMS_WEBHOOK_SECRET_FILE. Never printed. */
    smsWebhookSecret: z
      .string()
      .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
      .max(4096)
      .optional(),
    /** Contact-discovery requests per user per minute. */
    discoverPerMinute: int(1, 1_000_000).default(60),
    /**
     * Phone hashes a user may look up per day that they have not looked up in the last 24 hours
     * (repeated lookups within the day are free). The store keeps a keyed digest of each for a day.
     */
    discoverNewPerDay: int(1, 1_000_000).default(500),
    /** Media store: `local` (files in mediaDir) or s3://bucket[/prefix] (S3 or S3-compatible). */
    media: z
      .string()
      .regex(
        /^(local|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9!_.*'()/-]*)?)$/,
        'local or s3://bucket[/prefix]',
      )
      .default('local'),
    /** Where local media bodies are stored (default <dataDir>/media). */
    mediaDir: z.string().min(1).optional(),
    /** Endpoint of an S3-compatible service, e.g. http://127.0.0.1:9000 (AWS S3 when unset). */
    s3Endpoint: z
      .string()
      .regex(/^https?:\/\/[^\s/]+\/?$/, 'http(s)://host[:port]')
      .optional(),
    s3Region: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/, 'an S3 region name such as us-east-1')
      .default('us-east-1'),
    /** Path-style bucket addressing (host/bucket), which most S3-compatible services need. */
    s3ForcePathStyle: bool.default(false),
    /** Parts of resumable uploads a node sends to the bucket at once, over all its uploads. */
    s3PartsInFlight: int(1, 64).default(4),
    /** Largest single-request media upload (ciphertext bytes); larger files go through /v1/uploads. */
    mediaMaxBytes: int(1, 2 * 1024 ** 3).default(50 * 1024 ** 2),
    /** Largest body of each media class the client declares on upload (`x-media-class`). */
    mediaMaxImageBytes: int(1, 1024 ** 4).default(16 * 1024 ** 2),
    mediaMaxVoiceBytes: int(1, 1024 ** 4).default(16 * 1024 ** 2),
    mediaMaxVideoBytes: int(1, 1024 ** 4).default(2 * 1024 ** 3),
    mediaMaxDocumentBytes: int(1, 1024 ** 4).default(2 * 1024 ** 3),
    /** Media bytes a user may upload per hour. */
    mediaBytesPerHour: int(1, 1024 ** 4).default(4 * 1024 ** 3),
    /** Media uploads a user may make per hour. */
    mediaUploadsPerHour: int(1, 10_000_000).default(50),
    /** How long a signed media URL (POST /v1/media/:id/url) stays valid: 1 s to 7 days. */
    mediaUrlTtlMs: int(1000, 7 * 86_400_000).default(3_600_000),
    /** Prekey bundle fetches per user per minute (each consumes one-time prekeys of others). */
    preKeyBundlesPerMinute: int(1, 1_000_000).default(120),
    /** One-time prekeys a device should hold; it is told to upload more below the low-water mark. */
    oneTimePreKeysTarget: int(1, 1000).default(100),
    oneTimePreKeysLowWater: int(0, 1000).default(20),
    /** Most one-time prekeys stored per device. */
    maxOneTimePreKeys: int(1, 10_000).default(200),
    /**
     * A user gets a given device's one-time prekey at most once in this window; later bundles
     * for that device carry none (its signed and last-resort prekeys still start a session).
     */
    oneTimePreKeyRepeatWindowMs: int(3_600_000, 90 * 86_400_000).default(24 * 3_600_000),
    /** One-time prekeys a device hands out per hour to all requesters together; past it, bundles carry none. */
    oneTimePreKeysPerDevicePerHour: int(0, 1_000_000).default(50),
    /** Code verifications and link-code redemptions per client IP per minute. */
    authAttemptsPerMinute: int(1, 1_000_000).default(60),
    /** Time allowed for in-flight work on SIGTERM before sockets are closed. */
    shutdownGraceMs: int(0, 600_000).default(10_000),
    /**
     * On SIGTERM, how long /readyz answers 503 while everything else is still served, before
     * the node stops taking work: at least the load balancer's check interval times its fall count.
     */
    shutdownDrainMs: int(0, 600_000).default(5_000),
    /** The request line and headers (and a PROXY header) must arrive within this time. */
    httpHeadersTimeoutMs: int(100, 600_000).default(10_000),
    /** A whole request, body included, must arrive within this time (bounds a slow media upload). */
    httpRequestTimeoutMs: int(1000, 86_400_000).default(3_600_000),
    /** A request body that sends nothing for this long is answered 408; a JSON body must arrive whole within it. */
    httpBodyTimeoutMs: int(100, 600_000).default(30_000),
    /**
     * Connections the kernel queues before the node accepts them (capped by the kernel's
     * net.core.somaxconn). A reconnect storm beyond it loses SYNs, and those clients retry a
     * second later.
     */
    listenBacklog: int(1, 65_535).default(4096),
    /** Open TCP connections per node (HTTP and WebSocket); more are answered 503 and closed. */
    maxConnections: int(1, 10_000_000).default(100_000),
    /** Connections per client address not yet an authenticated WebSocket; more get 503 (trusted proxies exempt). */
    maxConnectionsPerIp: int(1, 1_000_000).default(100),
    /** Expect a PROXY protocol (v1 or v2) header on every connection; only from trustedProxies. */
    proxyProtocol: bool.default(false),
    /**
     * Load balancers and proxies (comma-separated IPs or CIDR ranges) allowed to send a PROXY
     * header, and whose X-Forwarded-For is believed.
     */
    trustedProxies: commaList().refine(
      (list) => list.every(isAddressOrRange),
      'comma-separated IP addresses or CIDR ranges',
    ),
    /**
     * Origins (comma-separated, like https://app.example.org) whose browser apps may call the
     * HTTP API; `*` allows any. Default none: no CORS headers are sent.
     */
    corsOrigins: commaList()
      .refine((list) => list.every(isOrigin), 'comma-separated origins like https://app.example.org, or *')
      .describe('Origins whose browser apps may call the HTTP API, like https://app.example.org (* for any)'),
    /** Serve the web client (packages/web) at `/`. */
    webClient: bool.default(true),
    /** Directory of the built web client (default: packages/web/dist of this installation). */
    webDir: z.string().min(1).optional(),
    /** Runs this node's push worker; default on when a push provider is configured. */
    pushEnabled: bool.optional(),
    /** Messages to one offline device within this window after the first become one push. */
    pushCoalesceMs: int(0, 60_000).default(2000),
    /** How often the push worker looks for due jobs. */
    pushPollMs: int(10, 60_000).default(500),
    /** Jobs the push worker leases at once. */
    pushBatchSize: int(1, 1000).default(100),
    /** How long a leased push job is this node's; a crashed node's jobs are taken again after it. */
    pushLeaseMs: int(1000, 600_000).default(30_000),
    /** Attempts before a push job goes to the dead letters. */
    pushMaxAttempts: int(1, 100).default(8),
    /** First retry waits up to this (full jitter), doubled per attempt. */
    pushBackoffBaseMs: int(1, 600_000).default(1000),
    /** Longest wait between push retries (a provider's Retry-After may be longer). */
    pushBackoffCapMs: int(1, 3_600_000).default(300_000),
    /** Push registrations and removals per device per hour. */
    pushRegistrationsPerHour: int(1, 100_000).default(30),
    /** Origins (comma-separated) a device may register as its webhook relay; default none. */
    pushWebhookOrigins: commaList().refine(
      (list) => list.every((o) => o !== '*' && isOrigin(o)),
      'comma-separated origins like https://relay.example.org',
    ),
    /**
     * Shared secret of the TURN server (coturn `static-auth-secret`), at least 16 characters;
     * without it no TURN credentials are handed out. Prefer PARLEY_TURN_SECRET_FILE. Never printed.
     */
    turnSecret: z
      .string()
      .min(16, 'must be at least 16 characters (e.g. openssl rand -hex 32)')
      .max(4096)
      .optional(),
    /** STUN/TURN URLs handed out with TURN credentials (comma-separated stun:, turn: or turns: URLs). */
    turnUrls: commaList().refine(
      (list) => list.length <= 16 && list.every((u) => /^(stun|stuns|turn|turns):[^\s,]{1,500}$/.test(u)),
      'at most 16 comma-separated stun:, stuns:, turn: or turns: URLs',
    ),
    /** How long TURN credentials are valid, in seconds (default 24 h). */
    turnTtl: int(60, 7 * 86_400).default(86_400),
    /** TURN credential requests per device per hour. */
    turnCredentialsPerHour: int(1, 100_000).default(60),
    /** Call offers per user per minute. */
    callOffersPerMinute: int(1, 100_000).default(10),
    /** How long a call rings before it ends as unanswered. */
    callRingMs: int(1000, 600_000).default(45_000),
    /** Longest a call's offer is kept for a device that connects late; a device of a connected call may be away this long. */
    callPendingMs: int(1000, 600_000).default(60_000),
    /** How often due call timers are checked. */
    callSweepMs: int(10, 60_000).default(1000),
    /**
     * Test-only: acknowledge sends before they are committed (and delay commits), so the
     * crash tests can prove their checker detects loss. Never use in production.
     */
    unsafeAckBeforeCommit: bool.default(false),
    /** Push providers' credentials and endpoints (adapters/push/config.ts). */
    ...pushProvidersConfigSchema.shape,
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ConfigKey = keyof Config;
