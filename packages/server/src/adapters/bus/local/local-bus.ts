/**
 * In-process Bus. One node (the embedded default) gets a private LocalBusNetwork; tests that
 * run several nodes in one process share one network. Messages are JSON copies delivered in a
 * later microtask, in send order; locations expire by the network's clock. `interrupt` and
 * `restore` play a backend outage so the 'down' → 'up' recovery path can be tested without Redis.
 */
import { ParleyError } from '@parley/protocol';
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
import { type Clock, systemClock } from '../../../ports/clock.js';
import type { DeviceId } from '../../../ports/types.js';

interface Location {
  nodeId: string;
  expiresAt: number;
}

/** The shared backend of a set of LocalBus nodes: channels and device locations. */
export class LocalBusNetwork {
  private readonly started = new Set<LocalBus>();
  private readonly locations = new Map<DeviceId, Location>();
  private down = false;

  constructor(readonly clock: Clock = systemClock) {}

  /** Plays a backend restart: started buses report 'down', every call rejects, locations are lost. */
  interrupt(): void {
    if (this.down) return;
    this.down = true;
    this.locations.clear();
    for (const bus of this.started) bus.setState('down');
  }

  /** Ends the outage: started buses report 'up'. */
  restore(): void {
    if (!this.down) return;
    this.down = false;
    for (const bus of this.started) bus.setState('up');
  }

  /** Throws UNAVAILABLE during an outage. */
  check(): void {
    if (this.down) throw new ParleyError('UNAVAILABLE', 'local bus is down');
  }

  attach(bus: LocalBus): void {
    this.started.add(bus);
  }

  detach(bus: LocalBus): void {
    this.started.delete(bus);
  }

  /** Queues `text` for every started bus of `nodeId` (or every started bus when undefined). */
  publish(nodeId: string | undefined, from: string, text: string): void {
    for (const bus of this.started) {
      if (nodeId === undefined || bus.nodeId === nodeId) queueMicrotask(() => bus.receive(text, from));
    }
  }

  setLocation(deviceId: DeviceId, nodeId: string, ttlMs: number): void {
    this.locations.set(deviceId, { nodeId, expiresAt: this.clock.now() + ttlMs });
  }

  deleteLocationIfOwned(deviceId: DeviceId, nodeId: string): void {
    if (this.locationOf(deviceId) === nodeId) this.locations.delete(deviceId);
  }

  locationOf(deviceId: DeviceId): string | undefined {
    const loc = this.locations.get(deviceId);
    if (!loc) return undefined;
    if (loc.expiresAt <= this.clock.now()) {
      this.locations.delete(deviceId);
      return undefined;
    }
    return loc.nodeId;
  }
}

export interface LocalBusOptions {
  /** Default 'local'. */
  nodeId?: string;
  /** The backend shared with other nodes; default a private one (a single node). */
  network?: LocalBusNetwork;
  /** Gets errors thrown by the handler and by state listeners; default console.error. */
  onError?: (err: unknown) => void;
}

export class LocalBus implements Bus {
  readonly nodeId: string;
  private readonly network: LocalBusNetwork;
  private readonly onError: (err: unknown) => void;
  private readonly listeners: ((state: BusState) => void)[] = [];
  private handler: BusHandler | undefined;
  private closed = false;

  constructor(options: LocalBusOptions = {}) {
    this.nodeId = options.nodeId ?? 'local';
    assertBusNodeId(this.nodeId);
    this.network = options.network ?? new LocalBusNetwork();
    this.onError = options.onError ?? ((err) => console.error('local bus: handler failed', err));
  }

  async start(handler: BusHandler): Promise<void> {
    this.checkOpen();
    if (this.handler) throw new ParleyError('UNAVAILABLE', 'bus already started');
    this.network.check();
    this.handler = handler;
    this.network.attach(this);
  }

  async register(deviceIds: readonly DeviceId[], ttlMs: number): Promise<void> {
    assertBusTtl(ttlMs);
    this.checkReachable();
    for (const d of deviceIds) this.network.setLocation(d, this.nodeId, ttlMs);
  }

  async unregister(deviceIds: readonly DeviceId[]): Promise<void> {
    this.checkReachable();
    for (const d of deviceIds) this.network.deleteLocationIfOwned(d, this.nodeId);
  }

  async locate(deviceIds: readonly DeviceId[]): Promise<Map<DeviceId, string>> {
    this.checkReachable();
    const found = new Map<DeviceId, string>();
    for (const d of deviceIds) {
      const nodeId = this.network.locationOf(d);
      if (nodeId !== undefined) found.set(d, nodeId);
    }
    return found;
  }

  async sendToNode(nodeId: string, msg: BusMessage): Promise<void> {
    assertBusNodeId(nodeId);
    const text = encodeBusMessage(msg);
    this.checkReachable();
    this.network.publish(nodeId, this.nodeId, text);
  }

  async broadcast(msg: BusMessage): Promise<void> {
    const text = encodeBusMessage(msg);
    this.checkReachable();
    this.network.publish(undefined, this.nodeId, text);
  }

  async ping(): Promise<void> {
    this.checkReachable();
  }

  onState(listener: (state: BusState) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.network.detach(this);
  }

  /** Called by the network for each queued message. */
  receive(text: string, from: string): void {
    if (this.closed || !this.handler) return;
    const msg = asBusMessage(JSON.parse(text));
    if (!msg) return;
    try {
      this.handler(msg, from);
    } catch (err) {
      this.onError(err);
    }
  }

  /** Called by the network on an outage and its end. */
  setState(state: BusState): void {
    if (this.closed) return;
    for (const listener of this.listeners) {
      try {
        listener(state);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new ParleyError('UNAVAILABLE', 'bus closed');
  }

  private checkReachable(): void {
    this.checkOpen();
    this.network.check();
  }
}
