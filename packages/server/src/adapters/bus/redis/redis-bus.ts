/**
 * Bus on Redis: one server (`redis://`) or a Redis Cluster (`redis+cluster://`). Redis holds
 * device locations (keys with a TTL) and carries small messages; it never holds the only copy
 * of anything, so losing it costs a re-read of the store, never data.
 * Connections: one for commands (auto-pipelined; no offline queue, so calls fail fast while
 * Redis is unreachable) and dedicated subscriber connections that this class re-subscribes
 * itself, so 'up' is reported only once a probe published to every channel came back again
 * (in a cluster: also after a failover, once the new master serves the channel).
 */
import { ParleyError } from '@parley/protocol';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import {
  asBusMessage,
  assertBusNodeId,
  assertBusTtl,
  type Bus,
  type BusHandler,
  type BusMessage,
  type BusState,
  encodeBusMessage,
} from '../../../ports/bus.js';
import type { DeviceId } from '../../../ports/types.js';

/**
 * Compare-and-delete of one device location.
 * KEYS[1]: the location key, `<prefix>loc:{<deviceId>}`
 * ARGV[1]: the node id that must still own it
 * Returns 1 when deleted, 0 when absent or owned by another node.
 */
const RELEASE_LOCATION_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

export interface RedisAddress {
  host: string;
  port: number;
}

/** Where the bus connects: a single server (any ioredis URL) or the seed nodes of a cluster. */
export type BusUrl =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: RedisAddress[]; username?: string; password?: string; tls: boolean };

const URL_FORMS =
  'redis://[user:password@]host:port[/db], rediss://… (TLS) or redis+cluster://host1:port1,host2:port2';

/**
 * Parses `redis://h:p`, `rediss://h:p` (TLS), `redis+cluster://h1:p1,h2:p2,…` or
 * `rediss+cluster://…`; user and password may precede the hosts. Error messages never
 * repeat the URL, which may hold a password.
 */
export function parseBusUrl(url: string): BusUrl {
  const m = /^(rediss?)(\+cluster)?:\/\/([^/?#]*)([/?#].*)?$/i.exec(url.trim());
  if (!m) throw new Error(`the bus URL is not one of ${URL_FORMS}`);
  const [, scheme, cluster, authority = '', rest = ''] = m;
  const at = authority.lastIndexOf('@');
  const hosts = authority.slice(at + 1);
  if (!cluster) {
    if (hosts.includes(',')) throw new Error('a bus URL with several hosts must use redis+cluster://');
    if (hosts === '') throw new Error(`the bus URL has no host; expected ${URL_FORMS}`);
    return { kind: 'single', url: url.trim() };
  }
  if (rest !== '' && rest !== '/') throw new Error('a redis+cluster:// URL takes no database or options');
  const nodes = hosts.split(',').map(parseAddress);
  const target: BusUrl = { kind: 'cluster', nodes, tls: scheme!.toLowerCase() === 'rediss' };
  if (at >= 0) {
    const info = authority.slice(0, at);
    const colon = info.indexOf(':');
    const user = decodeURIComponent(colon < 0 ? info : info.slice(0, colon));
    if (user !== '') target.username = user;
    if (colon >= 0) target.password = decodeURIComponent(info.slice(colon + 1));
  }
  return target;
}

function parseAddress(text: string): RedisAddress {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[2] === undefined ? 6379 : Number(m[2]);
  if (!m || port < 1 || port > 65535)
    throw new Error(`bad cluster node "${text}" in the bus URL (host:port)`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export interface RedisBusOptions {
  nodeId: string;
  /** See {@link parseBusUrl}. */
  url: string;
  /** Prefix of every key and channel; default 'parley:'. Without braces, which would change cluster slots. */
  keyPrefix?: string;
  /** A call without an answer in this time rejects UNAVAILABLE; default 2000. */
  commandTimeoutMs?: number;
  /** How long `open` and `start` wait for Redis; default 10000. */
  connectTimeoutMs?: number;
  /**
   * Every this many ms, a probe sent to this node's own channels must come back, else the
   * subscriptions are rebuilt (a half-open socket otherwise drops messages silently). 0 = off;
   * default 5000.
   */
  healthCheckMs?: number;
  /** Connection errors (at most one per 5 s) and handler errors; default console.error. */
  onError?: (err: unknown) => void;
}

type Commands = (Redis | Cluster) & {
  parleyReleaseLocation(key: string, nodeId: string): Promise<number>;
};

interface Subscription {
  readonly channels: string[];
  conn: Redis | undefined;
  /** The connection of an attempt in progress, closed by `close`. */
  connecting: Redis | undefined;
  /** Cluster: the node that answered last (or redirected us), tried first next time. */
  address: RedisAddress | undefined;
  attempts: number;
  timer: NodeJS.Timeout | undefined;
  /** `timer` will start the next attempt (rather than pace a wait in `confirmDelivery`). */
  retryPending: boolean;
}

type IoRedis = Pick<typeof import('ioredis'), 'Redis' | 'Cluster'>;

/** A cluster node's redirect: the command ran nowhere, and the slot now lives elsewhere. */
const isMoved = (err: unknown) => err instanceof Error && err.message.startsWith('MOVED ');

/** Reconnect delays: 100 ms doubling to 2 s, with jitter so nodes do not reconnect in step. */
const backoff = (attempt: number) =>
  Math.min(100 * 2 ** Math.min(attempt, 5), 2000) * (0.75 + Math.random() / 2);

export class RedisBus implements Bus {
  readonly nodeId: string;
  private readonly cmd: Commands;
  private readonly sharded: boolean;
  private readonly prefix: string;
  private readonly nodeChannel: string;
  private readonly broadcastChannel: string;
  private readonly envelopeHead: string;
  private readonly commandTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly healthCheckMs: number;
  private readonly onError: (err: unknown) => void;
  private readonly listeners: ((state: BusState) => void)[] = [];
  private readonly probes = new Map<string, () => void>();
  private readonly dropped = new WeakSet<Redis>();
  private subs: Subscription[] = [];
  private handler: BusHandler | undefined;
  private started = false;
  private closed = false;
  private state: BusState = 'down';
  private lastErrorAt = 0;
  private probeSeq = 0;
  private probing = false;
  private healthTimer: NodeJS.Timeout | undefined;

  /** Connects the command connection (loading ioredis only now) and resolves once Redis answers. */
  static async open(options: RedisBusOptions): Promise<RedisBus> {
    const target = parseBusUrl(options.url);
    const bus = new RedisBus(options, target, await import('ioredis'));
    try {
      await bus.commandsReady();
    } catch (err) {
      await bus.close();
      throw err;
    }
    return bus;
  }

  private constructor(
    options: RedisBusOptions,
    private readonly target: BusUrl,
    private readonly ioredis: IoRedis,
  ) {
    assertBusNodeId(options.nodeId);
    this.nodeId = options.nodeId;
    this.prefix = options.keyPrefix ?? 'parley:';
    if (/[{}\s]/.test(this.prefix)) throw new Error('the bus key prefix may not hold braces or spaces');
    this.commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.healthCheckMs = options.healthCheckMs ?? 5000;
    this.onError = options.onError ?? ((err) => console.error('redis bus:', err));
    this.sharded = target.kind === 'cluster';
    // Node channels are hash-tagged by node id so each lives on one slot, and in a cluster
    // they use sharded pub/sub: a message touches only that shard instead of being relayed to
    // every cluster node. The broadcast is also a sharded channel there: one shard serves it
    // (broadcasts are rare: presence, settings), and every subscription is then of one kind.
    this.nodeChannel = `${this.prefix}node:{${this.nodeId}}`;
    this.broadcastChannel = `${this.prefix}broadcast`;
    this.envelopeHead = `{"f":${JSON.stringify(this.nodeId)},"m":`;
    this.cmd = this.connectCommands();
  }

  /**
   * The command connection, for other small shared state that lives in Redis (rate-limit
   * counters). Never for message content.
   */
  get client(): Redis | Cluster {
    return this.cmd;
  }

  async start(handler: BusHandler): Promise<void> {
    this.checkOpen();
    if (this.handler) throw new ParleyError('UNAVAILABLE', 'bus already started');
    this.handler = handler;
    const sub = (channels: string[]): Subscription => ({
      channels,
      conn: undefined,
      connecting: undefined,
      address: undefined,
      attempts: 0,
      timer: undefined,
      retryPending: false,
    });
    // A cluster may place the two channels on different shards: one connection each.
    this.subs = this.sharded
      ? [sub([this.nodeChannel]), sub([this.broadcastChannel])]
      : [sub([this.nodeChannel, this.broadcastChannel])];
    for (const s of this.subs) void this.keepSubscribed(s);
    const until = Date.now() + this.connectTimeoutMs;
    while (!this.subs.every((s) => s.conn)) {
      if (this.closed) throw new ParleyError('UNAVAILABLE', 'bus closed');
      if (Date.now() > until) throw new ParleyError('UNAVAILABLE', 'redis bus: could not subscribe in time');
      await new Promise((r) => setTimeout(r, 10));
    }
    this.started = true;
    this.state = this.currentState();
    if (this.healthCheckMs > 0) {
      this.healthTimer = setInterval(() => void this.checkHealth(), this.healthCheckMs);
      this.healthTimer.unref();
    }
  }

  async register(deviceIds: readonly DeviceId[], ttlMs: number): Promise<void> {
    assertBusTtl(ttlMs);
    await this.guard('register', () =>
      Promise.all(deviceIds.map((d) => this.cmd.set(this.locationKey(d), this.nodeId, 'PX', ttlMs))),
    );
  }

  async unregister(deviceIds: readonly DeviceId[]): Promise<void> {
    await this.guard('unregister', () =>
      Promise.all(deviceIds.map((d) => this.cmd.parleyReleaseLocation(this.locationKey(d), this.nodeId))),
    );
  }

  async locate(deviceIds: readonly DeviceId[]): Promise<Map<DeviceId, string>> {
    // One GET per key, auto-pipelined: ioredis groups them into one pipeline per server (per
    // cluster master), which MGET cannot do across the slots of a cluster.
    const nodes = await this.guard('locate', () =>
      Promise.all(deviceIds.map((d) => this.cmd.get(this.locationKey(d)))),
    );
    const found = new Map<DeviceId, string>();
    deviceIds.forEach((d, i) => {
      const nodeId = nodes[i];
      if (nodeId) found.set(d, nodeId);
    });
    return found;
  }

  async sendToNode(nodeId: string, msg: BusMessage): Promise<void> {
    assertBusNodeId(nodeId);
    const text = this.envelopeHead + encodeBusMessage(msg) + '}';
    await this.publish(`${this.prefix}node:{${nodeId}}`, text);
  }

  async broadcast(msg: BusMessage): Promise<void> {
    const text = this.envelopeHead + encodeBusMessage(msg) + '}';
    await this.publish(this.broadcastChannel, text);
  }

  async ping(): Promise<void> {
    await this.guard('ping', () => this.cmd.ping());
  }

  onState(listener: (state: BusState) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.healthTimer);
    for (const s of this.subs) {
      clearTimeout(s.timer);
      s.connecting?.disconnect();
      s.conn?.disconnect();
      s.conn = undefined;
    }
    for (const arrived of this.probes.values()) arrived();
    this.cmd.disconnect();
  }

  private connectCommands(): Commands {
    const { Redis, Cluster } = this.ioredis;
    // maxRetriesPerRequest 0: calls in flight when the connection drops reject at once instead
    // of waiting for a reconnect; disconnectTimeout: a stuck socket is destroyed soon.
    const common = {
      connectTimeout: this.connectTimeoutMs,
      maxRetriesPerRequest: 0,
      disconnectTimeout: this.commandTimeoutMs,
    } satisfies RedisOptions;
    let cmd: Redis | Cluster;
    if (this.target.kind === 'single') {
      cmd = new Redis(this.target.url, {
        ...common,
        enableAutoPipelining: true,
        enableOfflineQueue: false,
        retryStrategy: backoff, // forever
      });
    } else {
      const options: ClusterOptions = {
        enableAutoPipelining: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: backoff, // forever
        redisOptions: { ...common, ...this.credentials() },
      };
      cmd = new Cluster(this.target.nodes, options);
      cmd.on('refresh', () => this.retryWaitingSubscriptions());
    }
    cmd.defineCommand('parleyReleaseLocation', { numberOfKeys: 1, lua: RELEASE_LOCATION_LUA });
    for (const event of ['ready', 'close', 'end', 'reconnecting']) cmd.on(event, () => this.updateState());
    cmd.on('error', (err) => this.reportError(err));
    cmd.on('node error', (err) => this.reportError(err));
    return cmd as Commands;
  }

  private credentials(): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
    if (this.target.kind === 'single') return {};
    const { username, password, tls } = this.target;
    return { username, password, ...(tls ? { tls: {} } : {}) };
  }

  private async commandsReady(): Promise<void> {
    if (this.cmd.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.cmd.off('ready', ready);
        reject(new ParleyError('UNAVAILABLE', `redis bus: no connection within ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      const ready = () => {
        clearTimeout(timer);
        resolve();
      };
      this.cmd.once('ready', ready);
    });
  }

  private publish(channel: string, text: string): Promise<unknown> {
    return this.guard('publish', () =>
      this.sharded ? this.cmd.spublish(channel, text) : this.cmd.publish(channel, text),
    );
  }

  /**
   * Runs one call with a deadline; any failure becomes UNAVAILABLE (callers treat the bus as
   * best effort). In a cluster, a call answered MOVED ran nowhere: it is tried once more, after
   * the slot map is read again (see `followTopology`).
   */
  private async guard<T>(what: string, run: () => Promise<T>): Promise<T> {
    this.checkOpen();
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        reject(new Error(`no answer in ${this.commandTimeoutMs} ms`));
      }, this.commandTimeoutMs);
    });
    try {
      const call = run().catch(async (err: unknown) => {
        if (!this.sharded || !isMoved(err)) throw err;
        await this.followTopology();
        if (late || this.closed) throw err;
        return run();
      });
      call.catch(() => {}); // when the deadline wins, a later rejection is expected and ignored
      return await Promise.race([call, deadline]);
    } catch (err) {
      throw new ParleyError('UNAVAILABLE', `redis bus: ${what} failed`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Reads the cluster's slot map again. After a failover, ioredis keeps sending a slot's
   * commands to where it used to live until something refreshes its map; it follows a MOVED
   * reply itself only when every command of an auto-pipelined batch got the same one, so a
   * batch spread over several slots fails instead. One refresh runs at a time (ioredis joins
   * concurrent calls), and a failed refresh just leaves the retry to fail.
   */
  private followTopology(): Promise<void> {
    return new Promise((resolve) => (this.cmd as Cluster).refreshSlotsCache(() => resolve()));
  }

  private checkOpen(): void {
    if (this.closed) throw new ParleyError('UNAVAILABLE', 'bus closed');
  }

  private locationKey(deviceId: DeviceId): string {
    return `${this.prefix}loc:{${deviceId}}`;
  }

  /**
   * Subscribes `s` (retrying with backoff until it works or the bus closes), and again whenever
   * its connection drops or the server ends the subscription: a cluster node that stops serving
   * the channel's slot (its master role went to a replica in a failover, or the slot migrated)
   * sends an unsolicited SUNSUBSCRIBE and keeps the connection open, which ioredis reports as
   * 'moved'. Without this the channel would go quiet until the health check noticed.
   */
  private async keepSubscribed(s: Subscription): Promise<void> {
    if (this.closed) return;
    let conn: Redis;
    try {
      conn = await this.subscribe(s);
    } catch (err) {
      this.reportError(err);
      this.retrySubscribe(s);
      return;
    }
    if (!(await this.confirmDelivery(s, conn))) {
      conn.disconnect();
      this.retrySubscribe(s);
      return;
    }
    s.attempts = 0;
    s.conn = conn;
    conn.once('end', () => this.dropSubscriber(s, conn));
    conn.on('moved', () => this.dropSubscriber(s, conn));
    this.updateState();
  }

  /**
   * Waits until a probe published through the command connection comes back on `conn`, trying
   * again with backoff; only then does the subscription count (and 'up' follow). A cluster
   * replica accepts SSUBSCRIBE for its master's slots even while that master is dead and
   * nothing can be published to the channel: without this, 'up' (and the node's re-read of its
   * sessions) would come before the failover ends. False once `conn` ends, the server ends its
   * subscription, or the bus closes.
   */
  private async confirmDelivery(s: Subscription, conn: Redis): Promise<boolean> {
    const usable = () => !this.closed && conn.status === 'ready' && !this.dropped.has(conn);
    s.connecting = conn; // closed by `close` while we wait
    try {
      for (let attempt = 0; usable(); attempt++) {
        const results = await Promise.all(s.channels.map((c) => this.probe(c, this.commandTimeoutMs)));
        if (results.every((r) => r === 'ok')) return usable();
        await new Promise((resolve) => {
          s.timer = setTimeout(resolve, backoff(attempt)); // cleared by `close`: never resolves then
        });
      }
      return false;
    } finally {
      s.connecting = undefined;
    }
  }

  /** Forgets `conn` (closing it if needed) and subscribes `s` again; a no-op when `conn` is already replaced. */
  private dropSubscriber(s: Subscription, conn: Redis): void {
    if (s.conn !== conn) return;
    s.conn = undefined;
    this.dropped.add(conn);
    conn.disconnect();
    this.updateState();
    this.retrySubscribe(s);
  }

  private retrySubscribe(s: Subscription, delayMs = backoff(s.attempts++)): void {
    if (this.closed) return;
    clearTimeout(s.timer);
    s.retryPending = true;
    s.timer = setTimeout(() => {
      s.retryPending = false;
      void this.keepSubscribed(s);
    }, delayMs);
  }

  /**
   * Cluster: ioredis read the slot map again (it does while a node is unreachable, so every
   * ~100 ms during a failover, and after a MOVED). A subscription waiting out its backoff may
   * find its shard's new master now: try it soon, and with a short backoff again, since the
   * nodes may take a moment to agree on the new master.
   */
  private retryWaitingSubscriptions(): void {
    for (const s of this.subs) {
      if (!s.retryPending) continue;
      s.attempts = 0;
      this.retrySubscribe(s, backoff(0));
    }
  }

  /**
   * One subscribe attempt on a fresh connection. In a cluster it subscribes on the master of
   * the channel's slot, following MOVED there: a replica would accept SSUBSCRIBE too, but a
   * new master forwards messages only to the replicas it already knows, so just after a
   * failover a subscriber on a replica misses messages that a probe sent to the replica itself
   * would not reveal. A key command on the channel's name (a key of the same slot, never
   * written) is what a replica redirects to its master.
   */
  private async subscribe(s: Subscription): Promise<Redis> {
    let address = s.address ?? this.clusterNodeToTry(s.attempts);
    s.address = undefined; // kept only once it works again
    for (let redirects = 0; ; redirects++) {
      const conn = this.newSubscriber(address);
      s.connecting = conn;
      try {
        await conn.connect();
        if (this.sharded) await this.withDeadline(conn.exists(s.channels[0]!), this.commandTimeoutMs);
        await this.withDeadline(
          this.sharded ? conn.ssubscribe(...s.channels) : conn.subscribe(...s.channels),
          this.commandTimeoutMs,
        );
        s.address = address;
        return conn;
      } catch (err) {
        conn.disconnect();
        const moved = /^MOVED \d+ (.+):(\d+)$/.exec((err as Error).message ?? '');
        if (!moved || redirects >= 3) throw err;
        address = { host: moved[1]!, port: Number(moved[2]) };
      } finally {
        s.connecting = undefined;
      }
    }
  }

  /** Cluster: the seed nodes of the URL and the masters currently known, taken in turn. */
  private clusterNodeToTry(attempt: number): RedisAddress | undefined {
    if (this.target.kind !== 'cluster') return undefined;
    const known: RedisAddress[] = [];
    for (const { options } of (this.cmd as Cluster).nodes('master')) {
      if (options.host !== undefined && options.port !== undefined)
        known.push({ host: options.host, port: options.port });
    }
    const all = [...known, ...this.target.nodes];
    return all[attempt % all.length];
  }

  private newSubscriber(address: RedisAddress | undefined): Redis {
    const { Redis } = this.ioredis;
    const options: RedisOptions = {
      connectTimeout: this.connectTimeoutMs,
      lazyConnect: true,
      retryStrategy: () => null, // keepSubscribed reconnects, possibly to another shard
      autoResubscribe: false,
      maxRetriesPerRequest: 0,
      disconnectTimeout: this.commandTimeoutMs,
      ...this.credentials(),
    };
    const conn =
      this.target.kind === 'single'
        ? new Redis(this.target.url, options)
        : new Redis({ ...options, ...address });
    // Marks a subscription the server ended before keepSubscribed took the connection (a MOVED
    // reply to SSUBSCRIBE also says 'moved', but then the attempt fails and conn is discarded).
    conn.once('moved', () => this.dropped.add(conn));
    conn.on(this.sharded ? 'smessage' : 'message', (_channel: string, text: string) => {
      // A replaced connection may still be draining: its messages would arrive twice.
      if (!this.dropped.has(conn)) this.receive(text);
    });
    conn.on('error', (err) => this.reportError(err));
    return conn;
  }

  private receive(text: string): void {
    if (this.closed || !this.handler) return;
    let envelope: { f?: unknown; m?: unknown; p?: unknown };
    try {
      envelope = JSON.parse(text);
    } catch {
      this.onError(new Error('redis bus: dropped a message that is not JSON'));
      return;
    }
    if (typeof envelope.p === 'string') {
      if (envelope.f === this.nodeId) this.probes.get(envelope.p)?.();
      return;
    }
    const msg = asBusMessage(envelope.m);
    if (!msg || typeof envelope.f !== 'string') {
      this.onError(new Error('redis bus: dropped a message without sender or kind'));
      return;
    }
    try {
      this.handler(msg, envelope.f);
    } catch (err) {
      this.onError(err);
    }
  }

  private currentState(): BusState {
    return this.cmd.status === 'ready' && this.subs.every((s) => s.conn) ? 'up' : 'down';
  }

  private updateState(): void {
    if (!this.started || this.closed) return;
    const state = this.currentState();
    if (state === this.state) return;
    this.state = state;
    for (const listener of this.listeners) {
      try {
        listener(state);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Reports a connection error, at most one per 5 s: every reconnect attempt of an outage repeats it. */
  private reportError(err: unknown): void {
    const now = Date.now();
    if (this.closed || now - this.lastErrorAt < 5000) return;
    this.lastErrorAt = now;
    this.onError(err);
  }

  /** Sends a probe on each of this node's channels; rebuilds the subscriptions when one does not come back. */
  private async checkHealth(): Promise<void> {
    if (this.state !== 'up' || this.probing || this.closed) return;
    this.probing = true;
    try {
      const results = await Promise.all(
        this.subs.flatMap((s) => s.channels.map((c) => this.probe(c, this.healthCheckMs))),
      );
      if (this.closed || this.state !== 'up') return;
      if (results.includes('unsent')) {
        // The command connection says ready but does not answer (a half-open socket): reconnect it.
        this.reportError(new Error('redis bus: a probe could not be sent; reconnecting'));
        this.cmd.disconnect(true);
      } else if (results.includes('lost')) {
        this.reportError(new Error('redis bus: a probe to this node did not come back; subscribing again'));
        for (const s of this.subs) if (s.conn) this.dropSubscriber(s, s.conn);
      }
    } finally {
      this.probing = false;
    }
  }

  /** Publishes a probe to `channel` through the command connection and waits `ms` for it to come back here. */
  private async probe(channel: string, ms: number): Promise<'ok' | 'unsent' | 'lost'> {
    const id = `${++this.probeSeq}`;
    const arrived = new Promise<void>((resolve) => this.probes.set(id, resolve));
    try {
      try {
        await this.publish(channel, `{"f":${JSON.stringify(this.nodeId)},"p":"${id}"}`);
      } catch {
        return 'unsent';
      }
      try {
        await this.withDeadline(arrived, ms);
        return 'ok';
      } catch {
        return 'lost';
      }
    } finally {
      this.probes.delete(id);
    }
  }

  private async withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
