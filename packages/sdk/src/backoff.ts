/**
 * Reconnect delays: exponential backoff with full jitter. The ceiling for attempt n is
 * min(maxMs, initialMs * 2^n); the delay is uniform in [0, ceiling). Randomness is injected.
 */

export interface BackoffOptions {
  /** Ceiling of the first retry, in ms (default 250). */
  initialMs?: number;
  /** Largest ceiling, in ms (default 30000). */
  maxMs?: number;
}

export const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 30_000 } as const;

/** Upper bound of the delay before retry number `attempt` (0-based). */
export function backoffCeiling(attempt: number, options: BackoffOptions = {}): number {
  const initialMs = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const maxMs = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  // 2^attempt overflows to Infinity for large attempts; min() keeps it bounded.
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt));
}

/** Delay before retry number `attempt`; `random` returns values in [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  return Math.floor(random() * backoffCeiling(attempt, options));
}
