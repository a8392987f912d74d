/**
 * All rate limiters in one table. Each is keyed by what it protects (user, phone, ip) and
 * raises RATE_LIMITED with retryAfterMs when exhausted.
 */
import { ParleyError } from '@parley/protocol';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
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
    /** Code requests per client IP per hour. */
    codeRequestIp: { points: config.codeRequestsPerHour * 10, durationSec: 3600 },
    /** Code verification attempts per IP per minute (per-code attempts are limited separately). */
    verifyIp: { points: config.authAttemptsPerMinute, durationSec: 60 },
    /** Link-code redemptions per IP per minute. */
    linkIp: { points: config.authAttemptsPerMinute, durationSec: 60 },
    /** Typing indicators per device per second. */
    typing: { points: 5, durationSec: 1 },
    /** Discovery requests per user per minute. */
    discover: { points: config.discoverPerMinute, durationSec: 60 },
  } satisfies Record<string, LimiterSpec>;
}

export type LimiterName = keyof ReturnType<typeof limiterTable>;

export class Limiters {
  private readonly limiters: Record<LimiterName, RateLimiterMemory>;

  constructor(config: Config) {
    const table = limiterTable(config);
    this.limiters = Object.fromEntries(
      Object.entries(table).map(([name, spec]) => [
        name,
        new RateLimiterMemory({ keyPrefix: name, points: spec.points, duration: spec.durationSec }),
      ]),
    ) as Record<LimiterName, RateLimiterMemory>;
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
}
