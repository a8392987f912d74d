import assert from 'node:assert/strict';
import { it } from 'node:test';
import { hashPin, pinMatches } from './pin-hash.js';

it('a PIN is stored as an Argon2id PHC string with its parameters, and only that PIN matches it', async () => {
  const h = await hashPin('123456');
  assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.ok(!h.includes('123456'));
  assert.notEqual(await hashPin('123456'), h, 'each hash has its own salt');
  assert.equal(await pinMatches(h, '123456'), true);
  assert.equal(await pinMatches(h, '1234567'), false);
  assert.equal(await pinMatches(h, '654321'), false);
});
