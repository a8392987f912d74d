/**
 * One line on every setting, shown by `parley serve --help` (docs/operations.md says more).
 * Typed by the schema's keys, so a setting without a description does not compile.
 */
import { pushProviderDescriptions } from '../adapters/push/config.js';
import type { ConfigKey } from './schema.js';

export const settingDescriptions: Record<ConfigKey, string> = {
  host: 'Interface to listen on.',
  port: 'TCP port for HTTP and WebSocket (0 = any free port).',
  dataDir: 'Directory for parley.db (SQLite) and dev files; created if missing.',
  dev: 'Dev mode: the console SMS provider writes codes to the log and <data-dir>/sms-codes.log. Set false in production, with an SMS provider (--sms-provider).',
  logLevel: 'Log level: fatal, error, warn, info, debug, trace or silent.',
  store:
    'Durable store: sqlite (a file in --data-dir, one node) or a PostgreSQL URL such as postgres://parley@db:5432/parley (several nodes).',
  postgresPoolSize: 'PostgreSQL connections per node.',
  postgresStatementTimeoutMs:
    "A PostgreSQL statement running longer is cancelled and fails with the retryable UNAVAILABLE (0: the server's own setting).",
  postgresLockTimeoutMs:
    "Waiting longer for a PostgreSQL lock fails the same way (0: the server's own setting).",
  bus: 'How nodes reach each other: local (one node) or redis://host:6379, rediss://…, redis+cluster://h1:7000,h2:7000,h3:7000.',
  nodeId: "This node's name on the bus; unique per process (default: host name, pid, random).",
  busLocationTtlMs:
    "How long a device's location on the bus lives without a refresh (each node refreshes its devices every third of it); a crashed node's entries expire after it.",
  directoryCacheMs:
    'With a bus: how long chat membership and device lists are cached before they are read again (changes are also broadcast at once).',
  directoryCacheEntries:
    "Chats (and, separately, users' device lists) whose membership is kept in memory, roughly 150-250 bytes each; a send to a chat not held costs a store read.",
  sqliteSynchronous:
    'SQLite durability. FULL (default) survives power loss; NORMAL/OFF can lose acknowledged messages and are refused unless --allow-unsafe-durability is set.',
  sqliteWorker:
    'Run SQLite in a worker thread so disk syncs never block the event loop (false runs it on the main thread).',
  sqliteCheckpointMs:
    "How often a worker thread copies SQLite's write-ahead log into the database file, so commits never wait for it (0: SQLite's own checkpoints, inside the commit that fills the log).",
  sqliteReaderMmapBytes:
    'Bytes of the database file the reader thread reads through a memory map (0, the default: off): no system call per page read, but mapped pages count in RSS and an I/O error on one stops the process (SIGBUS) instead of failing one read.',
  allowUnsafeDurability: 'Accept a non-FULL synchronous mode.',
  maxPayloadBytes: 'Largest ciphertext per message (per device for per-device payloads).',
  maxFrameBytes: 'Frames above this get FRAME_TOO_LARGE; above 4× the socket is closed (1009).',
  maxGroupMembers: 'Members per group.',
  maxDevicesPerUser: 'Devices per user (1 primary + linked).',
  deliveryWindow: 'Delivered-but-unacked messages per connection before the server pauses it.',
  drainPageSize: 'Messages per backlog page (one deliver frame; pages are also capped at 1 MiB).',
  sendBufferBytes:
    'Per-connection send buffer limit; above it live pushes stop and the device catches up from the store.',
  sendBufferMaxBytes:
    'Hard per-connection send buffer limit (16 MiB): a reply or push that finds more than this queued for the socket (the client stopped reading) closes the connection with 4009 instead of buffering without bound.',
  maxInflightRequests:
    'Requests of one connection handled at once; above it the server stops reading that socket.',
  heartbeatMs:
    'WebSocket ping interval. A connection that has not answered a ping with a pong for two intervals is closed with 4008; sending frames does not count, the client must read. The pings are spread over the interval, a slice of the connections every 100 ms.',
  ackFlushMs:
    'Acks are written to the store at most this often, coalesced per device and chat (0 = every event-loop turn).',
  commitWindowMs:
    'Group-commit window: how long a send may wait for others to share its disk sync (0 = only sends arriving in the same event-loop turn).',
  commitMaxBatch: 'Most sends committed in one transaction (group commit).',
  codeTtlMs: 'Registration code lifetime.',
  codeMaxAttempts: 'Wrong codes allowed before a new code is needed.',
  codeResendMs: 'Minimum time between two codes for one number.',
  linkCodeTtlMs: 'Device link code lifetime.',
  pinMaxAttempts:
    'Wrong registration-lock PINs a new phone may enter (after the right SMS code) before the lockout.',
  pinLockoutMs:
    'How long a registration lockout lasts (7 days): no PIN is tried until it ends, unless the primary device removes or changes the PIN.',
  pinLockIdleMs:
    'The registration lock stops applying once no device of the account has been seen for this long (7 days); the number can then be registered with the SMS code alone, which removes the PIN.',
  pinChangesPerHour: 'Registration-lock PIN sets, changes and removals per account per hour.',
  linkedDeviceMaxIdleDays: 'Linked devices are logged out after this many days without their primary.',
  editWindowMs: 'How long a sender may edit a message (15 min).',
  deleteWindowMs:
    'How long a sender may delete a message for everyone (48 h); group admins may delete any message.',
  retentionDays: 'Messages are deleted from the server after this many days.',
  retentionIntervalMs: 'How often the retention job runs.',
  suspensionCheckMs:
    'How often the node looks in the store for accounts suspended by `parley admin suspend` and closes their sockets (the longest a suspended device stays connected).',
  sendsPerMinute:
    'Messages (sends and forwarded copies) per user per minute, in fixed one-minute windows; past it and the burst, RATE_LIMITED.',
  sendBurst:
    'Extra messages a user may send once the minute is spent, at most this many per ten minutes in all (0: none).',
  groupsPerHour: 'Groups each user may create per hour (direct chats are not counted).',
  codeRequestsPerHour: 'Code requests per phone number per hour.',
  codeRequestsPerIpPerHour: 'Code requests per client IP per hour.',
  registrationsPerIpPerDay:
    'Registrations (a code verified, giving a new primary device) per client IP per day; a failed verification is not counted.',
  codeRequestsPerDay: 'Code requests per phone number per day.',
  codeRequestsPerPrefixPerHour:
    'Code requests per number prefix per hour, against SMS pumping through a range of numbers.',
  codeRequestPrefixLength:
    'Characters of the E.164 number, + included, that form that prefix (+14155 for +14155550123).',
  codeRequestsPerDayTotal:
    'Codes the whole deployment sends per day, shared through Redis: a ceiling on the SMS bill.',
  smsBlockedNumberTypes:
    'Number types that get PHONE_TYPE_NOT_ALLOWED instead of a code, comma-separated libphonenumber types (PREMIUM_RATE, VOIP, ...), INTERNATIONAL_NETWORK or UNKNOWN; NONE allows every type.',
  serverSecret:
    'Key (at least 32 characters, e.g. openssl rand -hex 32) of the stored digests of registration and link codes; the same on every node sharing a PostgreSQL store. Never printed.',
  smsProvider:
    "Where registration codes go: console (the log and <data-dir>/sms-codes.log; dev mode only), http (a generic HTTP SMS gateway), twilio (Twilio's Messages API) or webhook (a signed POST to your own relay).",
  smsText: 'The SMS text; must contain {code}. At most 640 characters.',
  smsTimeoutMs:
    'Time one request to the provider may take, answer included, before it is abandoned and retried.',
  smsRetries: 'Retries after a 5xx answer, a timeout or a network error; a 4xx is never retried.',
  smsRetryBackoffMs: 'Wait before the first retry, doubled for each further one.',
  smsDeadlineMs:
    'A code request is answered within this time whatever the retries: the last try is cut short, and a retry that would not fit is not made.',
  smsHttpUrl: "http: the gateway's URL. {phone}, {code} and {text} in it are replaced, URL-encoded.",
  smsHttpMethod: 'http: POST, PUT or GET (a GET sends no body).',
  smsHttpContentType:
    "http: the body's media type. With JSON (application/json, *+json) the placeholders are JSON-escaped, with application/x-www-form-urlencoded URL-encoded, otherwise inserted as they are.",
  smsHttpBody:
    'http: the body template; {phone} (E.164), {code} (6 digits) and {text} (--sms-text with the code) are replaced.',
  smsHttpAuthHeader:
    'http: one header that authenticates the node to the gateway, as Name: value (e.g. Authorization: Bearer ...). Never printed.',
  smsHttpSuccessStatus:
    'http: statuses that mean the gateway took the SMS, comma-separated codes or ranges (202, 200,201).',
  smsTwilioAccountSid:
    'twilio: the account SID (AC and 32 hex digits); it is in the request path with either credential.',
  smsTwilioAuthToken:
    "twilio: the account's auth token, sent as basic auth with the account SID (or use an API key). Never printed.",
  smsTwilioApiKeySid:
    'twilio: an API key SID (SK…), sent as basic auth with its secret instead of the auth token (a key can be revoked alone).',
  smsTwilioApiKeySecret: "twilio: the API key's secret. Never printed.",
  smsTwilioFrom:
    'twilio: the sender, an E.164 number of the account or an alphanumeric sender ID (up to 11 characters).',
  smsTwilioMessagingServiceSid: 'twilio: a messaging service (MG…) that picks the sender.',
  smsTwilioBaseUrl: 'twilio: where the API is reached (a regional edge, or a local server in tests).',
  smsWebhookUrl: "webhook: your relay's URL; it gets a signed JSON POST per code.",
  smsWebhookSecret:
    'webhook: the HMAC-SHA256 key of the signature, at least 32 characters (e.g. openssl rand -hex 32). Never printed.',
  discoverPerMinute: 'Contact-discovery requests per user per minute.',
  discoverNewPerDay:
    'Phone hashes each user may look up per day that they did not look up in the last 24 hours; repeats are free.',
  media: 'Media store: local (files in --media-dir) or s3://bucket[/prefix].',
  mediaDir:
    'Where local media bodies are stored (default <data-dir>/media); with several nodes, a volume every node mounts.',
  s3Endpoint: 'Endpoint of an S3-compatible service, http(s)://host[:port] (default: AWS S3).',
  s3Region: 'Region of the bucket.',
  s3ForcePathStyle: 'Address the bucket as host/bucket (most S3-compatible services need it).',
  s3PartsInFlight:
    'Parts of resumable uploads (8 MiB each) a node sends to the bucket at once, over all its uploads (1 to 64).',
  mediaMaxBytes:
    'Largest single-request media upload (PUT /v1/media/…), in bytes (50 MiB); larger files go through /v1/uploads (resumable).',
  mediaBytesPerHour: 'Media bytes each user may upload per hour (4 GiB: two videos at the 2 GiB cap).',
  mediaUploadsPerHour: 'Media uploads each user may make per hour.',
  mediaUrlTtlMs:
    'How long a signed media URL (POST /v1/media/:id/url) stays valid, in ms (1 h; 1 s to 7 days).',
  mediaMaxImageBytes: 'Largest image upload (x-media-class: image), in bytes (16 MiB).',
  mediaMaxVoiceBytes: 'Largest voice note upload (x-media-class: voice), in bytes (16 MiB).',
  mediaMaxVideoBytes: 'Largest video upload (x-media-class: video), in bytes (2 GiB).',
  mediaMaxDocumentBytes: 'Largest document upload (x-media-class: document, the default), in bytes (2 GiB).',
  preKeyBundlesPerMinute:
    "Prekey bundle fetches per user per minute (each fetch consumes one-time prekeys of the other user's devices).",
  oneTimePreKeysTarget: 'One-time prekeys a device is asked to hold (sent in keysLow).',
  oneTimePreKeysLowWater:
    'Below this many one-time prekeys a device gets keysLow (on connect and when a fetch takes one).',
  maxOneTimePreKeys: 'Most one-time prekeys the server stores per device.',
  oneTimePreKeyRepeatWindowMs:
    "A user gets a given device's one-time prekey at most once in this window (24 h, at least 1 h); later bundles for that device carry none.",
  oneTimePreKeysPerDevicePerHour:
    'One-time prekeys a device hands out per hour to all requesters together; past it, bundles carry none (sessions start from the signed and last-resort prekeys).',
  authAttemptsPerMinute: 'Code verifications and link-code redemptions per IP per minute.',
  shutdownGraceMs: 'On SIGTERM, time allowed for in-flight commits before sockets close.',
  shutdownDrainMs:
    "On SIGTERM, how long /readyz answers 503 while everything else is still served, before the node stops taking work: at least the balancer's check interval times its fall count.",
  httpHeadersTimeoutMs:
    'The request line and headers (and a PROXY header) must arrive within this time; otherwise 408 and the connection is closed.',
  httpRequestTimeoutMs:
    'A whole request, body included, must arrive within this time (a 50 MiB upload needs at least ~15 KB/s).',
  httpBodyTimeoutMs:
    'A request body that sends nothing for this long is answered 408 (REQUEST_TIMEOUT) and closed; a JSON body must arrive whole within it.',
  listenBacklog:
    "Connections the kernel queues before the node accepts them (capped by the kernel's net.core.somaxconn); a reconnect storm beyond it has connects dropped and retried a second later.",
  maxConnections:
    'Open TCP connections per node (HTTP and WebSocket); more are answered 503 with Connection: close.',
  maxConnectionsPerIp:
    'Connections per client address that are not (yet) an authenticated WebSocket; more are answered 503.',
  proxyProtocol:
    'Every connection starts with a PROXY protocol header (v2 or v1); connections from outside --trusted-proxies are refused.',
  corsOrigins:
    'Comma-separated origins (like https://app.example.org) whose browser apps may call the HTTP API; * allows any. Default none: no CORS headers are sent.',
  trustedProxies:
    'Comma-separated IPs or CIDR ranges of load balancers and proxies: they may send a PROXY header, and their X-Forwarded-For is believed.',
  webClient:
    'Serve the web client at / (static files with strict caching and Content-Security-Policy); false leaves / an unknown path.',
  webDir:
    'Directory of the built web client (default: packages/web/dist of this installation, made by npm run build).',
  pushEnabled:
    "Runs this node's push worker (it sends the push jobs of offline devices); default on when a push provider is configured.",
  pushCoalesceMs:
    'Messages to one offline device within this window after the first become one push (the push waits this long).',
  pushPollMs: 'How often the push worker looks for due push jobs.',
  pushBatchSize: 'Push jobs the worker leases and sends at once.',
  pushLeaseMs:
    "How long a leased push job belongs to this node; a crashed node's jobs are sent by another node after it.",
  pushMaxAttempts:
    'Attempts (429, 5xx, timeouts) before a push job goes to the dead letters (`parley admin push retry`).',
  pushBackoffBaseMs:
    'The first push retry waits up to this long (full jitter); each further one up to twice as long.',
  pushBackoffCapMs:
    "Longest wait between push retries (a provider's Retry-After is honoured even when longer).",
  pushRegistrationsPerHour: 'Push registrations and removals per device per hour; past it, RATE_LIMITED.',
  pushWebhookOrigins:
    'Comma-separated origins (like https://relay.example.org) a device may register as its webhook relay; default none (webhook registrations are refused).',
  turnSecret:
    'Shared secret of the TURN server (coturn static-auth-secret, at least 16 characters); without it no TURN credentials are handed out. Prefer PARLEY_TURN_SECRET_FILE. Never printed.',
  turnUrls:
    'Comma-separated STUN/TURN URLs handed out with TURN credentials, like stun:turn.example.org:3478,turn:turn.example.org:3478?transport=udp.',
  turnTtl: 'How long TURN credentials are valid, in seconds (default 24 h).',
  turnCredentialsPerHour: 'TURN credential requests per device per hour.',
  callOffersPerMinute: 'Call offers per user per minute.',
  callRingMs: 'How long a call rings before it ends as unanswered (a missed call).',
  callPendingMs:
    "Longest a call's encrypted offer is kept for a device that connects late; a device in a connected call may be away this long before the call ends.",
  callSweepMs: 'How often due call timers (ringing, devices away) are checked.',
  unsafeAckBeforeCommit:
    'Test-only: acknowledges sends before they are durable, to prove the crash tests detect loss. Never use it.',
  ...pushProviderDescriptions,
};
