/**
 * createNode: the one place where ports are wired to features. Nothing here is global, so
 * a test can run several nodes in one process. start() listens; stop() drains in-flight
 * commits and acks, then closes sockets with 1001 and the store.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { CloseCodes, encodeFrame, makeFrame, ParleyError } from '@parley/protocol';
import { ConsoleSms } from './adapters/sms/console-sms.js';
import { SqliteStore } from './adapters/store/sqlite/sqlite-store.js';
import { SqliteWorkerStore } from './adapters/store/sqlite-worker/worker-store.js';
import { AuthService } from './auth/service.js';
import { CommitQueue } from './chat/commit-queue.js';
import { Directory } from './chat/directory.js';
import { ChatService } from './chat/service.js';
import type { Config } from './config/schema.js';
import { AckFlusher } from './delivery/ack-flusher.js';
import { type FrameEncoder, Hub } from './delivery/hub.js';
import { createDispatcher } from './gateway/dispatch.js';
import { encodeDeliverBinary } from './gateway/fast-codec.js';
import { createHttpHandler } from './gateway/http.js';
import { toWireMessage } from './gateway/wire.js';
import { Gateway } from './gateway/ws.js';
import { Limiters } from './limits/limiters.js';
import { createLogger, type Logger } from './log.js';
import { type Clock, systemClock } from './ports/clock.js';
import { type Ids, randomIds } from './ports/ids.js';
import type { SmsProvider } from './ports/sms.js';
import type { Store } from './ports/store.js';
import type { DeviceId } from './ports/types.js';
import { PresenceService } from './presence/service.js';
import { ReceiptService } from './receipts/service.js';
import { runRetention } from './retention/job.js';
import { SERVER_VERSION } from './version.js';

export interface NodeOverrides {
  clock?: Clock;
  ids?: Ids;
  sms?: SmsProvider;
  store?: Store;
  log?: Logger;
}

export interface ParleyNode {
  readonly config: Config;
  readonly store: Store;
  readonly hub: Hub;
  /** Listens; resolves with the bound port. */
  start(): Promise<number>;
  /** Graceful stop: finish commits and acks, close sockets (1001), close the store. */
  stop(): Promise<void>;
  /** Runs the retention job once (it also runs on its interval). */
  runRetention(): Promise<{ expired: number; retired: number }>;
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

function openStore(config: Config): Store & { ready?: Promise<string> } {
  if (config.sqliteSynchronous !== 'FULL' && !config.allowUnsafeDurability) {
    throw new ParleyError(
      'INVALID_ARGUMENT',
      `sqliteSynchronous=${config.sqliteSynchronous} can lose acknowledged messages on power loss; set allowUnsafeDurability=true to accept that`,
    );
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const options = { path: join(resolve(config.dataDir), 'parley.db'), synchronous: config.sqliteSynchronous };
  if (config.sqliteWorker) return SqliteWorkerStore.open(options);
  const store = new SqliteStore(options);
  return Object.assign(store, { ready: Promise.resolve(store.synchronous) });
}

export function createNode(config: Config, o: NodeOverrides = {}): ParleyNode {
  const log = o.log ?? createLogger(config.logLevel);
  const clock = o.clock ?? systemClock;
  const ids = o.ids ?? randomIds;
  const store: Store & { ready?: Promise<string> } = o.store ?? openStore(config);
  if (!o.sms) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const sms = o.sms ?? new ConsoleSms({ dev: config.dev, dataDir: config.dataDir, log });
  const limiters = new Limiters(config);
  const directory = new Directory(store);
  const hub = new Hub(directory, encodeDeliver, (err) =>
    log.warn({ err }, 'live fan-out failed; devices will read the message from the store'),
  );
  const receipts = new ReceiptService({ store, hub, directory, clock, log });
  const acks = new AckFlusher(store, log, config.ackFlushMs, (batch) =>
    receipts.delivered(batch.map((a) => ({ chatId: a.chatId, userId: a.userId, seq: a.seq }))),
  );
  const revoke = (deviceIds: DeviceId[]) => {
    for (const id of deviceIds) {
      const c = hub.get(id);
      if (c) directory.invalidateUser(c.userId);
    }
    // Retired devices may not be connected here: their users' cached lists go too.
    if (deviceIds.length) directory.invalidateAllDevices();
    hub.closeDevices(deviceIds, CloseCodes.REVOKED, 'device credential revoked');
  };
  const commits = new CommitQueue(store, {
    maxBatch: config.commitMaxBatch,
    windowMs: config.commitWindowMs,
    ...(config.unsafeAckBeforeCommit && { unsafeAckBeforeCommitMs: 200 }),
    onCommitted: (items, results) => {
      for (let i = 0; i < items.length; i++) {
        const r = results[i]!;
        const it = items[i]!;
        if (!r.ok || r.duplicate) continue;
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
          },
          it.devicePayloads,
        );
      }
    },
  });
  const auth = new AuthService({
    store,
    sms,
    clock,
    ids,
    config,
    limiters,
    log,
    onRevoked: revoke,
    onDevicesChanged: (userId) => directory.invalidateUser(userId),
  });
  const chats = new ChatService({ store, clock, ids, config, directory, commits, hub, limiters });
  const presence = new PresenceService(store, clock, log);
  const dispatch = createDispatcher({
    chats,
    store,
    clock,
    config,
    limiters,
    presence,
    receipts,
    hub,
    directory,
  });
  const gateway = new Gateway({
    auth,
    hub,
    store,
    acks,
    config,
    clock,
    log,
    dispatch,
    encodeDeliver,
    serverVersion: SERVER_VERSION,
    presence,
    receipts,
    sessionLimits: {
      window: config.deliveryWindow,
      pageSize: config.drainPageSize,
      sendBufferBytes: config.sendBufferBytes,
    },
  });
  let stopping = false;
  const httpHandler = createHttpHandler({
    auth,
    log,
    ready: async () => {
      if (stopping) return false;
      try {
        await store.ping();
        return true;
      } catch {
        return false;
      }
    },
  });
  let server: Server | undefined;
  let retentionTimer: NodeJS.Timeout | undefined;
  const retention = () =>
    runRetention({
      store,
      clock,
      log,
      retentionDays: config.retentionDays,
      linkedDeviceMaxIdleDays: config.linkedDeviceMaxIdleDays,
      connectedDevices: () => [...hub.all()].map((c) => c.deviceId),
      onRevoked: revoke,
    });

  return {
    config,
    store,
    hub,
    runRetention: retention,
    url: () => {
      const addr = server?.address() as AddressInfo | null;
      return `http://127.0.0.1:${addr?.port ?? config.port}`;
    },
    async start() {
      // The database must be open, and as durable as configured, before anything is accepted.
      const mode = await store.ready;
      if (mode !== undefined && mode !== config.sqliteSynchronous) {
        throw new ParleyError(
          'UNAVAILABLE',
          `SQLite reports synchronous=${mode}, expected ${config.sqliteSynchronous}`,
        );
      }
      server = createServer((req, res) => void httpHandler(req, res));
      server.on('upgrade', (req, socket, head) => {
        if ((req.url ?? '').split('?')[0] !== '/v1/ws') {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
          return;
        }
        void gateway.handleUpgrade(req, socket, head);
      });
      server.keepAliveTimeout = 5000;
      await new Promise<void>((res, rej) => {
        server!.once('error', rej);
        server!.listen(config.port, config.host, () => res());
      });
      retentionTimer = setInterval(() => {
        retention().catch((err) => log.error({ err }, 'retention run failed'));
      }, config.retentionIntervalMs);
      retentionTimer.unref();
      const port = (server.address() as AddressInfo).port;
      log.info({ port, host: config.host, synchronous: config.sqliteSynchronous }, 'parley node listening');
      return port;
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      if (retentionTimer) clearInterval(retentionTimer);
      gateway.stopAccepting();
      gateway.pauseAll();
      server?.close();
      const grace = new Promise<void>((r) => setTimeout(r, config.shutdownGraceMs).unref());
      await Promise.race([commits.idle(), grace]);
      await acks.flush();
      gateway.closeAll(CloseCodes.GOING_AWAY, 'server shutting down');
      server?.closeAllConnections();
      // Let the sockets finish closing (last-seen times are written then) before the store goes.
      for (let waited = 0; hub.size > 0 && waited < 1000; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      await acks.flush();
      await store.close();
      log.info('parley node stopped');
    },
  };
}
