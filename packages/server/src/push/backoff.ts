/** Exponential backoff with full jitter for push retries (see docs/push.md, "Retries"). */

export interface BackoffSettings {
  baseMs: number;
  capMs: number;
}

/**
 * The wait before retry number `attempt` (0 for the first retry): uniform in
 * [0, min(cap, base * 2^attempt)), and never shorter than the provider's Retry-After.
 */
export function retryDelayMs(
  attempt: number,
  s: BackoffSettings,
  random: () => number,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(s.capMs, s.baseMs * 2 ** Math.min(attempt, 30));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs !== undefined && retryAfterMs > jittered ? retryAfterMs : jittered;
}
