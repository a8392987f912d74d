import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { hashPhone, hex, normalizePhone } from './discover.js';

test('phone hashes are SHA-256 of the E.164 string', async () => {
  const expected = createHash('sha256').update('+15551234567').digest('hex');
  assert.equal(hex(await hashPhone('+15551234567')), expected);
});

test('formatting is stripped before hashing; non-E.164 numbers are refused', () => {
  assert.equal(normalizePhone('+1 (555) 123-4567'), '+15551234567');
  assert.throws(() => normalizePhone('5551234567'), { code: 'INVALID_PHONE' });
  assert.throws(() => normalizePhone('+0123456789'), { code: 'INVALID_PHONE' });
  assert.throws(() => normalizePhone('+1555abc4567'), { code: 'INVALID_PHONE' });
});
