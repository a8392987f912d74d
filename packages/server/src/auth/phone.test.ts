import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadConfig } from '../config/load.js';
import { checkPhoneTypeAllowed, phoneNumberType } from './phone.js';

const blocked = loadConfig({}).smsBlockedNumberTypes;

it('names the type of premium-rate, shared-cost, personal, satellite and ordinary numbers', () => {
  for (const [e164, type] of [
    ['+19005550123', 'PREMIUM_RATE'],
    ['+448712345678', 'PREMIUM_RATE'],
    ['+33810123456', 'SHARED_COST'],
    ['+447012345678', 'PERSONAL_NUMBER'],
    // libphonenumber calls Thuraya (+88216) VOIP and Iridium (+8816) MOBILE: the calling code decides.
    ['+8821612345678', 'INTERNATIONAL_NETWORK'],
    ['+881612345678', 'INTERNATIONAL_NETWORK'],
    ['+883510012345', 'INTERNATIONAL_NETWORK'],
    ['+447400123456', 'MOBILE'],
    ['+14152001234', 'FIXED_LINE_OR_MOBILE'],
    ['+18005550100', 'TOLL_FREE'],
  ] as const) {
    assert.equal(phoneNumberType(e164), type, e164);
  }
});

it('refuses the blocked types by default with PHONE_TYPE_NOT_ALLOWED naming the type', () => {
  for (const e164 of ['+19005550123', '+33810123456', '+447012345678', '+8821612345678', '+881612345678']) {
    assert.throws(() => checkPhoneTypeAllowed(e164, blocked), { code: 'PHONE_TYPE_NOT_ALLOWED' }, e164);
  }
  assert.throws(() => checkPhoneTypeAllowed('+19005550123', blocked), /premium rate numbers/);
  for (const e164 of ['+447400123456', '+14152001234', '+4915112345678']) {
    checkPhoneTypeAllowed(e164, blocked);
  }
});

it('reads the blocked types from a comma-separated setting, and names a bad one', () => {
  const c = loadConfig({ env: { PARLEY_SMS_BLOCKED_NUMBER_TYPES: 'PREMIUM_RATE, VOIP' } });
  assert.deepEqual(c.smsBlockedNumberTypes, ['PREMIUM_RATE', 'VOIP']);
  assert.deepEqual(loadConfig({ argv: ['--sms-blocked-number-types', 'NONE'] }).smsBlockedNumberTypes, []);
  assert.throws(
    () => loadConfig({ env: { PARLEY_SMS_BLOCKED_NUMBER_TYPES: 'PREMIUM,VOIP' } }),
    /smsBlockedNumberTypes/,
  );
});
