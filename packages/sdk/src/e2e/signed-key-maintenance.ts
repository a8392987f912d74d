/**
 * Keeps a device's signed keys fresh while SecureMessaging runs: the signed prekey and the
 * Kyber last-resort key are replaced once older than the rotation period (uploaded first,
 * made current only after the server accepted them), and replaced keys are deleted after
 * the grace period. Checks run at start, on every (re)connect and on a timer, one at a time.
 * A failed check is retried by the next one; being offline is not reported as an error.
 */
import { ParleyError } from '@parley/protocol';
import type { E2eProtocol, SignedKeys, SignedKeysStatus } from '../crypto/types.js';
import type { Timers } from '../typing.js';

const DAY = 24 * 60 * 60 * 1000;
export const DEFAULT_SIGNED_KEY_ROTATION_MS = 7 * DAY;
export const DEFAULT_RETIRED_KEY_GRACE_MS = 30 * DAY;
/**
 * Replaced keys are deleted only once a connection has been open this long, so messages that
 * waited on the server for this device (some perhaps to those keys) are decrypted first.
 */
export const PRUNE_AFTER_CONNECT_MS = 60_000;
/** Longest wait between checks, so a clock that jumped (a machine that slept) is noticed. */
const MAX_CHECK_DELAY_MS = DAY;
const MIN_RETRY_MS = 1_000;
const MAX_RETRY_MS = 5 * 60_000;

export interface SignedKeyMaintenanceDeps {
  protocol: E2eProtocol;
  /** Must tell the same time as the protocol's clock, which stamps the keys. */
  timers: Timers;
  rotationMs: number;
  graceMs: number;
  /** Publishes the public halves; resolves once the server stored them. */
  upload(keys: SignedKeys): Promise<void>;
  isConnected(): boolean;
  rotated(keys: SignedKeys): void;
  error(err: Error): void;
}

export class SignedKeyMaintenance {
  private active = false;
  private stopped = false;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private again = false;
  private connectedAt: number | undefined;

  constructor(private readonly d: SignedKeyMaintenanceDeps) {}

  /** Checks now (resolving when done, never rejecting) and keeps checking until `stop`. */
  start(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.active = true;
    if (this.connectedAt === undefined && this.d.isConnected()) this.connectedAt = this.d.timers.now();
    return this.check();
  }

  connected(): void {
    this.connectedAt = this.d.timers.now();
    void this.check();
  }

  disconnected(): void {
    this.connectedAt = undefined;
  }

  /** For good: no check starts after this; resolves once a running one has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.active = false;
    this.clearTimer();
    await this.running;
  }

  /** Runs a check; asked while one runs, it runs once more right after. */
  check(): Promise<void> {
    if (!this.active) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = async () => {
      do {
        this.again = false;
        await this.checkOnce();
      } while (this.again && this.active);
    };
    this.running = run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    this.clearTimer();
    let delay: number;
    try {
      delay = await this.rotateAndPrune();
    } catch (err) {
      if (!this.active) return;
      if (!(err instanceof ParleyError && err.code === 'UNAVAILABLE')) {
        this.d.error(err instanceof Error ? err : new Error(String(err)));
      }
      delay = this.retryMs();
    }
    if (this.active) this.timer = this.d.timers.setTimeout(() => void this.check(), delay);
  }

  /** One check; returns the wait until the next. */
  private async rotateAndPrune(): Promise<number> {
    const { protocol, timers, rotationMs, graceMs } = this.d;
    let status = await protocol.currentSignedKeys();
    if (!status) return MAX_CHECK_DELAY_MS;
    if (timers.now() - status.createdAt >= rotationMs) {
      const keys = await protocol.rotateSignedKeys();
      await this.d.upload(keys);
      await protocol.commitSignedKeys(keys);
      this.d.rotated(keys);
      status = (await protocol.currentSignedKeys()) ?? status;
    }
    const pruneAt = this.pruneAt(status);
    if (pruneAt !== undefined && pruneAt <= timers.now()) {
      await protocol.pruneRetiredKeys(graceMs);
      status = (await protocol.currentSignedKeys()) ?? status;
    }
    const next = Math.min(status.createdAt + rotationMs, this.pruneAt(status) ?? Number.POSITIVE_INFINITY);
    const delay = next - timers.now();
    // Still due right after acting: the pending keys were old, or the clocks disagree. Wait
    // a little rather than spin.
    return delay > 0 ? Math.min(delay, MAX_CHECK_DELAY_MS) : this.retryMs();
  }

  /** When the oldest replaced key may go: past its grace, and not early in a connection. */
  private pruneAt(status: SignedKeysStatus): number | undefined {
    if (status.oldestRetiredAt === undefined || this.connectedAt === undefined) return undefined;
    return Math.max(status.oldestRetiredAt + this.d.graceMs, this.connectedAt + PRUNE_AFTER_CONNECT_MS);
  }

  private retryMs(): number {
    return Math.min(Math.max(this.d.rotationMs, MIN_RETRY_MS), MAX_RETRY_MS);
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    this.d.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
