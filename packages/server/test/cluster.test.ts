/**
 * Several nodes in one process, sharing one store and an in-process bus: what a device on
 * one node sends reaches devices on the others, and so do receipts, typing, presence, key
 * notices, retry requests and resends, replacement and revocation. The bus's outage and recovery are played too.
 * (Separate processes on PostgreSQL and Redis: multinode/multinode.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloseCodes, TypingState } from '@parley/protocol';
import type { LocalBusNetwork } from '../src/adapters/bus/local/local-bus.js';
import {
  createGroup,
  http,
  linkDevice,
  RawClient,
  register,
  startCluster,
  type TestNode,
  text,
} from './harness.js';

describe('several nodes sharing a store and a bus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cluster-'));
  let nodes: TestNode[] = [];
  let network: LocalBusNetwork;
  let stop: () => Promise<void>;

  before(async () => {
    ({ nodes, network, stop } = await startCluster(dir, ['n1', 'n2', 'n3'], { oneTimePreKeysLowWater: 1 }));
  });
  after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Registers on node 0 (every node shares the store); the SMS code is captured there. */
  const user = () => register(nodes[0]!);

  it('messages, receipts and typing cross nodes', async () => {
    const [alice, bob, carol] = [await user(), await user(), await user()];
    const a = await RawClient.connect(nodes[0]!, alice);
    const b = await RawClient.connect(nodes[1]!, bob);
    const c = await RawClient.connect(nodes[2]!, carol);
    const g = await a.call<{ chat: { id: string } }>({
      case: 'createChat',
      value: { kind: 2, name: 'g', memberUserIds: [bob.userId, carol.userId] },
    });
    const chatId = g.chat.id;
    for (let i = 1; i <= 20; i++) {
      await a.call({ case: 'send', value: { clientMessageId: `m${i}`, chatId, payload: text(`hi ${i}`) } });
    }
    for (const x of [b, c]) {
      const got = await x.waitForMessages(20, chatId);
      assert.deepEqual(
        got.map((m) => Number(m.seq)),
        Array.from({ length: 20 }, (_, i) => i + 2),
      );
    }
    // Bob's acks on node 2 become delivered receipts pushed to alice on node 1.
    await a.waitFor((f) => f.body.case === 'receipt' && f.body.value.userId === bob.userId);
    await b.call({ case: 'typing', value: { chatId, state: TypingState.COMPOSING } });
    const typing = await c.waitFor((f) => f.body.case === 'typingEvent');
    assert.equal((typing.body.value as { userId: string }).userId, bob.userId);
    await Promise.all([a, b, c].map((x) => x.close()));
  });

  it('a new profile version is announced to every device of every co-member, on any node', async () => {
    const [alice, bob, stranger] = [await user(), await user(), await user()];
    const bobTablet = await linkDevice(nodes[0]!, bob);
    const a = await RawClient.connect(nodes[0]!, alice);
    const b1 = await RawClient.connect(nodes[1]!, bob);
    const b2 = await RawClient.connect(nodes[2]!, bobTablet);
    const s = await RawClient.connect(nodes[1]!, stranger);
    await createGroup(a, [bob.userId]);
    await a.call({ case: 'setProfile', value: { version: 1n, ciphertext: text('sealed profile') } });
    for (const x of [b1, b2]) {
      const f = await x.waitFor((fr) => fr.body.case === 'profileChanged');
      assert.deepEqual(
        [(f.body.value as { userId: string }).userId, (f.body.value as { version: bigint }).version],
        [alice.userId, 1n],
      );
      const got = await x.call<{ profiles: Array<{ version: bigint }> }>({
        case: 'getProfiles',
        value: { userIds: [alice.userId] },
      });
      assert.equal(got.profiles[0]?.version, 1n, 'fetched through another node');
    }
    // A ping round trip after the push would have arrived: the stranger was not told.
    await s.call({ case: 'ping', value: {} });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(
      s.frames.some((f) => f.body.case === 'profileChanged'),
      false,
    );
    await Promise.all([a, b1, b2, s].map((x) => x.close()));
  });

  it('a retry request and its resend cross nodes', async () => {
    const [alice, bob] = [await user(), await user()];
    const a = await RawClient.connect(nodes[0]!, alice);
    const b = await RawClient.connect(nodes[2]!, bob);
    const chatId = await createGroup(a, [bob.userId]);
    const { seq } = await a.call<{ seq: bigint }>({
      case: 'send',
      value: { clientMessageId: 'r1', chatId, payload: text('secret') },
    });
    await b.waitForMessages(1, chatId);
    await b.call({ case: 'retry', value: { chatId, seq } });
    const asked = await a.waitFor((f) => f.body.case === 'retryRequested');
    assert.equal((asked.body.value as { deviceId: string }).deviceId, bob.deviceId);
    await a.call({ case: 'resend', value: { chatId, seq, deviceId: bob.deviceId, payload: text('again') } });
    const resent = await b.waitFor((f) => f.body.case === 'resent');
    assert.equal((resent.body.value as { senderDeviceId: string }).senderDeviceId, alice.deviceId);
    await Promise.all([a, b].map((x) => x.close()));
  });

  it('presence follows a user across nodes', async () => {
    const [alice, bob] = [await user(), await user()];
    const a = await RawClient.connect(nodes[0]!, alice);
    const b1 = await RawClient.connect(nodes[1]!, bob);
    await a.call({ case: 'createChat', value: { kind: 1, memberUserIds: [bob.userId] } });
    const list = await a.call<{ users: Array<{ userId: string; online: boolean }> }>({
      case: 'subscribePresence',
      value: { userIds: [bob.userId] },
    });
    assert.equal(list.users[0]?.online, true, 'bob is online on another node');
    // Bob's second device connects on node 3, then his first goes: still online.
    const tablet = await linkDevice(nodes[0]!, bob);
    const b2 = await RawClient.connect(nodes[2]!, tablet);
    await b1.close();
    await new Promise((r) => setTimeout(r, 100));
    const offline = a.frames.filter(
      (f) => f.body.case === 'presence' && f.body.value.presence?.online === false,
    );
    assert.equal(offline.length, 0, 'not offline while another device is connected');
    await b2.close();
    await a.waitFor((f) => f.body.case === 'presence' && f.body.value.presence?.online === false);
    await a.close();
  });

  it('a second connection of a device on another node replaces the first; revocation closes it everywhere', async () => {
    const alice = await user();
    const tablet = await linkDevice(nodes[0]!, alice);
    const first = await RawClient.connect(nodes[0]!, tablet);
    await new Promise((r) => setTimeout(r, 20));
    const second = await RawClient.connect(nodes[1]!, tablet);
    assert.equal(await first.closed, CloseCodes.REPLACED);
    const res = await http(
      `${nodes[2]!.url}/v1/devices/${tablet.deviceId}`,
      'DELETE',
      undefined,
      alice.token,
    );
    assert.equal(res.status, 204);
    assert.equal(await second.closed, CloseCodes.REVOKED);
  });

  it('after a bus outage, sessions re-read the store and nothing is missed', async () => {
    const [alice, bob] = [await user(), await user()];
    const a = await RawClient.connect(nodes[0]!, alice);
    const b = await RawClient.connect(nodes[1]!, bob);
    const chat = await a.call<{ chat: { id: string } }>({
      case: 'createChat',
      value: { kind: 1, memberUserIds: [bob.userId] },
    });
    const chatId = chat.chat.id;
    await new Promise((r) => setTimeout(r, 20));
    network.interrupt();
    for (let i = 1; i <= 5; i++) {
      await a.call({ case: 'send', value: { clientMessageId: `o${i}`, chatId, payload: text(`x${i}`) } });
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(
      b.messages.filter((m) => m.chatId === chatId && m.body.case === 'payload').length,
      0,
      'no wake-up crosses a down bus',
    );
    const ready = await fetch(`${nodes[1]!.url}/readyz`);
    assert.equal(ready.status, 503, 'not ready while the bus is down');
    network.restore();
    assert.equal((await b.waitForMessages(5, chatId)).length, 5);
    assert.equal((await fetch(`${nodes[1]!.url}/readyz`)).status, 200);
    await Promise.all([a.close(), b.close()]);
  });
});
