/**
 * Suspension and block lists across nodes. Several nodes in one process share a store — one
 * SQLite file with the in-process bus, and (when PARLEY_TEST_POSTGRES_URL and
 * PARLEY_TEST_REDIS_URL are set) PostgreSQL with a Redis bus, each node with its own pool and
 * bus connection. A suspension written to the store by another connection (as `parley admin`
 * does from its own process) closes the account's sockets on every node with 4004, and
 * connecting, HTTP calls and registering are refused with ACCOUNT_SUSPENDED until it is lifted.
 * A block made on one node applies at once on the others, whose caches it invalidates.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChatKind, CloseCodes, type Message } from '@parley/protocol';
import { LocalBus, LocalBusNetwork } from '../src/adapters/bus/local/local-bus.js';
import { PostgresStore } from '../src/adapters/store/postgres/postgres-store.js';
import { dropSchema, freshSchema } from '../src/adapters/store/postgres/testing.js';
import { SqliteStore } from '../src/adapters/store/sqlite/sqlite-store.js';
import type { Bus } from '../src/ports/bus.js';
import type { Store } from '../src/ports/store.js';
import type { UserId } from '../src/ports/types.js';
import {
  http,
  linkDevice,
  RawClient,
  refusedUpgrade,
  register,
  sharedByNodes,
  startNode,
  type TestNode,
  text,
} from './harness.js';

const pgUrl = process.env.PARLEY_TEST_POSTGRES_URL;
const redisUrl = process.env.PARLEY_TEST_REDIS_URL;

interface Cluster {
  nodes: TestNode[];
  /** A store connection of its own, as the admin command opens. */
  admin: Store;
  close(): Promise<void>;
}

const SECRET = 'suspension-test-secret-0123456789abcdef';
const CHECK_MS = 100;

async function sqliteCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-suspend-'));
  const path = join(dir, 'parley.db');
  const shared = new SqliteStore({ path, synchronous: 'FULL' });
  // Each node's stop leaves the shared store open; it is closed once, at the end.
  const store = sharedByNodes(shared);
  const network = new LocalBusNetwork();
  const nodes: TestNode[] = [];
  for (const id of ['n1', 'n2', 'n3']) {
    nodes.push(
      await startNode(
        {
          dataDir: mkdtempSync(join(dir, `${id}-`)),
          bus: 'local',
          serverSecret: SECRET,
          suspensionCheckMs: CHECK_MS,
        },
        { store, bus: new LocalBus({ nodeId: id, network }) },
      ),
    );
  }
  const admin = new SqliteStore({ path, synchronous: 'FULL' });
  return {
    nodes,
    admin,
    async close() {
      for (const n of nodes) await n.stop();
      await admin.close();
      await shared.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresRedisCluster(): Promise<Cluster> {
  const { RedisBus } = await import('../src/adapters/bus/redis/redis-bus.js');
  const schema = freshSchema();
  const prefix = `parley-suspend-${process.pid}-${Date.now()}:`;
  const nodes: TestNode[] = [];
  for (const id of ['p1', 'p2', 'p3']) {
    const store = await PostgresStore.open(pgUrl!, { schema, poolSize: 4 });
    const bus: Bus = await RedisBus.open({ nodeId: id, url: redisUrl!, keyPrefix: prefix });
    nodes.push(await startNode({ serverSecret: SECRET, suspensionCheckMs: CHECK_MS }, { store, bus }));
  }
  const admin = await PostgresStore.open(pgUrl!, { schema, poolSize: 1 });
  return {
    nodes,
    admin,
    async close() {
      for (const n of nodes) await n.stop();
      await admin.close();
      await dropSchema(pgUrl!, schema);
    },
  };
}

const clusters: Array<{ name: string; make: () => Promise<Cluster>; skip: string | false }> = [
  { name: 'SQLite, in-process bus', make: sqliteCluster, skip: false },
  {
    name: 'PostgreSQL, Redis bus',
    make: postgresRedisCluster,
    skip: pgUrl && redisUrl ? false : 'PARLEY_TEST_POSTGRES_URL and PARLEY_TEST_REDIS_URL are needed',
  },
];

for (const variant of clusters) {
  describe(`suspension and blocks across three nodes (${variant.name})`, { skip: variant.skip }, () => {
    let c: Cluster;
    before(async () => {
      c = await variant.make();
    });
    after(() => c.close());

    it('a suspension by another store connection closes the account\u2019s sockets on every node with 4004; login is refused until it is lifted', async () => {
      const [n1, n2, n3] = c.nodes as [TestNode, TestNode, TestNode];
      const dan = await register(n1);
      const [laptop, tablet] = [await linkDevice(n1, dan), await linkDevice(n1, dan)];
      const eve = await register(n1);
      const sockets = [
        await RawClient.connect(n1, dan),
        await RawClient.connect(n2, laptop),
        await RawClient.connect(n3, tablet),
      ];
      const bystander = await RawClient.connect(n2, eve);

      assert.equal(await c.admin.userSuspend(dan.userId as UserId, Date.now(), 'spam'), true);
      const codes = await Promise.all(sockets.map((s) => s.closed));
      assert.deepEqual(codes, [CloseCodes.SUSPENDED, CloseCodes.SUSPENDED, CloseCodes.SUSPENDED]);
      assert.equal(bystander.closeCode, undefined, 'other accounts stay connected');

      for (const n of c.nodes)
        assert.deepEqual(await refusedUpgrade(n.url, laptop.token), {
          status: 403,
          code: 'ACCOUNT_SUSPENDED',
        });
      const devices = await http(`${n2.url}/v1/devices`, 'GET', undefined, dan.token);
      assert.deepEqual([devices.status, devices.body.error.code], [403, 'ACCOUNT_SUSPENDED']);
      // Registering the number again is refused too (after the right SMS code).
      await http(`${n1.url}/v1/auth/code`, 'POST', { phone: dan.phone });
      const verify = await http(`${n1.url}/v1/auth/verify`, 'POST', {
        phone: dan.phone,
        code: n1.sms.codes.get(dan.phone),
      });
      assert.deepEqual([verify.status, verify.body.error.code], [403, 'ACCOUNT_SUSPENDED']);

      assert.equal(await c.admin.userUnsuspend(dan.userId as UserId), true);
      const back = await RawClient.connect(n3, laptop);
      await back.close();
      await bystander.close();
    });

    it('a block made on one node holds at once on the others, whose cached lists it drops', async () => {
      const [n1, n2] = c.nodes as [TestNode, TestNode, TestNode];
      const [alice, bob] = [await register(n1), await register(n1)];
      const a = await RawClient.connect(n1, alice);
      const b = await RawClient.connect(n2, bob);
      const chat = await b.call<{ chat: { id: string } }>({
        case: 'createChat',
        value: { kind: ChatKind.DIRECT, memberUserIds: [alice.userId] },
      });
      const chatId = chat.chat.id;
      // Node 2 caches Alice's (empty) block list on this send.
      await b.call({ case: 'send', value: { chatId, clientMessageId: 'one', payload: text('one') } });
      await a.waitForMessages(1, chatId);
      await a.call({ case: 'block', value: { userId: bob.userId } });
      let withheld: bigint | undefined;
      // The invalidation travels over the bus: the next send through node 2 is withheld.
      for (let i = 0; i < 50 && withheld === undefined; i++) {
        const r = await b.call<{ seq: bigint }>({
          case: 'send',
          value: { chatId, clientMessageId: `probe-${i}`, payload: text('probe') },
        });
        await new Promise((res) => setTimeout(res, 100));
        if (!a.messages.some((m: Message) => m.seq === r.seq)) withheld = r.seq;
      }
      assert.ok(withheld !== undefined, 'a send after the block is withheld');
      const probes = a.messages.filter((m) => m.chatId === chatId && m.clientMessageId.startsWith('probe-'));
      assert.ok(probes.length <= 1, `at most the send racing the block got through (${probes.length})`);
      await Promise.all([a.close(), b.close()]);
    });
  });
}
