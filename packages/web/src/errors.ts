/** What to tell the user about a failed call: the server's codes in plain words. */
import { ParleyError } from '@parley/sdk/browser';

export function describeError(err: unknown): string {
  if (!(err instanceof ParleyError)) return 'Something went wrong. Try again.';
  switch (err.code) {
    case 'UNAVAILABLE':
      return 'Cannot reach the server. Check the connection and try again.';
    case 'RATE_LIMITED': {
      const s = Math.ceil((err.retryAfterMs ?? 1000) / 1000);
      return `Too many attempts. Try again in ${s} s.`;
    }
    case 'CODE_INVALID':
      return 'That code is not right. Check it and try again.';
    case 'CODE_EXPIRED':
      return 'That code has expired. Ask for a new one.';
    case 'TOO_MANY_ATTEMPTS':
      return 'Too many wrong codes. Ask for a new one.';
    case 'INVALID_PHONE':
      return 'Enter the number with its country code, like +44 20 7946 0958.';
    case 'PIN_REQUIRED':
    case 'PIN_INVALID':
    case 'PIN_LOCKED':
      return 'This number has a registration lock PIN, which the web client cannot enter yet.';
    default:
      return err.message;
  }
}
