import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type FetchLike,
  listDevices,
  registrationLockStatus,
  removeDevice,
  removeRegistrationLock,
  requestCode,
  setRegistrationLock,
  verifyCode,
} from './http.js';

function fakeFetch(
  status: number,
  body: unknown,
  seen: { url?: string; init?: RequestInit } = {},
): FetchLike {
  return async (url, init) => {
    seen.url = url;
    seen.init = init;
    const text = body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body);
    return new Response(text, { status, headers: { 'content-type': 'application/json' } });
  };
}

test('verifyCode posts the code and returns credentials with the normalized server URL', async () => {
  const seen: { url?: string; init?: RequestInit } = {};
  const answer = { userId: 'u1', deviceId: 'd1', token: 't', primary: true };
  const creds = await verifyCode(
    'http://localhost:8080/',
    { phone: '+15550001111', code: '123456', deviceName: 'cli' },
    { fetch: fakeFetch(200, answer, seen) },
  );
  assert.deepEqual(creds, { serverUrl: 'http://localhost:8080', ...answer });
  assert.equal(seen.url, 'http://localhost:8080/v1/auth/verify');
  assert.equal(seen.init?.method, 'POST');
  assert.deepEqual(JSON.parse(String(seen.init?.body)), {
    phone: '+15550001111',
    code: '123456',
    deviceName: 'cli',
  });
});

test('device calls send the bearer token', async () => {
  const seen: { url?: string; init?: RequestInit } = {};
  const creds = { serverUrl: 'http://h', userId: 'u', deviceId: 'd', token: 'secret', primary: true };
  await listDevices(creds, { fetch: fakeFetch(200, { devices: [] }, seen) });
  assert.equal((seen.init?.headers as Record<string, string> | undefined)?.authorization, 'Bearer secret');
  await removeDevice(creds, 'd/2', { fetch: fakeFetch(204, undefined, seen) });
  assert.equal(seen.url, 'http://h/v1/devices/d%2F2');
  assert.equal(seen.init?.method, 'DELETE');
});

test('an error body becomes a ParleyError with its code and retryAfterMs', async () => {
  const body = { error: { code: 'RATE_LIMITED', message: 'wait', retryAfterMs: 30000 } };
  await assert.rejects(requestCode('http://h', '+15550001111', { fetch: fakeFetch(429, body) }), {
    name: 'ParleyError',
    code: 'RATE_LIMITED',
    retryAfterMs: 30000,
  });
});

test('a non-JSON error falls back to the HTTP status', async () => {
  await assert.rejects(requestCode('http://h', '+1', { fetch: fakeFetch(401, 'nope') }), {
    code: 'UNAUTHENTICATED',
  });
  await assert.rejects(requestCode('http://h', '+1', { fetch: fakeFetch(502, 'bad gateway') }), {
    code: 'UNAVAILABLE',
  });
});

test('a network failure is UNAVAILABLE naming the server', async () => {
  const failing: FetchLike = async () => {
    throw new TypeError('fetch failed');
  };
  await assert.rejects(requestCode('http://unreachable:1', '+1', { fetch: failing }), {
    code: 'UNAVAILABLE',
    message: 'cannot reach http://unreachable:1',
  });
});

test('the registration-lock calls use /v1/account/pin with the token; the PIN goes in the body only', async () => {
  const seen: { url?: string; init?: RequestInit } = {};
  const creds = { serverUrl: 'http://h', userId: 'u', deviceId: 'd', token: 'secret', primary: true };
  const on = { enabled: true, setAt: 5 };
  assert.deepEqual(await setRegistrationLock(creds, '123456', { fetch: fakeFetch(200, on, seen) }), on);
  assert.equal(seen.url, 'http://h/v1/account/pin');
  assert.equal(seen.init?.method, 'PUT');
  assert.deepEqual(JSON.parse(String(seen.init?.body)), { pin: '123456' });
  assert.equal((seen.init?.headers as Record<string, string> | undefined)?.authorization, 'Bearer secret');
  assert.deepEqual(await registrationLockStatus(creds, { fetch: fakeFetch(200, on, seen) }), on);
  assert.equal(seen.init?.method, 'GET');
  const off = { enabled: false };
  assert.deepEqual(await removeRegistrationLock(creds, { fetch: fakeFetch(200, off, seen) }), off);
  assert.equal(seen.init?.method, 'DELETE');
});

test('PIN errors keep their details: tries left, or the end of the lockout', async () => {
  const required = {
    error: { code: 'PIN_REQUIRED', message: 'send the PIN', details: { pinTriesLeft: 10 } },
  };
  await assert.rejects(
    verifyCode('http://h', { phone: '+1', code: '123456' }, { fetch: fakeFetch(403, required) }),
    { code: 'PIN_REQUIRED', details: { pinTriesLeft: 10 } },
  );
  const locked = {
    error: { code: 'PIN_LOCKED', message: 'locked', retryAfterMs: 1000, details: { lockedUntil: 99 } },
  };
  await assert.rejects(
    verifyCode('http://h', { phone: '+1', code: '123456', pin: '000000' }, { fetch: fakeFetch(423, locked) }),
    { code: 'PIN_LOCKED', retryAfterMs: 1000, details: { lockedUntil: 99 } },
  );
  const odd = { error: { code: 'PIN_INVALID', message: 'wrong', details: 'not an object' } };
  await assert.rejects(verifyCode('http://h', { phone: '+1', code: '1' }, { fetch: fakeFetch(403, odd) }), {
    code: 'PIN_INVALID',
    details: undefined,
  });
});
