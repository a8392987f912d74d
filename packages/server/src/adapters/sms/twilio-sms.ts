/**
 * SmsProvider for Twilio's Messages API: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`
 * with a form body (`To`, `From` or `MessagingServiceSid`, `Body`) and HTTP basic auth, either
 * AccountSid:AuthToken or ApiKeySid:ApiKeySecret (the account SID stays in the path).
 * Twilio answers 201 with the message; a refusal is a 4xx whose JSON `code` is logged.
 */
import type { Logger } from '../../log.js';
import type { SmsProvider } from '../../ports/sms.js';
import { type SmsRetryPolicy, sendSmsOverHttp, smsText } from './http-send.js';

export interface TwilioOptions {
  baseUrl: string;
  accountSid: string;
  /** Basic-auth user and password: the account SID and auth token, or an API key SID and secret. */
  username: string;
  password: string;
  /** Exactly one of `from` and `messagingServiceSid`. */
  from: string | undefined;
  messagingServiceSid: string | undefined;
  text: string;
  policy: SmsRetryPolicy;
  log: Logger;
}

export class TwilioSms implements SmsProvider {
  readonly name = 'twilio';
  private readonly url: string;
  private readonly authorization: string;

  constructor(private readonly o: TwilioOptions) {
    this.url = `${o.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${o.accountSid}/Messages.json`;
    this.authorization = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`;
  }

  sendCode(phone: string, code: string): Promise<void> {
    const form = new URLSearchParams({ To: phone });
    if (this.o.messagingServiceSid) form.set('MessagingServiceSid', this.o.messagingServiceSid);
    else form.set('From', this.o.from ?? '');
    form.set('Body', smsText(this.o.text, code));
    const request = {
      url: this.url,
      method: 'POST',
      headers: {
        authorization: this.authorization,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
    };
    return sendSmsOverHttp(() => request, {
      provider: this.name,
      policy: this.o.policy,
      log: this.o.log,
      reason: twilioReason,
    });
  }
}

/** Twilio's numeric error code (e.g. 21211 invalid To) from an error answer; its message may quote the number. */
function twilioReason(_status: number, body: string): Record<string, unknown> {
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code;
    return typeof code === 'number' ? { twilioCode: code } : {};
  } catch {
    return {};
  }
}
