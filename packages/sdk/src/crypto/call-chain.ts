/**
 * How an E2eProtocol runs its public calls: one at a time (a promise chain, so a session's
 * read-modify-write never interleaves), rejecting, never throwing; identity changes queued
 * during a call are reported after it, outside the chain, so a listener may call back in.
 */
import type { IdentityChangeListener } from './types.js';

/** An identity key of a remote device that replaced an earlier one. */
export interface IdentityReplacement {
  deviceId: string;
  oldKey: Uint8Array;
  newKey: Uint8Array;
}

export class CallChain {
  private tail: Promise<unknown> = Promise.resolve();

  /** `replacements` is the queue the protocol's identity store fills. */
  constructor(
    private readonly replacements: IdentityReplacement[],
    private readonly onIdentityChange: IdentityChangeListener | undefined,
  ) {}

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result.finally(() => this.reportIdentityChanges());
  }

  private async reportIdentityChanges(): Promise<void> {
    for (const change of this.replacements.splice(0)) {
      try {
        await this.onIdentityChange?.(change.deviceId, change.oldKey, change.newKey);
      } catch (err) {
        console.error(`parley e2e: identity-change listener failed for device ${change.deviceId}`, err);
      }
    }
  }
}
