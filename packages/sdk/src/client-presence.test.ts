/**
 * Presence, typing and privacy calls that need no server: argument checks before sending.
 * Against a real node: packages/server/test/presence-sdk.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_PRESENCE_SUBSCRIPTIONS, ParleyClient } from './client.js';
import type { LastSeenPrivacy, TypingStatus } from './types.js';

const credentials = {
  serverUrl: 'http://127.0.0.1:1',
  userId: 'u1',
  deviceId: 'd1',
  token: 'tok',
  primary: true,
};

test('bad arguments are refused before anything is sent', async () => {
  const client = new ParleyClient({ credentials });
  const tooMany = Array.from({ length: MAX_PRESENCE_SUBSCRIPTIONS + 1 }, (_, i) => `u${i}`);
  await assert.rejects(client.subscribePresence(tooMany), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(client.subscribePresence(['u2', '']), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(client.typing('c1', 'typing' as TypingStatus), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(client.setLastSeenPrivacy('friends' as LastSeenPrivacy), { code: 'INVALID_ARGUMENT' });
  await client.close();
});

test('while not connected the calls fail with UNAVAILABLE', async () => {
  const client = new ParleyClient({ credentials });
  await assert.rejects(client.subscribePresence(['u2']), { code: 'UNAVAILABLE' });
  await assert.rejects(client.typing('c1', 'composing'), { code: 'UNAVAILABLE' });
  await assert.rejects(client.setLastSeenPrivacy('nobody'), { code: 'UNAVAILABLE' });
  await assert.rejects(client.lastSeenPrivacy(), { code: 'UNAVAILABLE' });
  await client.close();
});
