/**
 * CLI failures: UsageError (bad arguments, exit 2) and one-line messages for everything
 * else (exit 1). Messages never include tokens, codes or message contents.
 */
import { ParleyError } from '@parley/sdk';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the user can act on; its message is printed as is. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

const HINTS: Partial<Record<string, string>> = {
  UNAUTHENTICATED: 'register or link this device again (parley register)',
  UNAVAILABLE: 'is the server running? (parley serve)',
  RATE_LIMITED: 'try again later',
  SMS_DELIVERY_FAILED: "check the number: the server's SMS provider would not send to it",
  PIN_LOCKED: 'wait, or remove the PIN on the primary device (parley pin remove) to register now',
  // The server knows this device by keys the profile no longer has (<profile>.keys.db lost).
  IDENTITY_KEY_MISMATCH: 'this profile lost its encryption keys: register again (parley register --force)',
};

/** The one line printed for an error, e.g. "CODE_INVALID: wrong code". */
export function formatError(err: unknown): string {
  if (err instanceof UsageError || err instanceof CliError) return err.message;
  if (err instanceof ParleyError) {
    const wait = err.retryAfterMs ? ` (retry in ${Math.ceil(err.retryAfterMs / 1000)} s)` : '';
    // Close 4001: another connection of this device took over; the credentials are fine.
    const replaced = err.details?.closeCode === 4001;
    const hint = replaced ? 'another parley command is using this profile' : HINTS[err.code];
    return `${err.code}: ${err.message}${wait}${hint ? `; ${hint}` : ''}`;
  }
  // The SDK's KeyStoreBusyError, recognised by its code so this module does not load libsignal.
  if (err instanceof Error && (err as { code?: unknown }).code === 'KEY_STORE_BUSY' && 'path' in err) {
    return `KEY_STORE_BUSY: another parley command is using this profile (${err.path})`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError ? 2 : 1;
}
