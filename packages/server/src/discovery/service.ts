/**
 * Contact discovery: a user sends SHA-256 hashes of E.164 numbers and gets back the users among
 * them. Two limits keep the directory from being enumerated cheaply: requests per minute
 * (discoverPerMinute), and a daily budget of numbers the user has not looked up in the last
 * 24 hours (discoverNewPerDay); lookups repeated within the day are free. The store remembers a
 * keyed digest of each hash a user looked up, for a day, never the hash itself.
 */
import { createHmac } from 'node:crypto';
import { ParleyError } from '@parley/protocol';
import type { Config } from '../config/schema.js';
import type { Limiters } from '../limits/limiters.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { Device, UserId } from '../ports/types.js';

/** How long a lookup is remembered (and free to repeat), and the window of the daily budget. */
export const DISCOVERY_WINDOW_MS = 86_400_000;
export const MAX_HASHES_PER_REQUEST = 1000;

export interface DiscoveryDeps {
  store: Pick<Store, 'discoveryLookupsTake' | 'usersByPhoneHash'>;
  clock: Clock;
  limiters: Limiters;
  config: Pick<Config, 'discoverNewPerDay'>;
  /** The server secret: a copy of the database alone cannot tell which numbers were looked up. */
  key: Buffer;
}

export class DiscoveryService {
  constructor(private readonly d: DiscoveryDeps) {}

  /**
   * The users among `hashes`. RATE_LIMITED (with retryAfterMs) past either limit; a request with
   * more new numbers than the whole daily budget is INVALID_ARGUMENT (smaller batches pass).
   */
  async lookup(
    device: Device,
    hashes: readonly Uint8Array[],
  ): Promise<Array<{ phoneHash: Uint8Array; userId: UserId }>> {
    if (hashes.length === 0 || hashes.length > MAX_HASHES_PER_REQUEST)
      throw new ParleyError('INVALID_ARGUMENT', `1..${MAX_HASHES_PER_REQUEST} phone hashes per request`);
    if (hashes.some((h) => h.length !== 32))
      throw new ParleyError('INVALID_ARGUMENT', 'each phone hash is 32 bytes');
    const { store, limiters, clock } = this.d;
    await limiters.take('discover', device.userId);
    const now = clock.now();
    const budget = this.d.config.discoverNewPerDay;
    const taken = await store.discoveryLookupsTake({
      userId: device.userId,
      digests: hashes.map((h) => this.digest(device.userId, h)),
      now,
      windowMs: DISCOVERY_WINDOW_MS,
      budget,
    });
    if (!taken.ok) {
      if (taken.retryAt === undefined) {
        throw new ParleyError(
          'INVALID_ARGUMENT',
          `${taken.fresh} numbers not looked up in the last day, more than the daily budget of ${budget}; send fewer per request`,
        );
      }
      throw new ParleyError(
        'RATE_LIMITED',
        `the daily budget of ${budget} new numbers would be exceeded by ${taken.fresh}`,
        { retryAfterMs: Math.max(1, taken.retryAt - now) },
      );
    }
    return store.usersByPhoneHash(hashes);
  }

  /** 128 bits of HMAC-SHA256 over the user and the hash: enough to tell lookups apart. */
  private digest(userId: UserId, hash: Uint8Array): string {
    return createHmac('sha256', this.d.key)
      .update(`discovery\0${userId}\0`)
      .update(hash)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  }
}
