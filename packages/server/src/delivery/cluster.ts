/**
 * What one node tells the others through the Bus, and what it does with what they tell it.
 * Nothing here carries message content: a `wake` names a chat and devices, whose node then
 * reads the messages from the store; pushes carry receipts, typing, presence and key
 * notices, which hold no content either.
 *
 * Rules:
 * - a device's location is registered when its socket is accepted, refreshed every
 *   `ttlMs / 3`, and removed (compare-and-delete) when it closes; a crashed node's entries
 *   expire with the TTL;
 * - a second connection of a device on another node replaces the first (`replace`);
 * - every change that invalidates a directory cache is broadcast (`inv`), and every change
 *   of a block list (`blocks`, naming the blocker);
 * - when the bus comes back after being down, every local device is registered again,
 *   every local session re-reads the store (wake-ups may have been lost) and the caches
 *   are dropped.
 */
import { CloseCodes, decodeFrame, encodeFrame, type FrameInit, makeFrame } from '@parley/protocol';
import type { BlockService } from '../blocks/service.js';
import type { Directory, Invalidation } from '../chat/directory.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Bus, BusMessage } from '../ports/bus.js';
import type { ChatId, DeviceId, UserId } from '../ports/types.js';
import type { PushRegistryChange } from '../push/registrations.js';
import type { Hub } from './hub.js';

export interface RemoteRouter {
  /** Devices of a chat's members not connected here: wake their sessions wherever they are. */
  wake(message: { chatId: ChatId; seq: number; serverTime: number }, deviceIds: readonly DeviceId[]): void;
  /** Pushes a frame body to devices not connected here. */
  push(deviceIds: readonly DeviceId[], body: FrameInit['body']): void;
  /** A device connected here (after the hub registered it). */
  connected(deviceId: DeviceId, userId: UserId): void;
  /** A device's connection here closed. */
  disconnected(deviceId: DeviceId, userId: UserId): void;
  /** Closes these devices' connections on every node. */
  closeEverywhere(deviceIds: readonly DeviceId[], code: number, reason: string): void;
}

export interface ClusterDeps {
  bus: Bus;
  hub: Hub;
  directory: Directory;
  blocks: BlockService;
  metrics: Metrics;
  log: Logger;
  ttlMs: number;
  /** A user's presence may have changed on another node. */
  onPresence(userId: UserId): void;
}

type Handler = (msg: BusMessage, from: string) => void;

export class Cluster implements RemoteRouter {
  private refreshTimer: NodeJS.Timeout | undefined;
  private wasDown = false;
  /** Another node changed push registrations (its registry change). */
  onPushChange: ((change: PushRegistryChange) => void) | undefined;
  /** A message of the calls feature (calls/cluster.ts). */
  onCall: ((msg: BusMessage) => void) | undefined;

  constructor(private readonly d: ClusterDeps) {
    d.directory.onInvalidate = (inv) => this.send('broadcast', { kind: 'inv', ...inv });
    d.blocks.onInvalidate = (userId, other) => this.send('broadcast', { kind: 'blocks', userId, other });
    d.bus.onState((state) => {
      d.log.warn({ state }, state === 'down' ? 'bus unreachable' : 'bus reachable again');
      if (state === 'down') this.wasDown = true;
      else if (this.wasDown) {
        this.wasDown = false;
        this.recover();
      }
    });
  }

  async start(): Promise<void> {
    await this.d.bus.start(this.onMessage);
    this.refreshTimer = setInterval(() => this.refresh(), Math.max(100, Math.floor(this.d.ttlMs / 3)));
    this.refreshTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    const ids = [...this.d.hub.all()].map((c) => c.deviceId);
    await this.d.bus.unregister(ids).catch(() => {});
    await this.d.bus.close();
  }

  wake(message: { chatId: ChatId; seq: number; serverTime: number }, deviceIds: readonly DeviceId[]): void {
    if (deviceIds.length === 0) return;
    const { chatId, seq, serverTime } = message;
    void this.byNode(deviceIds).then((groups) => {
      for (const [node, ids] of groups)
        this.send(node, { kind: 'wake', chatId, seq, serverTime, deviceIds: ids });
    });
  }

  push(deviceIds: readonly DeviceId[], body: FrameInit['body']): void {
    if (deviceIds.length === 0) return;
    const frame = encodeFrame(makeFrame({ id: 0, body }), 'json') as string;
    void this.byNode(deviceIds).then((groups) => {
      for (const [node, ids] of groups) this.send(node, { kind: 'push', deviceIds: ids, frame });
    });
  }

  connected(deviceId: DeviceId, userId: UserId): void {
    const at = Date.now();
    void this.d.metrics
      .bus('locate', () => this.d.bus.locate([deviceId]))
      .then(async (loc) => {
        const other = loc.get(deviceId);
        if (other && other !== this.d.bus.nodeId) this.send(other, { kind: 'replace', deviceId, at });
        await this.d.metrics.bus('register', () => this.d.bus.register([deviceId], this.d.ttlMs));
        this.send('broadcast', { kind: 'presence', userId });
      })
      .catch((err) =>
        this.d.log.warn({ err: (err as Error).message }, 'registering a device on the bus failed'),
      );
  }

  disconnected(deviceId: DeviceId, userId: UserId): void {
    void this.d.metrics
      .bus('unregister', () => this.d.bus.unregister([deviceId]))
      .then(() => this.send('broadcast', { kind: 'presence', userId }))
      .catch((err) => this.d.log.warn({ err: (err as Error).message }, 'unregistering a device failed'));
  }

  closeEverywhere(deviceIds: readonly DeviceId[], code: number, reason: string): void {
    this.d.hub.closeDevices(deviceIds, code, reason);
    this.send('broadcast', { kind: 'close', deviceIds: [...deviceIds], code, reason });
  }

  /** Tells every other node that push registrations changed. */
  announcePush(change: PushRegistryChange): void {
    this.send('broadcast', { kind: 'pushReg', ...change });
  }

  /** Sends a message of another feature (calls) to a node or to all ('broadcast'). */
  relay(node: string, msg: BusMessage): void {
    this.send(node, msg);
  }

  /** True when any of the devices is connected to some node. */
  async anyConnected(deviceIds: readonly DeviceId[]): Promise<boolean> {
    if (deviceIds.some((d) => this.d.hub.get(d))) return true;
    if (deviceIds.length === 0) return false;
    const loc = await this.d.metrics.bus('locate', () => this.d.bus.locate(deviceIds));
    return loc.size > 0;
  }

  ping(): Promise<void> {
    return this.d.bus.ping();
  }

  private readonly onMessage: Handler = (msg, from) => {
    try {
      this.handle(msg, from);
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message, kind: msg.kind }, 'bad bus message');
    }
  };

  private handle(msg: BusMessage, from: string): void {
    const hub = this.d.hub;
    switch (msg.kind) {
      case 'wake': {
        const serverTime = typeof msg.serverTime === 'number' ? msg.serverTime : undefined;
        if (serverTime) this.d.metrics.sendToDelivery.observe(Math.max(0, Date.now() - serverTime) / 1000);
        for (const id of msg.deviceIds as DeviceId[]) hub.get(id)?.session.wake();
        return;
      }
      case 'push': {
        const body = decodeFrame(msg.frame as string, 'json').body as FrameInit['body'];
        for (const id of msg.deviceIds as DeviceId[]) hub.get(id)?.push(body);
        return;
      }
      case 'replace': {
        const conn = hub.get(msg.deviceId as DeviceId);
        if (conn && conn.openedAt <= (msg.at as number)) {
          conn.close(CloseCodes.REPLACED, 'replaced by a newer connection of this device');
        }
        return;
      }
      case 'close':
        if (from !== this.d.bus.nodeId)
          hub.closeDevices(msg.deviceIds as DeviceId[], msg.code as number, msg.reason as string);
        return;
      case 'inv':
        if (from !== this.d.bus.nodeId) {
          const { kind: _, ...inv } = msg;
          this.d.directory.applyRemote(inv as unknown as Invalidation);
        }
        return;
      case 'presence':
        if (msg.userId) this.d.onPresence(msg.userId as UserId);
        return;
      case 'blocks':
        if (from !== this.d.bus.nodeId && typeof msg.userId === 'string')
          this.d.blocks.applyRemote(
            msg.userId as UserId,
            typeof msg.other === 'string' ? (msg.other as UserId) : undefined,
          );
        return;
      case 'call':
        this.onCall?.(msg);
        return;
      case 'pushReg':
        if (from !== this.d.bus.nodeId && Array.isArray(msg.remove))
          this.onPushChange?.(msg as unknown as PushRegistryChange);
        return;
      default:
        this.d.log.warn({ kind: msg.kind }, 'unknown bus message');
    }
  }

  private async byNode(deviceIds: readonly DeviceId[]): Promise<Map<string, DeviceId[]>> {
    const out = new Map<string, DeviceId[]>();
    try {
      const loc = await this.d.metrics.bus('locate', () => this.d.bus.locate(deviceIds));
      for (const [device, node] of loc) {
        if (node === this.d.bus.nodeId) continue;
        const list = out.get(node) ?? [];
        list.push(device);
        out.set(node, list);
      }
    } catch (err) {
      // Live delivery is best effort: the messages are in the store, devices drain them.
      this.d.log.warn({ err: (err as Error).message }, 'locating devices failed');
    }
    return out;
  }

  private send(node: string, msg: BusMessage): void {
    const op = node === 'broadcast' ? 'broadcast' : 'send';
    void this.d.metrics
      .bus(op, () => (node === 'broadcast' ? this.d.bus.broadcast(msg) : this.d.bus.sendToNode(node, msg)))
      .catch((err) => this.d.log.warn({ err: (err as Error).message, kind: msg.kind }, 'bus send failed'));
  }

  private refresh(): void {
    const ids = [...this.d.hub.all()].map((c) => c.deviceId);
    if (ids.length === 0) return;
    void this.d.metrics
      .bus('register', () => this.d.bus.register(ids, this.d.ttlMs))
      .catch((err) => this.d.log.warn({ err: (err as Error).message }, 'refreshing device locations failed'));
  }

  private recover(): void {
    this.d.directory.clear();
    this.d.blocks.clear();
    this.refresh();
    for (const c of this.d.hub.all()) c.session.wake();
  }
}
