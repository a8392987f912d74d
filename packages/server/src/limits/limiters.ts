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
  /** Points that may be drawn once `points` are spent, at most this many per its own window. */
  burst?: { points: number; durationSec: number };
}

export function limiterTable(config: Config) {
  return {
    /**
     * Messages per user: sendsPerMinute per fixed minute, then up to sendBurst more per ten
     * minutes in all (drawn only while the minute is spent).
     */
    send: {
      points: config.sendsPerMinute,
      durationSec: 60,
      burst: { points: config.sendBurst, durationSec: 600 },
    },
    /** Groups created per user per hour. */
    groupCreate: { points: config.groupsPerHour, durationSec: 3600 },
    /** Code requests per phone number per hour. */
    codeRequestPhone: { points: config.codeRequestsPerHour, durationSec: 3600 },
    /** Code requests per phone number per day. */
    codeRequestPhoneDay: { points: config.codeRequestsPerDay, durationSec: 86_400 },
    /** Code requests per client IP per hour. */
    codeRequestIp: { points: config.codeRequestsPerIpPerHour, durationSec: 3600 },
    /** Code requests per number prefix (first codeRequestPrefixLength characters) per hour. */
    codeRequestPrefix: { points: config.codeRequestsPerPrefixPerHour, durationSec: 3600 },
    /** Code requests of the whole deployment per day (one key): a ceiling on SMS spend. */
    codeRequestTotal: { points: config.codeRequestsPerDayTotal, durationSec: 86_400 },
    /** Registrations (verified codes giving a new primary device) per client IP per day. */
    registrationIp: { points: config.registrationsPerIpPerDay, durationSec: 86_400 },
    /** Code verification attempts per IP per minute (per-code attempts are limited separately). */
    verifyIp: { points: config.authAttemptsPerMinute, durationSec: 60 },
    /** Link-code redemptions per IP per minute. */
    linkIp: { points: config.authAttemptsPerMinute, durationSec: 60 },
    /** Registration-lock PIN sets, changes and removals per user per hour. */
    pinChange: { points: config.pinChangesPerHour, durationSec: 3600 },
    /** Socket tickets (WebSocket logins of browsers) per device per minute. */
    socketTicket: { points: 30, durationSec: 60 },
    /** Typing indicators per device per second. */
    typing: { points: 5, durationSec: 1 },
    /** Discovery requests per user per minute (new numbers per day are counted by the store). */
    discover: { points: config.discoverPerMinute, durationSec: 60 },
    /** Media bytes uploaded per user per hour. */
    mediaBytes: { points: config.mediaBytesPerHour, durationSec: 3600 },
    /** Media uploads per user per hour. */
    mediaUploads: { points: config.mediaUploadsPerHour, durationSec: 3600 },
    /** Prekey bundle fetches per user per minute. */
    preKeyBundles: { points: config.preKeyBundlesPerMinute, durationSec: 60 },
    /** Retry requests and resends (after a failed decrypt) per device per minute. */
    retries: { points: 120, durationSec: 60 },
    /** New profile versions per user per hour (each is announced to everyone sharing a chat). */
    profileUpdates: { points: 60, durationSec: 3600 },
    /** Profile fetches and catch-up pages per user per minute. */
    profileReads: { points: 300, durationSec: 60 },
    /** Reports per user per hour. */
    report: { points: 20, durationSec: 3600 },
    /** Block and unblock requests per user per minute. */
    blockChange: { points: 60, durationSec: 60 },
    /** Call offers per user per minute. */
    callOffer: { points: config.callOffersPerMinute, durationSec: 60 },
    /** Call answers, ends and signals (ICE candidates) per device per minute. */
    callSignal: { points: 600, durationSec: 60 },
    /** TURN credential requests per device per hour. */
    turn: { points: config.turnCredentialsPerHour, durationSec: 3600 },
    /** Push registrations and removals per device per hour. */
    pushRegister: { points: config.pushRegistrationsPerHour, durationSec: 3600 },
    /** Chat mute and do-not-disturb changes per user per minute (each is told to every device). */
    muteChange: { points: 60, durationSec: 60 },
  } satisfies Record<string, LimiterSpec>;
}

export type LimiterName = keyof ReturnType<typeof limiterTable>;

/** A limiter and, for a bursty one, the allowance drawn once its window is spent. */
interface Counter {
  main: RateLimiterAbstract;
  burst: RateLimiterAbstract | undefined;
}

export class Limiters {
  private readonly limiters: Record<LimiterName, Counter>;

  /**
   * Counters live in memory on one node. With several nodes, pass the bus's Redis client:
   * the counters are then shared by every node, and each node falls back to its own memory
   * counters while Redis cannot be reached. Each counter is taken atomically (one Redis
   * script, or one synchronous step in memory), so racing requests never pass more than the
   * limit (plus its burst).
   */
  constructor(config: Config, redis?: unknown) {
    const table: Record<string, LimiterSpec> = limiterTable(config);
    const make = (name: string, points: number, duration: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ keyPrefix: name, points, duration });
      if (!redis) return memory;
      return new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `parley:rl:${name}`,
        points,
        duration,
        insuranceLimiter: memory,
      });
    };
    this.limiters = Object.fromEntries(
      Object.entries(table).map(([name, spec]) => [
        name,
        {
          main: make(name, spec.points, spec.durationSec),
          burst: spec.burst?.points
            ? make(`${name}:burst`, spec.burst.points, spec.burst.durationSec)
            : undefined,
        },
      ]),
    ) as Record<LimiterName, Counter>;
  }

  /**
   * Takes `points` from `name` for `key`; throws RATE_LIMITED with retryAfterMs when there
   * are not that many left. A refused take uses up nothing: the counter counts a refused
   * consume too, so its points are given back (else one refused 2 GB upload would use up
   * the hour's media bytes that smaller ones could still have).
   */
  async take(name: LimiterName, key: string, points = 1): Promise<void> {
    const { main, burst } = this.limiters[name];
    const refused = await tryTake(main, key, points);
    if (!refused) return;
    if (!burst) throw rateLimited(name, refused.msBeforeNext);
    const burstRefused = await tryTake(burst, key, points);
    // The main window opens first unless the burst allowance refills sooner.
    if (burstRefused) throw rateLimited(name, Math.min(refused.msBeforeNext, burstRefused.msBeforeNext));
  }

  /** Gives back `points` taken from `name` for `key` (for work that turned out not to happen). */
  async give(name: LimiterName, key: string, points = 1): Promise<void> {
    await this.limiters[name].main.reward(key, points);
  }
}

/** Takes `points` from one counter; undefined when taken, else the refusal (its points given back). */
async function tryTake(
  counter: RateLimiterAbstract,
  key: string,
  points: number,
): Promise<RateLimiterRes | undefined> {
  try {
    await counter.consume(key, points);
    return undefined;
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    await counter.reward(key, points);
    return err;
  }
}

function rateLimited(name: LimiterName, msBeforeNext: number): ParleyError {
  return new ParleyError('RATE_LIMITED', `too many requests (${name})`, {
    retryAfterMs: Math.max(1, Math.ceil(msBeforeNext)),
  });
}
