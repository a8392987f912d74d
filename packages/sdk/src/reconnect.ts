/**
 * When and whether to reconnect: full-jitter exponential backoff whose attempt count grows
 * with each retry and resets on a welcome, and the closes after which the client stops.
 */
import { CloseCodes, ParleyError } from '@parley/protocol';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import type { ClosedInfo } from './connection.js';

export class ReconnectTimer {
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly backoff: BackoffOptions,
    private readonly random: () => number,
  ) {}

  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** Runs `fn` after the next backoff delay (at least `minDelayMs`); returns the delay. */
  schedule(fn: () => void, minDelayMs = 0): number {
    this.cancel();
    const delay = Math.max(minDelayMs, backoffDelay(this.attempt, this.backoff, this.random));
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      fn();
    }, delay);
    return delay;
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A connection succeeded: the next retry starts from the first delay again. */
  reset(): void {
    this.attempt = 0;
  }
}

const TERMINAL_CLOSES: Record<number, string> = {
  [CloseCodes.REPLACED]: 'another connection of this device replaced this one',
  [CloseCodes.REVOKED]: 'this device was removed',
};

/**
 * Why the client must not reconnect after this close, or undefined when it may: close
 * codes REPLACED, REVOKED and SUSPENDED, or a handshake refused with a non-retryable error
 * (ACCOUNT_SUSPENDED among them).
 */
export function terminalError(info: ClosedInfo): ParleyError | undefined {
  if (info.code === CloseCodes.SUSPENDED)
    return new ParleyError('ACCOUNT_SUSPENDED', 'this account was suspended', {
      details: { closeCode: info.code },
    });
  const terminal = TERMINAL_CLOSES[info.code];
  if (terminal) return new ParleyError('UNAUTHENTICATED', terminal, { details: { closeCode: info.code } });
  if (info.refused && !info.refused.retryable) return info.refused;
  return undefined;
}

/**
 * The least delay before reconnecting: the server's retryAfterMs for a refused handshake,
 * and the longest backoff after 1008 (policy violation: a client bug, not worth hammering).
 */
export function minReconnectDelay(info: ClosedInfo, backoff: BackoffOptions = {}): number {
  if (info.code === CloseCodes.POLICY) return backoff.maxMs ?? DEFAULT_BACKOFF.maxMs;
  return info.refused?.retryAfterMs ?? 0;
}
