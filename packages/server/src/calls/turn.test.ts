import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { it } from 'node:test';
import { turnCredentialsFor } from './turn.js';

const config = {
  turnSecret: 'a-shared-secret-of-coturn',
  turnUrls: ['turn:127.0.0.1:3478'],
  turnTtl: 86_400,
};

it('makes the coturn REST-API username and password', () => {
  const c = turnCredentialsFor(config, 'u_alice', 1_700_000_000_500);
  assert.equal(c.username, `${1_700_000_000 + 86_400}:u_alice`);
  // Recomputed independently: base64 of the HMAC-SHA1 of the username under the secret.
  const expected = createHmac('sha1', config.turnSecret).update(c.username).digest('base64');
  assert.equal(c.password, expected);
  assert.equal(Buffer.from(c.password, 'base64').length, 20);
  assert.deepEqual([c.ttlSeconds, c.urls], [86_400, ['turn:127.0.0.1:3478']]);
});

it('refuses with UNAVAILABLE when no secret is set', () => {
  assert.throws(
    () => turnCredentialsFor({ ...config, turnSecret: undefined }, 'u_alice', 0),
    (err: Error & { code?: string }) => err.code === 'UNAVAILABLE',
  );
});
