/**
 * The SmsProvider a config names, after checking its settings: a provider missing a setting,
 * or a production node (dev=false) left with the console provider, stops the start with a
 * message naming each setting by its flag and environment variable.
 */
import { ParleyError } from '@parley/protocol';
import { envName, flagName } from '../../config/load.js';
import type { Config, ConfigKey } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { Clock } from '../../ports/clock.js';
import type { SmsProvider } from '../../ports/sms.js';
import { ConsoleSms } from './console-sms.js';
import { HttpGatewaySms } from './http-gateway-sms.js';
import type { SmsRetryPolicy } from './http-send.js';
import { TwilioSms } from './twilio-sms.js';
import { WebhookSms } from './webhook-sms.js';

const named = (key: ConfigKey) => `${key} (--${flagName(key)} / ${envName(key)})`;

function refuse(problem: string): never {
  throw new ParleyError('INVALID_ARGUMENT', `${problem} (see "SMS providers" in docs/operations.md)`);
}

/** Throws INVALID_ARGUMENT naming the missing or conflicting settings; silent when they are complete. */
export function checkSmsSettings(config: Config): void {
  const missing = (keys: ConfigKey[]) => keys.filter((k) => config[k] === undefined);
  switch (config.smsProvider) {
    case 'console':
      if (!config.dev) {
        refuse(
          `a production node (dev=false) needs an SMS provider: set ${named('smsProvider')} to http, twilio or webhook with its settings, or run with ${named('dev')}=true to write codes to the log`,
        );
      }
      return;
    case 'http': {
      if (config.smsHttpUrl === undefined) refuse(`smsProvider=http needs ${named('smsHttpUrl')}`);
      return;
    }
    case 'twilio': {
      const problems: string[] = [];
      if (config.smsTwilioAccountSid === undefined) problems.push(named('smsTwilioAccountSid'));
      const token = config.smsTwilioAuthToken !== undefined;
      const key = missing(['smsTwilioApiKeySid', 'smsTwilioApiKeySecret']);
      if (token && key.length < 2) {
        problems.push(`either ${named('smsTwilioAuthToken')} or an API key, not both`);
      } else if (!token && key.length > 0) {
        problems.push(
          key.length === 2
            ? `${named('smsTwilioAuthToken')}, or ${named('smsTwilioApiKeySid')} with ${named('smsTwilioApiKeySecret')}`
            : named(key[0]!),
        );
      }
      const senders = missing(['smsTwilioFrom', 'smsTwilioMessagingServiceSid']).length;
      if (senders === 2) {
        problems.push(`${named('smsTwilioFrom')} or ${named('smsTwilioMessagingServiceSid')}`);
      } else if (senders === 0) {
        problems.push('either smsTwilioFrom or smsTwilioMessagingServiceSid, not both');
      }
      if (problems.length) refuse(`smsProvider=twilio needs ${problems.join('; ')}`);
      return;
    }
    case 'webhook': {
      const absent = missing(['smsWebhookUrl', 'smsWebhookSecret']);
      if (absent.length) refuse(`smsProvider=webhook needs ${absent.map(named).join(' and ')}`);
      return;
    }
  }
}

export function createSmsProvider(config: Config, deps: { log: Logger; clock: Clock }): SmsProvider {
  checkSmsSettings(config);
  const { log } = deps;
  const policy: SmsRetryPolicy = {
    timeoutMs: config.smsTimeoutMs,
    retries: config.smsRetries,
    backoffMs: config.smsRetryBackoffMs,
    deadlineMs: config.smsDeadlineMs,
  };
  switch (config.smsProvider) {
    case 'console':
      return new ConsoleSms({ dev: config.dev, dataDir: config.dataDir, log });
    case 'http':
      return new HttpGatewaySms({
        url: config.smsHttpUrl!,
        method: config.smsHttpMethod,
        contentType: config.smsHttpContentType,
        body: config.smsHttpBody,
        authHeader: config.smsHttpAuthHeader,
        successStatus: config.smsHttpSuccessStatus,
        text: config.smsText,
        policy,
        log,
      });
    case 'twilio': {
      const apiKey = config.smsTwilioApiKeySid !== undefined;
      return new TwilioSms({
        baseUrl: config.smsTwilioBaseUrl,
        accountSid: config.smsTwilioAccountSid!,
        username: apiKey ? config.smsTwilioApiKeySid! : config.smsTwilioAccountSid!,
        password: apiKey ? config.smsTwilioApiKeySecret! : config.smsTwilioAuthToken!,
        from: config.smsTwilioFrom,
        messagingServiceSid: config.smsTwilioMessagingServiceSid,
        text: config.smsText,
        policy,
        log,
      });
    }
    case 'webhook':
      return new WebhookSms({
        url: config.smsWebhookUrl!,
        secret: config.smsWebhookSecret!,
        text: config.smsText,
        clock: deps.clock,
        policy,
        log,
      });
  }
}
