/**
 * All rate limiters in one table. Each is keyed by what it protects (user, phone, ip) and
 * raises RATE_LIMITED with retryAfterMs when exhausted.
 */
import { ParleyError } from '@parley/protocol';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { Config } from '../config/schema.js';

export interface LimiterSpec {
  points: number;
  durationSec: number;
}

export function limiterTable(config: Config) {
  return {
    /** Sends per user per minute. */
    send: { points: config.sendsPerMinute, durationSec: 60 },
    /** Code requests per phone number per hour. */
    codeRequestPhone: { points: config.codeRequestsPerHour, durationSec: 3600 },
    /** Code requests per phone number per day. */
    codeRequestPhoneDay: { points: config.codeRequestsPerDay, durationSec: 86_400 },
    /** Code requests per client IP per hour. */
    codeRequestIp: { points: config.codeRequestsPerHour * 10, durationSec: 3600 },
    /** Code requests per number prefix (first codeRequestPrefixLength characters) per hour. */
    codeRequestPrefix: {
      points: config.codeRequestsPerPrefixPerHour ?? config.codeRequestsPerHour * 10,
      durationSec: 3600,
    },
    /** Code requests of the whole deployment per day (one key): a ceiling on SMS spend. */
    codeRequestTotal: {
      points: config.codeRequestsPerDayTotal ?? config.codeRequestsPerHour * 1000,
      durationSec: 86_400,
    },
    /** Code verification attempts per IP per minute (per-code attempts are limited separately). */
    verifyIp: { points: config.authAttemptsPerMinute, durationSec: 60 },
    /** Link-code redemptions per IP per minute. */
    linkIp: { points: config.authAttemptsPerMinute, durationSec: 60 },
    /** Registration-lock PIN sets, changes and removals per user per hour. */
    pinChange: { points: config.pinChangesPerHour, durationSec: 3600 },
    /** Typing indicators per device per second. */
    typing: { points: 5, durationSec: 1 },
    /** Discovery requests per user per minute. */
    discover: { points: config.discoverPerMinute, durationSec: 60 },
    /** Media bytes uploaded per user per hour. */
    mediaBytes: { points: config.mediaBytesPerHour, durationSec: 3600 },
    /** Prekey bundle fetches per user per minute. */
    preKeyBundles: { points: config.preKeyBundlesPerMinute, durationSec: 60 },
    /** Retry requests and resends (after a failed decrypt) per device per minute. */
    retries: { points: 120, durationSec: 60 },
  } satisfies Record<string, LimiterSpec>;
}

export type LimiterName = keyof ReturnType<typeof limiterTable>;

export class Limiters {
  private readonly limiters: Record<LimiterName, RateLimiterAbstract>;

  /**
   * Counters live in memory on one node. With several nodes, pass the bus's Redis client:
   * the counters are then shared by every node, and each node falls back to its own memory
   * counters while Redis cannot be reached.
   */
  constructor(config: Config, redis?: unknown) {
    const table = limiterTable(config);
    this.limiters = Object.fromEntries(
      Object.entries(table).map(([name, spec]) => {
        const memory = new RateLimiterMemory({
          keyPrefix: name,
          points: spec.points,
          duration: spec.durationSec,
        });
        if (!redis) return [name, memory];
        return [
          name,
          new RateLimiterRedis({
            storeClient: redis,
            keyPrefix: `parley:rl:${name}`,
            points: spec.points,
            duration: spec.durationSec,
            insuranceLimiter: memory,
          }),
        ];
      }),
    ) as Record<LimiterName, RateLimiterAbstract>;
  }

  /** Takes `points` from `name` for `key`; throws RATE_LIMITED with retryAfterMs when empty. */
  async take(name: LimiterName, key: string, points = 1): Promise<void> {
    try {
      await this.limiters[name].consume(key, points);
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        throw new ParleyError('RATE_LIMITED', `too many requests (${name})`, {
          retryAfterMs: Math.max(1, Math.ceil(err.msBeforeNext)),
        });
      }
      throw err;
    }
  }

  /** Gives back `points` taken from `name` for `key` (for work that turned out not to happen). */
  async give(name: LimiterName, key: string, points = 1): Promise<void> {
    await this.limiters[name].reward(key, points);
  }
}
