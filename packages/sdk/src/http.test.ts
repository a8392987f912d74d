import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FetchLike, listDevices, removeDevice, requestCode, verifyCode } from './http.js';

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
