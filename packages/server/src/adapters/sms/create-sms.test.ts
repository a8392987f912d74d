import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadConfig } from '../../config/load.js';
import { checkSmsSettings } from './create-sms.js';

const SID = `AC${'0a'.repeat(16)}`;
const check = (argv: string[]) => () => checkSmsSettings(loadConfig({ argv }));

it('a production node with the console provider is refused, naming the settings to set', () => {
  assert.throws(
    check(['--dev', 'false']),
    /needs an SMS provider: set smsProvider \(--sms-provider \/ PARLEY_SMS_PROVIDER\) to http, twilio or webhook.*--dev \/ PARLEY_DEV/,
  );
  assert.doesNotThrow(check(['--dev', 'true']));
});

it('each provider names the settings it is missing', () => {
  assert.throws(check(['--sms-provider', 'http']), /smsHttpUrl \(--sms-http-url \/ PARLEY_SMS_HTTP_URL\)/);
  assert.throws(
    check(['--sms-provider', 'webhook', '--sms-webhook-url', 'https://relay.example/sms']),
    /needs smsWebhookSecret \(--sms-webhook-secret \/ PARLEY_SMS_WEBHOOK_SECRET\)/,
  );
  const twilio = check(['--sms-provider', 'twilio']);
  assert.throws(twilio, /smsTwilioAccountSid \(--sms-twilio-account-sid/);
  assert.throws(
    twilio,
    /smsTwilioAuthToken \(--sms-twilio-auth-token \/ PARLEY_SMS_TWILIO_AUTH_TOKEN\), or smsTwilioApiKeySid/,
  );
  assert.throws(
    twilio,
    /smsTwilioFrom \(--sms-twilio-from \/ PARLEY_SMS_TWILIO_FROM\) or smsTwilioMessagingServiceSid/,
  );
});

it('a Twilio configuration is complete with one credential and one sender, and refused with two', () => {
  const base = ['--sms-provider', 'twilio', '--sms-twilio-account-sid', SID];
  assert.doesNotThrow(
    check([...base, '--sms-twilio-auth-token', 'tok', '--sms-twilio-from', '+14155550100']),
  );
  assert.doesNotThrow(
    check([
      ...base,
      '--sms-twilio-api-key-sid',
      `SK${'1b'.repeat(16)}`,
      '--sms-twilio-api-key-secret',
      'sec',
      '--sms-twilio-messaging-service-sid',
      `MG${'2c'.repeat(16)}`,
    ]),
  );
  assert.throws(
    check([
      ...base,
      '--sms-twilio-auth-token',
      'tok',
      '--sms-twilio-api-key-secret',
      'sec',
      '--sms-twilio-from',
      'Parley',
    ]),
    /either smsTwilioAuthToken .* or an API key, not both/,
  );
  assert.throws(
    check([...base, '--sms-twilio-api-key-secret', 'sec', '--sms-twilio-from', 'Parley']),
    /needs smsTwilioApiKeySid/,
  );
  assert.throws(
    check([
      ...base,
      '--sms-twilio-auth-token',
      'tok',
      '--sms-twilio-from',
      'Parley',
      '--sms-twilio-messaging-service-sid',
      `MG${'2c'.repeat(16)}`,
    ]),
    /either smsTwilioFrom or smsTwilioMessagingServiceSid, not both/,
  );
});

it('bad values fail naming the setting and never quoting a secret', () => {
  assert.throws(
    check(['--sms-twilio-account-sid', 'AC123']),
    /smsTwilioAccountSid .*AC followed by 32 hex digits/,
  );
  assert.throws(check(['--sms-text', 'no code here']), /smsText .*must contain \{code\}/);
  assert.throws(check(['--sms-http-success-status', '2xx']), /smsHttpSuccessStatus/);
  const secret = 'Bearer s3cr3t-value\nX-Evil: 1';
  assert.throws(
    () => loadConfig({ env: { PARLEY_SMS_HTTP_AUTH_HEADER: `Authorization: ${secret}` } }),
    (err: Error) => /smsHttpAuthHeader/.test(err.message) && !err.message.includes('s3cr3t'),
  );
  assert.throws(
    () => loadConfig({ env: { PARLEY_SMS_WEBHOOK_SECRET: 'short-secret-value' } }),
    (err: Error) =>
      /smsWebhookSecret .*at least 32/.test(err.message) && !err.message.includes('short-secret'),
  );
});
