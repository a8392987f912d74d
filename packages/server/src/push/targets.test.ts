import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DeviceId } from '../ports/types.js';
import { parseTarget, type TargetRules, tokenHash, tokenKeyOf, type WireTarget } from './targets.js';

const rules: TargetRules = { allowInsecureUrls: false, webhookOrigins: ['https://relay.example.org'] };
const P256DH = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 9)]).toString('base64url');
const AUTH = Buffer.alloc(16, 3).toString('base64url');
const webpush = (endpoint: string): WireTarget => ({
  case: 'webpush',
  value: { endpoint, p256dh: P256DH, auth: AUTH },
});

describe('push targets', () => {
  it('accepts each platform and normalises APNs tokens to lower case', () => {
    const token = 'AB'.repeat(32);
    assert.deepEqual(
      parseTarget(
        { case: 'apns', value: { token, topic: 'org.x.app', sandbox: true, voipToken: '' } },
        rules,
      ),
      {
        platform: 'apns',
        token: token.toLowerCase(),
        topic: 'org.x.app',
        sandbox: true,
      },
    );
    assert.deepEqual(parseTarget({ case: 'fcm', value: { token: 'abc:DEF-_1' } }, rules), {
      platform: 'fcm',
      token: 'abc:DEF-_1',
    });
    assert.equal(parseTarget(webpush('https://push.example.net/x'), rules).platform, 'webpush');
    assert.deepEqual(
      parseTarget({ case: 'webhook', value: { url: 'https://relay.example.org/p', token: '' } }, rules),
      {
        platform: 'webhook',
        url: 'https://relay.example.org/p',
      },
    );
  });

  it('refuses URLs with credentials, http, private hosts and unlisted webhook origins', () => {
    for (const url of [
      'https://user:pw@push.example.net/x',
      'http://push.example.net/x',
      'https://localhost/x',
      'https://10.1.2.3/x',
      'https://[::1]/x',
      'https://169.254.169.254/latest',
      'not a url',
    ])
      assert.throws(() => parseTarget(webpush(url), rules), { code: 'INVALID_ARGUMENT' }, url);
    assert.throws(
      () =>
        parseTarget(
          { case: 'webhook', value: { url: 'https://relay.example.org.evil.net/p', token: '' } },
          rules,
        ),
      /not on an origin/,
    );
    assert.equal(
      parseTarget(webpush('http://127.0.0.1:8080/x'), { ...rules, allowInsecureUrls: true }).platform,
      'webpush',
      'the development setting allows local http',
    );
  });

  it('never accepts a malformed token, and never echoes one in its error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (token) => {
        const hex = /^[0-9a-fA-F]{64,200}$/.test(token);
        try {
          parseTarget(
            { case: 'apns', value: { token, topic: 'org.x', sandbox: false, voipToken: '' } },
            rules,
          );
          return hex;
        } catch (err) {
          return !hex && (token.length < 8 || !(err as Error).message.includes(token));
        }
      }),
    );
  });

  it('keys webhook registrations by URL and relay id, or by device when there is none', () => {
    const d = 'd_1' as DeviceId;
    assert.notEqual(
      tokenKeyOf({ platform: 'webhook', url: 'https://r/x' }, d),
      tokenKeyOf({ platform: 'webhook', url: 'https://r/x' }, 'd_2' as DeviceId),
    );
    assert.equal(tokenKeyOf({ platform: 'webhook', url: 'https://r/x', token: 't' }, d), 'https://r/x\nt');
    assert.match(tokenHash('secret'), /^[0-9a-f]{12}$/);
  });
});
