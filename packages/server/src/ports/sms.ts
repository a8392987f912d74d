/**
 * Delivers one-time codes. Implementations never log the code or the full number outside an
 * explicit dev sink, and bound the time a send may take so a code request cannot hang.
 */
import { ParleyError } from '@parley/protocol';

export interface SmsProvider {
  /** A short name for metrics and logs (`console`, `http`, `twilio`, `webhook`). */
  readonly name?: string;
  /**
   * Sends `code` to the E.164 `phone`. Not idempotent: a retried send may reach the phone
   * twice (with the same code). Rejects with a ParleyError:
   * - `SMS_DELIVERY_FAILED`: the provider refused this message (a 4xx answer); nothing was sent.
   * - `UNAVAILABLE`: the provider could not be reached, failed (5xx) or throttled the node, also
   *   after retries. `details.maybeSent` is true when a try was cut off after the request went
   *   out (a timeout, a dropped connection): the provider may have sent the SMS after all.
   */
  sendCode(phone: string, code: string): Promise<void>;
}

/** True when a send that failed with `err` certainly did not reach the phone. */
export function smsCertainlyNotSent(err: unknown): boolean {
  return (
    err instanceof ParleyError &&
    (err.code === 'SMS_DELIVERY_FAILED' || err.code === 'UNAVAILABLE') &&
    err.details?.maybeSent !== true
  );
}
