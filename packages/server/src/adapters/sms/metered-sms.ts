/**
 * Counts every send by provider and outcome (`sent`, `refused`, `unavailable`, `error`) and
 * times it, around any SmsProvider. The labels are bounded: the provider's name and four outcomes.
 */
import { ParleyError } from '@parley/protocol';
import type { Metrics } from '../../metrics/metrics.js';
import type { SmsProvider } from '../../ports/sms.js';

const OUTCOMES = ['sent', 'refused', 'unavailable', 'error'] as const;

export function meteredSms(inner: SmsProvider, metrics: Metrics): SmsProvider {
  const provider = inner.name ?? 'custom';
  // Every series exists from the start, so a rate() alert sees the first failure.
  for (const outcome of OUTCOMES) metrics.smsSends.inc({ provider, outcome }, 0);
  return {
    name: provider,
    async sendCode(phone, code) {
      const end = metrics.smsSeconds.startTimer({ provider });
      let outcome: (typeof OUTCOMES)[number] = 'error';
      try {
        await inner.sendCode(phone, code);
        outcome = 'sent';
      } catch (err) {
        if (err instanceof ParleyError && err.code === 'SMS_DELIVERY_FAILED') outcome = 'refused';
        else if (err instanceof ParleyError && err.code === 'UNAVAILABLE') outcome = 'unavailable';
        throw err;
      } finally {
        end();
        metrics.smsSends.inc({ provider, outcome });
      }
    },
  };
}
