/**
 * SmsProvider for a generic HTTP SMS gateway: a configured URL, method, auth header and body
 * template with `{phone}`, `{code}` and `{text}`, and the statuses that mean "accepted".
 * Placeholders are escaped for where they land (URL, JSON or form body), so a text with
 * quotes or an ampersand cannot change the request's shape.
 */
import type { Logger } from '../../log.js';
import type { SmsProvider } from '../../ports/sms.js';
import { defaultVerdict, fillTemplate, type SmsRetryPolicy, sendSmsOverHttp, smsText } from './http-send.js';

export interface HttpGatewayOptions {
  url: string;
  method: 'POST' | 'PUT' | 'GET';
  contentType: string;
  /** Ignored for GET. */
  body: string;
  /** `Name: value`, or undefined for none. */
  authHeader: string | undefined;
  /** Comma-separated statuses or ranges, e.g. `200-299` or `200,202`. */
  successStatus: string;
  text: string;
  policy: SmsRetryPolicy;
  log: Logger;
}

export class HttpGatewaySms implements SmsProvider {
  readonly name = 'http';
  private readonly success: Array<[number, number]>;
  private readonly escapeBody: (v: string) => string;

  constructor(private readonly o: HttpGatewayOptions) {
    this.success = parseStatusRanges(o.successStatus);
    const type = o.contentType.split(';')[0]!.trim().toLowerCase();
    this.escapeBody =
      type === 'application/json' || type.endsWith('+json')
        ? (v) => JSON.stringify(v).slice(1, -1)
        : type === 'application/x-www-form-urlencoded'
          ? encodeURIComponent
          : (v) => v;
  }

  sendCode(phone: string, code: string): Promise<void> {
    const values = { phone, code, text: smsText(this.o.text, code) };
    const headers: Record<string, string> = { accept: 'application/json, */*' };
    if (this.o.authHeader) {
      const colon = this.o.authHeader.indexOf(':');
      headers[this.o.authHeader.slice(0, colon).trim()] = this.o.authHeader.slice(colon + 1).trim();
    }
    const hasBody = this.o.method !== 'GET';
    if (hasBody) headers['content-type'] = this.o.contentType;
    const request = {
      url: fillTemplate(this.o.url, values, encodeURIComponent),
      method: this.o.method,
      headers,
      ...(hasBody && { body: fillTemplate(this.o.body, values, this.escapeBody) }),
    };
    return sendSmsOverHttp(() => request, {
      provider: this.name,
      policy: this.o.policy,
      log: this.o.log,
      judge: (status) =>
        this.success.some(([lo, hi]) => status >= lo && status <= hi)
          ? 'sent'
          : defaultVerdict(status) === 'sent'
            ? 'refused'
            : defaultVerdict(status),
    });
  }
}

/** `200-299,302` as [[200, 299], [302, 302]]. */
export function parseStatusRanges(spec: string): Array<[number, number]> {
  return spec.split(',').map((part) => {
    const [lo, hi = lo] = part.split('-').map((x) => Number(x.trim()));
    return [lo!, hi!];
  });
}
