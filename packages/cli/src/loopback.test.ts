/**
 * The SDK (and the CLI's stores) against a real node on loopback: registration, discovery,
 * encrypted send/deliver/ack, resume (cursors and sessions) without duplicates, the outbox
 * across a reconnect, revocation.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChatKind, type Credentials, ParleyClient, removeDevice, type SecureMessage } from '@parley/sdk';
import { FileLocalStore, SqliteKeyValueStore } from '@parley/sdk/node';
import { useTestNode } from './testing/node.js';
import { type SecureDevice, secureDevice } from './testing/secure.js';

const t = useTestNode('parley-loopback-');

function register(phone: string): Promise<Credentials> {
  return t.register(phone);
}

const encodeText = (text: string) => new TextEncoder().encode(text);

function collect(device: SecureDevice): SecureMessage[] {
  const got: SecureMessage[] = [];
  device.secure.on('message', (m) => {
    got.push(m);
  });
  return got;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), `timed out waiting for ${what}`);
}

test('encrypted messages reach the other user in order, once, and resume without duplicates', async () => {
  const alice = secureDevice(await register('+14155552001'));
  const bobCreds = await register('+14155552002');
  const storePath = join(t.dir, 'bob.store.json');
  const keysPath = join(t.dir, 'bob.keys.db');
  const bobDevice = async () =>
    secureDevice(bobCreds, {
      store: await FileLocalStore.open(storePath),
      keys: await SqliteKeyValueStore.open(keysPath),
    });
  const bob = await bobDevice();
  const got = collect(bob);
  await Promise.all([alice.secure.start(), bob.secure.start()]);

  const [match] = await alice.client.discover(['+14155552002', '+14155552999']);
  assert.deepEqual(match, { phone: '+14155552002', userId: bobCreds.userId });
  const chat = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bobCreds.userId] });
  const results = await Promise.all(
    ['one', 'two', 'three'].map((t) => alice.secure.send(chat.id, { text: t })),
  );
  assert.deepEqual(
    results.map((r) => r.seq),
    [2, 3, 4],
  );

  await until(() => got.length === 3, 'three messages');
  assert.deepEqual(
    got.map((m) => [m.seq, m.content.text]),
    [
      [2, 'one'],
      [3, 'two'],
      [4, 'three'],
    ],
  );
  await until(() => bob.client.stats.acked === 4, 'acks (chat created + three messages)');
  await bob.client.close();
  await bob.keys.close();

  // A new session over the same stores: nothing old comes back, new messages do, decrypted.
  const again = await bobDevice();
  const later = collect(again);
  await again.secure.start();
  await alice.secure.send(chat.id, { text: 'four' });
  await until(() => later.length === 1, 'the fourth message');
  assert.deepEqual([later[0]?.seq, later[0]?.content.text], [5, 'four']);
  assert.equal(again.client.stats.duplicates, 0);

  // The server holds ciphertext only (first byte: how it was encrypted).
  const page = await again.client.history(chat.id, { limit: 10 });
  assert.deepEqual(
    page.messages.map((m) => m.seq),
    [1, 2, 3, 4, 5],
  );
  for (const m of page.messages) {
    if (!('payload' in m)) continue;
    assert.equal(m.payload[0], 1, 'a pairwise ciphertext');
    // (The short texts could turn up in random bytes by chance; these two cannot, in practice.)
    for (const text of ['three', 'four']) {
      assert.equal(Buffer.from(m.payload).includes(text), false, `#${m.seq} holds ${text} in clear`);
    }
  }
  await Promise.all([alice.client.close(), again.client.close()]);
  await again.keys.close();
});

test('sends issued while disconnected wait in the outbox and keep their order', async () => {
  const aliceCreds = await register('+14155552003');
  const bobCreds = await register('+14155552004');
  const alice = new ParleyClient({ credentials: aliceCreds, encoding: 'json' });
  await alice.connect();
  const chat = await alice.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bobCreds.userId] });
  await alice.close();

  const fresh = new ParleyClient({ credentials: aliceCreds });
  const pending = ['a', 'b', 'c'].map((t, i) =>
    fresh.send(chat.id, encodeText(t), { clientMessageId: `id-${i}` }),
  );
  assert.equal(fresh.pendingSends, 3);
  await fresh.connect();
  const results = await Promise.all(pending);
  assert.deepEqual(
    results.map((r) => [r.clientMessageId, r.seq]),
    [
      ['id-0', 2],
      ['id-1', 3],
      ['id-2', 4],
    ],
  );
  // The server is idempotent on clientMessageId: a resend returns the same result.
  assert.equal((await fresh.send(chat.id, encodeText('other'), { clientMessageId: 'id-1' })).seq, 3);
  await fresh.close();
});

test('a removed device is disconnected for good', async () => {
  const creds = await register('+14155552005');
  const client = new ParleyClient({ credentials: creds });
  await client.connect();
  const stopped = new Promise<{ willReconnect: boolean; code: number }>((resolve) => {
    client.on('disconnected', resolve);
  });
  await removeDevice(creds, creds.deviceId);
  const info = await stopped;
  assert.deepEqual(
    { code: info.code, willReconnect: info.willReconnect },
    { code: 4003, willReconnect: false },
  );
  await assert.rejects(client.connect(), { code: 'UNAUTHENTICATED' });
  await assert.rejects(new ParleyClient({ credentials: creds }).connect(), { code: 'UNAUTHENTICATED' });
});
