/**
 * SmsProvider for operators who relay codes themselves: a JSON POST of
 * `{"id","phone","code","text"}` to their URL, signed with HMAC-SHA256 over
 * `<timestamp>.<body>` (header `Parley-Signature: v1=<hex>`, `Parley-Timestamp: <unix seconds>`).
 * Every try is signed afresh; `id` stays the same across the tries of one send, so the relay
 * can drop a repeat. docs/operations.md shows how to verify a request.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from '../../log.js';
import type { Clock } from '../../ports/clock.js';
import type { SmsProvider } from '../../ports/sms.js';
import { type SmsRetryPolicy, sendSmsOverHttp, smsText } from './http-send.js';

export interface WebhookOptions {
  url: string;
  secret: string;
  text: string;
  clock: Clock;
  policy: SmsRetryPolicy;
  log: Logger;
  /** Id of one send (default a random UUID). */
  newId?: () => string;
}

/** The `Parley-Signature` value for a body sent at `timestamp` (unix seconds). */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookSms implements SmsProvider {
  readonly name = 'webhook';

  constructor(private readonly o: WebhookOptions) {}

  sendCode(phone: string, code: string): Promise<void> {
    const id = (this.o.newId ?? randomUUID)();
    const body = JSON.stringify({ id, phone, code, text: smsText(this.o.text, code) });
    return sendSmsOverHttp(
      () => {
        const timestamp = Math.floor(this.o.clock.now() / 1000);
        return {
          url: this.o.url,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'parley-timestamp': String(timestamp),
            'parley-signature': webhookSignature(this.o.secret, timestamp, body),
          },
          body,
        };
      },
      { provider: this.name, policy: this.o.policy, log: this.o.log },
    );
  }
}
