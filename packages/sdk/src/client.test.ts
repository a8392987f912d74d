/**
 * ParleyClient logic that needs no server: argument checks and the state before the first
 * connection. Everything that talks to a server runs against a real node in
 * packages/server/test/sdk-*.test.ts (and packages/cli/src/loopback.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, WelcomeSchema } from '@parley/protocol';
import { ParleyClient } from './client.js';
import type { DisconnectInfo } from './types.js';

const credentials = {
  serverUrl: 'http://127.0.0.1:1',
  userId: 'u1',
  deviceId: 'd1',
  token: 'tok',
  primary: true,
};
const text = (s: string) => new TextEncoder().encode(s);

test('empty or oversized payloads and bad clientMessageIds are refused before sending', async () => {
  const client = new ParleyClient({ credentials });
  await assert.rejects(client.send('c1', new Uint8Array()), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(client.send('c1', []), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(client.send('c1', text('x'), { clientMessageId: 'é' }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(client.send('c1', text('x'), { clientMessageId: 'x'.repeat(65) }), {
    code: 'INVALID_ARGUMENT',
  });
  // The limit comes from the server's welcome.
  client.welcome = create(WelcomeSchema, { protocolVersion: 1, maxPayloadBytes: 4 });
  await assert.rejects(client.send('c1', text('12345')), { code: 'PAYLOAD_TOO_LARGE' });
  await assert.rejects(client.send('c1', [{ deviceId: 'd2', payload: text('12345') }]), {
    code: 'PAYLOAD_TOO_LARGE',
  });
  assert.equal(client.pendingSends, 0);
  await client.close();
});

test('before connecting, requests fail fast and sends wait; close() fails them and stops the client', async () => {
  const client = new ParleyClient({ credentials });
  const disconnects: DisconnectInfo[] = [];
  client.on('disconnected', (d) => {
    disconnects.push(d);
  });
  assert.equal(client.connected, false);
  await assert.rejects(client.listChats(), { code: 'UNAVAILABLE', message: 'not connected' });
  const send = client.send('c1', text('x'), { clientMessageId: 'm1' });
  assert.equal(client.pendingSends, 1);
  await client.close();
  await assert.rejects(send, { code: 'UNAVAILABLE', message: 'client closed' });
  assert.deepEqual(disconnects, [{ code: 1000, reason: 'client closed', willReconnect: false }]);
  await assert.rejects(client.connect(), { code: 'UNAVAILABLE' });
  await assert.rejects(client.send('c1', text('y')), { code: 'UNAVAILABLE' });
  await client.close(); // idempotent
  assert.equal(disconnects.length, 1);
});
