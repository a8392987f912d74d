/**
 * createNode: the one place where ports are wired to features. Nothing here is global, so
 * a test can run several nodes in one process. start() listens; stop() drains in-flight
 * commits and acks, then closes sockets with 1001 and the store.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CloseCodes, encodeFrame, makeFrame, ParleyError } from '@parley/protocol';
import { AccountService } from './account/service.js';
import { LocalBlobStore } from './adapters/blobs/local/local-blobs.js';
import { createPushProviders } from './adapters/push/create-push.js';
import { dataDirVapidKeys } from './adapters/push/webpush/vapid-file.js';
import { WebPushProvider } from './adapters/push/webpush/webpush-provider.js';
import { createSmsProvider } from './adapters/sms/create-sms.js';
import { meteredSms } from './adapters/sms/metered-sms.js';
import { SqliteStore } from './adapters/store/sqlite/sqlite-store.js';
import { SqliteWorkerStore } from './adapters/store/sqlite-worker/worker-store.js';
import { RegistrationLockService } from './auth/registration-lock.js';
import { CodeDigests } from './auth/secrets.js';
import { loadServerSecret } from './auth/server-secret.js';
import { AuthService } from './auth/service.js';
import { MemoryTicketReplay, SocketTickets } from './auth/socket-tickets.js';
import { type RedisSetNx, RedisTicketReplay } from './auth/ticket-replay-redis.js';
import { BlockService } from './blocks/service.js';
import { CallCluster } from './calls/cluster.js';
import { CallService } from './calls/service.js';
import { CommitQueue } from './chat/commit-queue.js';
import { Directory } from './chat/directory.js';
import { ChatService } from './chat/service.js';
import type { Config } from './config/schema.js';
import { AckFlusher } from './delivery/ack-flusher.js';
import { Cluster } from './delivery/cluster.js';
import { DeviceTouches } from './delivery/device-touches.js';
import { type FrameEncoder, Hub } from './delivery/hub.js';
import { DiscoveryService } from './discovery/service.js';
import { createDispatcher } from './gateway/dispatch.js';
import { createEdge } from './gateway/edge.js';
import { encodeDeliverBinary } from './gateway/fast-codec.js';
import { httpRoutes } from './gateway/http.js';
import { createHttpApp } from './gateway/http-app.js';
import { writeHttpError } from './gateway/http-util.js';
import { webClient } from './gateway/web.js';
import { toWireMessage } from './gateway/wire.js';
import { Gateway } from './gateway/ws.js';
import { KeyService } from './keys/service.js';
import { Limiters } from './limits/limiters.js';
import { createLogger, type Logger } from './log.js';
import { MediaAccessRule } from './media/access.js';
import { MediaService } from './media/service.js';
import { MediaUrlSigner } from './media/signed-urls.js';
import { type RedisLockClient, RedisUploadLocker } from './media/upload-locks.js';
import {
  fileUploadStore,
  type ResumableUploadDeps,
  ResumableUploads,
  type UploadStore,
} from './media/uploads.js';
import { Metrics } from './metrics/metrics.js';
import { ReportService } from './moderation/reports.js';
import { SuspensionWatcher } from './moderation/suspension.js';
import { MuteService } from './mutes/service.js';
import type { BlobStore } from './ports/blobs.js';
import type { Bus } from './ports/bus.js';
import { type Clock, systemClock } from './ports/clock.js';
import { type Ids, randomIds } from './ports/ids.js';
import type { SmsProvider } from './ports/sms.js';
import type { Store } from './ports/store.js';
import type { DeviceId } from './ports/types.js';
import { PresenceService } from './presence/service.js';
import { ProfileService } from './profiles/service.js';
import { type PushOverrides, type PushWiring, wirePush } from './push/wire.js';
import { ReceiptService } from './receipts/service.js';
import { runRetention } from './retention/job.js';
import { RetryService } from './retry/service.js';
import { SERVER_VERSION } from './version.js';

export interface NodeOverrides {
  clock?: Clock;
  ids?: Ids;
  sms?: SmsProvider;
  store?: Store;
  blobs?: BlobStore;
  /** Where incomplete resumable uploads live (default: files beside local media). */
  uploadStore?: UploadStore;
  /** Makes a finished upload of `uploadStore` a blob without copying it through the node. */
  uploadAdopt?: ResumableUploadDeps['adopt'];
  /** A bus shared with other nodes; without one the node runs alone. */
  bus?: Bus;
  /** A Redis client for rate-limit counters and used socket tickets, shared by every node. */
  limiterRedis?: unknown;
  log?: Logger;
  /** The key for code digests; default from config (see auth/server-secret.ts). */
  serverSecret?: Buffer;
  /** Push providers and test hooks (see push/wire.ts). */
  push?: PushOverrides;
}

export interface ParleyNode {
  readonly config: Config;
  readonly store: Store;
  readonly hub: Hub;
  /** Push registrations, the registry and the worker (tests run the worker by hand). */
  readonly push: PushWiring;
  /** Listens; resolves with the bound port. */
  start(): Promise<number>;
  /** Graceful stop: finish commits and acks, close sockets (1001), close the store. */
  stop(): Promise<void>;
  /** Runs the retention job once (it also runs on its interval). */
  runRetention(): Promise<{ expired: number; retired: number; mediaExpired: number }>;
  url(): string;
}

export const encodeDeliver: FrameEncoder = (messages, backlog, encoding) =>
  encoding === 'proto'
    ? encodeDeliverBinary(messages, backlog)
    : encodeFrame(
        makeFrame({
          id: 0,
          body: { case: 'deliver', value: { messages: messages.map(toWireMessage), backlog } },
        }),
        encoding,
      );

function openStore(config: Config, log: Logger): Store & { ready?: Promise<string> } {
  if (config.store !== 'sqlite') {
    throw new ParleyError('INTERNAL', 'a PostgreSQL store is opened by openNode, not createNode');
  }
  if (config.sqliteSynchronous !== 'FULL' && !config.allowUnsafeDurability) {
    throw new ParleyError(
      'INVALID_ARGUMENT',
      `sqliteSynchronous=${config.sqliteSynchronous} can lose acknowledged messages on power loss; set allowUnsafeDurability=true to accept that`,
    );
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const options = {
    path: join(resolve(config.dataDir), 'parley.db'),
    synchronous: config.sqliteSynchronous,
    backgroundCheckpointMs: config.sqliteCheckpointMs,
    readerMmapBytes: config.sqliteReaderMmapBytes,
  };
  if (config.sqliteWorker) {
    return SqliteWorkerStore.open(options, {
      readerFailed: (err) =>
        log.error({ err }, 'the store reader thread failed: reads now wait behind writes'),
    });
  }
  const store = new SqliteStore(options);
  return Object.assign(store, { ready: Promise.resolve(store.synchronous) });
}

/**
 * How long a connect's or a disconnect's last-seen time waits to be written with others: short,
 * so that a device reconnecting after a moment finds its disconnect recorded.
 */
const DEVICE_TOUCH_MS = 100;

export function createNode(config: Config, o: NodeOverrides = {}): ParleyNode {
  if (config.bus !== 'local' && !o.bus) {
    throw new ParleyError('INTERNAL', 'a Redis bus is opened by openNode, not createNode');
  }
  if (config.media !== 'local' && !o.blobs) {
    throw new ParleyError('INTERNAL', 'an S3 media store is opened by openNode, not createNode');
  }
  const log = o.log ?? createLogger(config.logLevel);
  const clock = o.clock ?? systemClock;
  const ids = o.ids ?? randomIds;
  // Before the store opens: a shared node without serverSecret stops here.
  const serverSecret = o.serverSecret ?? loadServerSecret(config, o.bus !== undefined);
  const digests = new CodeDigests(serverSecret);
  // Also before the store: a production node without an SMS provider stops here.
  const smsProvider = o.sms ?? createSmsProvider(config, { log, clock });
  const store: Store & { ready?: Promise<string> } = o.store ?? openStore(config, log);
  if (smsProvider.name === 'console') mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const limiters = new Limiters(config, o.limiterRedis);
  const directory = o.bus
    ? new Directory(store, config.directoryCacheEntries, config.directoryCacheMs, () => clock.now())
    : new Directory(store, config.directoryCacheEntries);
  const hub = new Hub(directory, encodeDeliver, (err) =>
    log.warn({ err }, 'live fan-out failed; devices will read the message from the store'),
  );
  const blocks = new BlockService({
    store,
    now: () => clock.now(),
    maxEntries: config.directoryCacheEntries,
    ...(o.bus && { ttlMs: config.directoryCacheMs }),
    devicesOf: (userId) => directory.devicesOf(userId),
    push: (deviceIds, body) => hub.pushToDevices(deviceIds as DeviceId[], body),
  });
  const receipts = new ReceiptService({ store, hub, directory, clock, log, blocks });
  const acks = new AckFlusher(
    store,
    log,
    config.ackFlushMs,
    (changes) => receipts.delivered(changes),
    () => clock.now(),
  );
  const touches = new DeviceTouches(store, log, DEVICE_TOUCH_MS, () => clock.now());
  const revoke = (deviceIds: DeviceId[], reason = 'device credential revoked') => {
    push.registrations
      .forget(deviceIds)
      .catch((err) => log.warn({ err }, 'removing push registrations of revoked devices failed'));
    for (const id of deviceIds) {
      const c = hub.get(id);
      if (c) directory.invalidateUser(c.userId);
    }
    // Retired devices may not be connected here: their users' cached lists go too.
    if (deviceIds.length) directory.invalidateAllDevices();
    if (cluster) cluster.closeEverywhere(deviceIds, CloseCodes.REVOKED, reason);
    else hub.closeDevices(deviceIds, CloseCodes.REVOKED, reason);
  };
  const metrics = new Metrics({
    directory: () => ({ chats: directory.size.chats, loading: directory.loading }),
    calls: () => calls.size,
    pending: () => {
      let n = 0;
      for (const c of hub.all()) n += c.session.unackedCount;
      return n;
    },
  });
  const cluster = o.bus
    ? new Cluster({
        bus: o.bus,
        hub,
        directory,
        blocks,
        metrics,
        log,
        ttlMs: config.busLocationTtlMs,
        onPresence: (userId) => {
          presence.refresh(userId).catch((err) => log.warn({ err }, 'presence refresh failed'));
        },
      })
    : undefined;
  hub.remote = cluster;
  /** Which of these devices are connected to this node or (with a bus) any other. */
  const onlineAnywhere = async (deviceIds: readonly DeviceId[]) => {
    const on = new Set(deviceIds.filter((d) => hub.get(d)));
    if (o.bus && on.size < deviceIds.length)
      for (const d of (await o.bus.locate(deviceIds)).keys()) on.add(d);
    return on;
  };
  // The providers whose credentials the config sets, unless the caller brings its own.
  const pushProviders = o.push?.providers ?? [
    ...createPushProviders(config, {
      log,
      clock,
      // A subject alone: a lone node makes its own VAPID pair and keeps it in the data dir.
      vapidKeys: dataDirVapidKeys(config, config.store === 'sqlite' && config.bus === 'local' && !o.bus),
    }).values(),
  ];
  const webPush = pushProviders.find((p): p is WebPushProvider => p instanceof WebPushProvider);
  const push = wirePush({
    config,
    store,
    directory,
    limiters,
    clock,
    log,
    registry: metrics.registry,
    owner: o.bus?.nodeId ?? `${config.nodeId ?? 'node'}-${process.pid}-${randomBytes(3).toString('hex')}`,
    connectedHere: (deviceId) => hub.get(deviceId) !== undefined,
    online: onlineAnywhere,
    announce: (change) => cluster?.announcePush(change),
    overrides: { ...o.push, providers: pushProviders },
  });
  if (cluster) cluster.onPushChange = (change) => push.registrations.applyRemote(change);
  // Registry changes announced while the bus was down were missed: read them all again.
  let busWasDown = false;
  o.bus?.onState((state) => {
    if (state === 'down') busWasDown = true;
    else if (busWasDown) {
      busWasDown = false;
      push.registrations
        .load(() => stopping)
        .catch((err) => log.warn({ err }, 'reloading push registrations failed'));
    }
  });
  const sms = meteredSms(smsProvider, metrics);
  const timedCommits = {
    messageCommit: async (batch: Parameters<Store['messageCommit']>[0]) => {
      // No registration on the node: the batch goes as it is, without a wait.
      const withPush = push.registry.size === 0 ? batch : await push.withPushJobs(batch);
      const end = metrics.commitSeconds.startTimer();
      try {
        const results = await store.messageCommit(withPush);
        if (withPush !== batch) push.committed(withPush, results);
        return results;
      } finally {
        end();
        metrics.commitBatch.observe(batch.length);
      }
    },
  };
  const commits = new CommitQueue(timedCommits, {
    maxBatch: config.commitMaxBatch,
    windowMs: config.commitWindowMs,
    // A whole second of acked-but-not-durable sends: a crash test's kill always lands inside it,
    // even when the test process itself stalls for a few hundred milliseconds.
    ...(config.unsafeAckBeforeCommit && { unsafeAckBeforeCommitMs: 1000 }),
    onCommitted: (items, results) => {
      for (let i = 0; i < items.length; i++) {
        const r = results[i]!;
        const it = items[i]!;
        if (!r.ok || r.duplicate) continue;
        metrics.sends.inc();
        metrics.sendToDelivery.observe(Math.max(0, clock.now() - r.serverTime) / 1000);
        void hub.fanOut(
          {
            chatId: it.chatId,
            seq: r.seq,
            senderUserId: it.senderUserId,
            senderDeviceId: it.senderDeviceId,
            clientMessageId: it.clientMessageId,
            serverTime: r.serverTime,
            kind: 'payload',
            body:
              it.payload ??
              (it.meta?.type === 'delete' || it.meta?.type === 'reaction' ? new Uint8Array(0) : undefined),
            ...(it.meta && { meta: it.meta }),
            ...(r.expiresAt && { expiresAt: r.expiresAt }),
            ...(it.withheld && { withheld: true }),
          },
          it.devicePayloads,
        );
      }
    },
  });
  const registrationLock = new RegistrationLockService({
    store,
    clock,
    config,
    limiters,
    log,
    notify: (userId, notice) => {
      directory
        .devicesOf(userId)
        .then((deviceIds) =>
          hub.pushToDevices(deviceIds, {
            case: 'registrationAttempt',
            value: { ...notice, lockedUntil: BigInt(notice.lockedUntil), serverTime: BigInt(clock.now()) },
          }),
        )
        .catch((err) => log.warn({ err, userId }, 'could not tell devices about a registration attempt'));
    },
  });
  const auth = new AuthService({
    registrationLock,
    store,
    sms,
    clock,
    ids,
    config,
    limiters,
    digests,
    // Used tickets are remembered where every node sees them: in Redis whenever the node has it
    // (openNode passes the bus's client); memory only for a node without one.
    tickets: new SocketTickets(
      serverSecret,
      clock,
      o.limiterRedis ? new RedisTicketReplay(o.limiterRedis as RedisSetNx) : new MemoryTicketReplay(clock),
    ),
    log,
    onRevoked: (ids) => revoke(ids),
    onDevicesChanged: (userId) => directory.invalidateUser(userId),
  });
  const chats = new ChatService({ store, clock, ids, config, directory, commits, hub, limiters, blocks });
  const presence = new PresenceService(store, clock, log);
  presence.blocks = blocks;
  blocks.onChanged = (blocker, other) => {
    presence.blockChanged(blocker, other).catch((err) => log.warn({ err }, 'presence after a block failed'));
  };
  const reports = new ReportService({ store, directory, chats, blocks, limiters, clock, ids, log });
  const suspensions = new SuspensionWatcher({
    store,
    log,
    intervalMs: config.suspensionCheckMs,
    now: () => clock.now(),
    localDevicesOf: (userId) => [...hub.all()].filter((c) => c.userId === userId).map((c) => c.deviceId),
    close: (deviceIds, code, reason) => hub.closeDevices(deviceIds, code, reason),
  });
  if (cluster) {
    presence.remote = {
      connectedAnywhere: async (userId) => cluster.anyConnected(await directory.devicesOf(userId)),
    };
  }
  const keys = new KeyService({
    store,
    limiters,
    clock,
    config,
    log,
    notifyLow: (deviceId, oneTimeCount) =>
      hub.pushToDevices([deviceId], {
        case: 'keysLow',
        value: { oneTimeCount, target: config.oneTimePreKeysTarget },
      }),
  });
  const retry = new RetryService({
    chats,
    directory,
    limiters,
    config,
    push: (deviceId, body) => hub.pushToDevices([deviceId], body),
  });
  const discovery = new DiscoveryService({ store, clock, limiters, config, key: serverSecret });
  const profiles = new ProfileService({
    store,
    directory,
    blocks,
    clock,
    limiters,
    log,
    push: (deviceIds, body) => hub.pushToDevices(deviceIds, body),
  });
  const mutes = new MuteService({
    store,
    now: () => clock.now(),
    devicesOf: (userId) => directory.devicesOf(userId),
    push: (deviceIds, body) => hub.pushToDevices(deviceIds as DeviceId[], body),
  });
  const calls = new CallService({
    directory,
    hub,
    blocks,
    limiters,
    store,
    clock,
    config,
    log,
    ring: (call) => push.ringCall(call),
  });
  if (cluster && o.bus) {
    const nodeId = o.bus.nodeId;
    calls.cluster = new CallCluster(
      { nodeId, send: (node, msg) => cluster.relay(node, msg), online: onlineAnywhere },
      clock,
      config.callPendingMs,
    );
    cluster.onCall = (msg) => {
      calls.onBus(msg).catch((err) => log.warn({ err }, 'a call message from another node failed'));
    };
  }
  const dispatch = createDispatcher({
    calls,
    mutes,
    blocks,
    reports,
    keys,
    retry,
    discovery,
    profiles,
    chats,
    store,
    clock,
    config,
    limiters,
    presence,
    receipts,
    hub,
    directory,
    push: push.registrations,
  });
  const gateway = new Gateway({
    auth,
    hub,
    store,
    acks,
    touches,
    config,
    clock,
    log,
    dispatch,
    encodeDeliver,
    serverVersion: SERVER_VERSION,
    presence,
    receipts,
    keys,
    metrics,
    onConnected: (device) => calls.deviceConnected(device),
    sessionLimits: {
      window: config.deliveryWindow,
      pageSize: config.drainPageSize,
      sendBufferBytes: config.sendBufferBytes,
    },
  });
  let stopping = false;
  const mediaDir = resolve(config.mediaDir ?? join(config.dataDir, 'media'));
  const blobs = o.blobs ?? new LocalBlobStore(mediaDir);
  const media = new MediaService({
    blobs,
    store,
    clock,
    limiters,
    config,
    access: new MediaAccessRule(store, blocks),
    signer: new MediaUrlSigner(serverSecret, clock, config.mediaUrlTtlMs),
  });
  // Incomplete resumable uploads: in the bucket with S3 media (openNode), else beside local
  // media, where a finished one becomes a blob by a hard link rather than a copy.
  let uploadStore = o.uploadStore;
  let adopt = o.uploadAdopt;
  if (!uploadStore) {
    const dir = join(config.media === 'local' ? mediaDir : config.dataDir, 'uploads');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    uploadStore = fileUploadStore(dir);
    if (blobs instanceof LocalBlobStore && dirname(dir) === mediaDir)
      adopt ??= (id, uploadId, max, known) => blobs.adoptFile(id, join(dir, uploadId), max, known);
  }
  const uploads = new ResumableUploads({
    files: uploadStore,
    blobs,
    // With Redis, a PATCH on one node and a PATCH of the same upload on another never both write.
    ...(o.limiterRedis !== undefined && { locker: new RedisUploadLocker(o.limiterRedis as RedisLockClient) }),
    store,
    limiters,
    config,
    clock,
    log,
    ...(adopt && { adopt }),
  });
  const account = new AccountService({
    store,
    auth,
    chats,
    blobs,
    log,
    onErased: (userId, deviceIds) => {
      directory.invalidateUser(userId);
      revoke(deviceIds, 'account deleted');
    },
  });
  const routes = httpRoutes({
    auth,
    account,
    registrationLock,
    media,
    uploads,
    metrics,
    bodyTimeoutMs: config.httpBodyTimeoutMs,
    webPushPublicKey: webPush?.publicKey,
    ready: async () => {
      if (stopping) return false;
      try {
        await store.ping();
        await cluster?.ping();
        return true;
      } catch {
        return false;
      }
    },
  });
  let server: Server | undefined;
  let app: ReturnType<typeof createHttpApp> | undefined;
  let retentionTimer: NodeJS.Timeout | undefined;
  const retention = () =>
    runRetention({
      store,
      clock,
      log,
      retentionDays: config.retentionDays,
      linkedDeviceMaxIdleDays: config.linkedDeviceMaxIdleDays,
      connectedDevices: () => [...hub.all()].map((c) => c.deviceId),
      flushTouches: () => touches.flush(),
      onRevoked: (ids) => revoke(ids),
      blobs,
    });

  return {
    config,
    store,
    hub,
    push,
    runRetention: retention,
    url: () => {
      const addr = server?.address() as AddressInfo | null;
      return `http://127.0.0.1:${addr?.port ?? config.port}`;
    },
    async start() {
      const web = webClient({ enabled: config.webClient, dir: config.webDir });
      if (web && !web.built)
        log.warn({ dir: web.dir }, 'the web client is not built (run npm run build): / answers 404');
      // Settings the edge refuses (proxyProtocol without trustedProxies) stop the start first.
      app = createHttpApp(
        {
          log,
          corsOrigins: config.corsOrigins,
          version: SERVER_VERSION,
          web,
          serverFactory: (request) =>
            createEdge(config, log, {
              request,
              upgrade: async (req, socket, head) => {
                if ((req.url ?? '').split('?')[0] !== '/v1/ws') {
                  writeHttpError(
                    socket,
                    new ParleyError('NOT_FOUND', 'WebSocket upgrades are served on /v1/ws'),
                  );
                  return;
                }
                await gateway.handleUpgrade(req, socket, head);
              },
            }),
        },
        routes,
      );
      server = app.server;
      await app.ready();
      // The database must be open, and as durable as configured, before anything is accepted.
      const mode = await store.ready;
      if (mode !== undefined && mode !== config.sqliteSynchronous) {
        throw new ParleyError(
          'UNAVAILABLE',
          `SQLite reports synchronous=${mode}, expected ${config.sqliteSynchronous}`,
        );
      }
      await cluster?.start();
      // Before any send is accepted: the commit path must know every push registration.
      const registered = await push.registrations.load(() => stopping);
      await new Promise<void>((res, rej) => {
        server!.once('error', rej);
        server!.listen({ port: config.port, host: config.host, backlog: config.listenBacklog }, () => res());
      });
      if (!o.bus) {
        // One node: its directory never expires entries, so it loads the chats at start.
        const t0 = performance.now();
        directory
          .preload(() => stopping)
          .then((chats) =>
            log.info({ chats, ms: Math.round(performance.now() - t0) }, 'chat directory loaded'),
          )
          .catch((err) => {
            if (!stopping) log.warn({ err }, 'loading the chat directory failed; chats load on first use');
          });
        blocks
          .preload(() => stopping)
          .catch((err) => {
            if (!stopping) log.warn({ err }, 'loading block lists failed; they load on first use');
          });
      }
      retentionTimer = setInterval(() => {
        retention().catch((err) => log.error({ err }, 'retention run failed'));
      }, config.retentionIntervalMs);
      retentionTimer.unref();
      suspensions.start();
      calls.start(config.callSweepMs);
      if (push.enabled) push.worker.start();
      if (registered > 0 || push.enabled) log.info({ registered, worker: push.enabled }, 'push ready');
      const port = (server.address() as AddressInfo).port;
      log.info(
        {
          port,
          host: config.host,
          store: config.store === 'sqlite' ? `sqlite (synchronous=${config.sqliteSynchronous})` : 'postgres',
          bus: o.bus ? o.bus.nodeId : 'local',
        },
        'parley node listening',
      );
      return port;
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      if (retentionTimer) clearInterval(retentionTimer);
      suspensions.stop();
      calls.stop();
      const pushStopped = push.close();
      // /readyz answers 503 from now on, on a port still open: the balancer must see that
      // before connections are refused, or it keeps sending clients here until its checks fail.
      if (server && config.shutdownDrainMs > 0)
        await new Promise((r) => setTimeout(r, config.shutdownDrainMs));
      gateway.stopAccepting();
      gateway.pauseAll();
      const grace = new Promise<void>((r) => setTimeout(r, config.shutdownGraceMs).unref());
      await Promise.race([Promise.all([commits.idle(), chats.idle()]), grace]);
      await acks.flush();
      gateway.closeAll(CloseCodes.GOING_AWAY, 'server shutting down');
      server?.close();
      server?.closeAllConnections();
      await app?.close();
      // Let the sockets finish closing (last-seen times are written then) before the store goes.
      for (let waited = 0; hub.size > 0 && waited < 1000; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      await acks.flush();
      await touches.flush();
      keys.stop();
      receipts.stop();
      await pushStopped;
      await cluster?.stop().catch((err) => log.warn({ err }, 'closing the bus failed'));
      await store.close();
      uploads.close();
      await blobs.close();
      log.info('parley node stopped');
    },
  };
}

/** A node from its config, opening PostgreSQL and Redis first when the config names them. */
export async function openNode(config: Config, o: NodeOverrides = {}): Promise<ParleyNode> {
  const log = o.log ?? createLogger(config.logLevel);
  // Checked before PostgreSQL, Redis or S3 is opened, so a missing setting leaves nothing open.
  const serverSecret = o.serverSecret ?? loadServerSecret(config, o.bus !== undefined);
  const sms = o.sms ?? createSmsProvider(config, { log, clock: o.clock ?? systemClock });
  let store = o.store;
  let bus = o.bus;
  let limiterRedis = o.limiterRedis;
  let blobs = o.blobs;
  let uploadStore = o.uploadStore;
  let uploadAdopt = o.uploadAdopt;
  try {
    if (!blobs && config.media !== 'local') {
      const { S3BlobStore } = await import('./adapters/blobs/s3/s3-blobs.js');
      const s3 = {
        url: config.media,
        region: config.s3Region,
        forcePathStyle: config.s3ForcePathStyle,
        ...(config.s3Endpoint && { endpoint: config.s3Endpoint }),
      };
      const s3Blobs = await S3BlobStore.open(s3);
      blobs = s3Blobs;
      if (!uploadStore) {
        const { s3UploadStore } = await import('./media/s3-uploads.js');
        uploadStore = s3UploadStore({ ...s3, partsInFlight: config.s3PartsInFlight });
        // A finished upload is an object of the same bucket: copied within it, not through the node.
        uploadAdopt ??= (id, uploadId, max, known) => s3Blobs.adoptObject(id, uploadId, max, known);
      }
    }
    if (!store && config.store !== 'sqlite') {
      const { PostgresStore } = await import('./adapters/store/postgres/postgres-store.js');
      store = await PostgresStore.open(config.store, {
        poolSize: config.postgresPoolSize,
        statementTimeoutMs: config.postgresStatementTimeoutMs,
        lockTimeoutMs: config.postgresLockTimeoutMs,
        allowUnsafeDurability: config.allowUnsafeDurability,
        log,
      });
    }
    if (!bus && config.bus !== 'local') {
      const { RedisBus } = await import('./adapters/bus/redis/redis-bus.js');
      const redisBus = await RedisBus.open({
        nodeId: config.nodeId ?? defaultNodeId(),
        url: config.bus,
        onError: (err) => log.warn({ err: (err as Error).message }, 'bus error'),
      });
      bus = redisBus;
      limiterRedis ??= redisBus.client;
    }
  } catch (err) {
    await store?.close().catch(() => {});
    if (blobs !== o.blobs) await blobs?.close().catch(() => {});
    throw err;
  }
  return createNode(config, {
    ...o,
    log,
    serverSecret,
    sms,
    ...(blobs && { blobs }),
    ...(uploadStore && { uploadStore }),
    ...(uploadAdopt && { uploadAdopt }),
    ...(store && { store }),
    ...(bus && { bus }),
    ...(limiterRedis !== undefined && { limiterRedis }),
  });
}

function defaultNodeId(): string {
  return `${hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
