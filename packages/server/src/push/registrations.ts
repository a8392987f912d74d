/**
 * Devices register, replace and remove their push target. One registration per device; a
 * token registered by another device moves to it. Every change updates this node's registry
 * and is told to the other nodes (`announce`), so each node's commit path knows who has one.
 */
import type { Limiters } from '../limits/limiters.js';
import type { Logger } from '../log.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { PushRecipient } from '../ports/store-push.js';
import type { Device, DeviceId, UserId } from '../ports/types.js';
import type { PushRegistry } from './registry.js';
import { parseTarget, type TargetRules, tokenHash, tokenKeyOf, type WireTarget } from './targets.js';

/** A device's registration as the result frame shows it (never the token). */
export interface PushRegistrationView {
  registered: boolean;
  platform: string;
  tokenHash: string;
  updatedAt: bigint;
}

/** A registry change, as sent to the other nodes. */
export interface PushRegistryChange {
  add?: { deviceId: DeviceId; userId: UserId };
  remove: DeviceId[];
}

export interface PushRegistrationDeps {
  store: Store;
  registry: PushRegistry;
  limiters: Limiters;
  clock: Clock;
  log: Logger;
  rules: TargetRules;
  /** Tells the other nodes (no-op on a lone node). */
  announce(change: PushRegistryChange): void;
}

const NONE: PushRegistrationView = { registered: false, platform: '', tokenHash: '', updatedAt: 0n };

export class PushRegistrations {
  /** Changes seen while a load reads the store, applied again after it. */
  private readonly loading: PushRegistryChange[][] = [];

  constructor(private readonly d: PushRegistrationDeps) {}

  async register(device: Device, wire: WireTarget): Promise<PushRegistrationView> {
    const target = parseTarget(wire, this.d.rules);
    await this.d.limiters.take('pushRegister', device.id);
    const tokenKey = tokenKeyOf(target, device.id);
    const now = this.d.clock.now();
    const moved = await this.d.store.pushRegister(
      { deviceId: device.id, userId: device.userId, platform: target.platform, tokenKey, target },
      now,
    );
    this.apply({ add: { deviceId: device.id, userId: device.userId }, remove: moved });
    if (moved.length)
      this.d.log.info(
        { deviceId: device.id, moved, token: tokenHash(tokenKey) },
        'push token moved to a new device',
      );
    return {
      registered: true,
      platform: target.platform,
      tokenHash: tokenHash(tokenKey),
      updatedAt: BigInt(now),
    };
  }

  async unregister(device: Device): Promise<PushRegistrationView> {
    await this.d.limiters.take('pushRegister', device.id);
    await this.forget([device.id]);
    return NONE;
  }

  async get(device: Device): Promise<PushRegistrationView> {
    const r = await this.d.store.pushRegistrationGet(device.id);
    return r
      ? {
          registered: true,
          platform: r.platform,
          tokenHash: tokenHash(r.tokenKey),
          updatedAt: BigInt(r.updatedAt),
        }
      : NONE;
  }

  /** Devices revoked or erased, or unregistering: their registrations and jobs go. */
  async forget(deviceIds: readonly DeviceId[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.d.store.pushUnregister(deviceIds);
    this.apply({ remove: [...deviceIds] });
  }

  /** The worker removed a registration a provider called invalid. */
  tokenRemoved(deviceId: DeviceId): void {
    this.apply({ remove: [deviceId] });
  }

  /** A change made on another node. */
  applyRemote(change: PushRegistryChange): void {
    for (const l of this.loading) l.push(change);
    for (const id of change.remove) this.d.registry.remove(id);
    if (change.add) this.d.registry.add(change.add.deviceId, change.add.userId);
  }

  /**
   * Loads every registered device into the registry: at start, and after the bus was down
   * (changes announced meanwhile were missed). Changes made while it reads are kept.
   */
  async load(stopped: () => boolean = () => false, pageSize = 5000): Promise<number> {
    const found: PushRecipient[] = [];
    const changed: PushRegistryChange[] = [];
    this.loading.push(changed);
    try {
      let after: DeviceId | '' = '';
      for (;;) {
        if (stopped()) return this.d.registry.size;
        const page = await this.d.store.pushRegisteredPage(after, pageSize);
        found.push(...page);
        if (page.length < pageSize) break;
        after = page[page.length - 1]!.deviceId;
      }
    } finally {
      this.loading.splice(this.loading.indexOf(changed), 1);
    }
    this.d.registry.reset(found);
    for (const c of changed) this.applyRemote(c);
    return this.d.registry.size;
  }

  private apply(change: PushRegistryChange): void {
    this.applyRemote(change);
    this.d.announce(change);
  }
}
