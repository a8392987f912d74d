/**
 * Driver failures become store codes here, once: a SQLSTATE or socket error never leaves
 * this adapter. Lost connections, overload and failovers are UNAVAILABLE (retry later);
 * anything else is INTERNAL, with the driver error kept as `cause` for the log.
 */
import { ParleyError } from '@parley/protocol';

/** Thrown inside a transaction to have it rolled back and run again from the start. */
export class RetryTransaction extends Error {
  override readonly name = 'RetryTransaction';
}

const SERIALIZATION_FAILURE = '40001';
const DEADLOCK_DETECTED = '40P01';

/** A transaction that failed this way changed nothing and may simply run again. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof RetryTransaction) return true;
  const code = sqlState(err);
  return code === SERIALIZATION_FAILURE || code === DEADLOCK_DETECTED;
}

function sqlState(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** SQLSTATEs (or classes) that say "the database cannot serve this now", not "this is wrong". */
function isUnavailable(err: unknown): boolean {
  const code = sqlState(err);
  if (isRetryable(err)) return true;
  // 08: connection exception; 53: insufficient resources; 57P0x: shutdown / cannot connect now.
  if (code.startsWith('08') || code.startsWith('53') || /^57P0[1-4]$/.test(code)) return true;
  // Statement timeout or cancel, lock timeout, and a read-only server (a standby mid-failover).
  if (code === '57014' || code === '55P03' || code === '25006') return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) {
    return true;
  }
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|not queryable|after calling end on the pool/.test(
    message,
  );
}

export function toStoreError(err: unknown): ParleyError {
  if (err instanceof ParleyError) return err;
  if (isUnavailable(err)) {
    return new ParleyError('UNAVAILABLE', 'store is unavailable', { cause: err, retryAfterMs: 100 });
  }
  return new ParleyError('INTERNAL', 'store failure', { cause: err });
}
