/**
 * Chat mutes and do-not-disturb over real sockets: two nodes sharing one SQLite store and an
 * in-process bus, and two nodes on PostgreSQL and a Redis bus (when PARLEY_TEST_POSTGRES_URL
 * and PARLEY_TEST_REDIS_URL are set). A mute or do-not-disturb set through the SDK on a phone
 * connected to one node reaches the same user's laptop on the other node (`chatMuted` /
 * `doNotDisturb` events), shows in the chat list, is fetched by a device that connects later,
 * and decides alertFor; bad requests get clear errors and change nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  ChatKind,
  type ChatMuteInfo,
  type Credentials,
  createLinkCode,
  linkDevice,
  MUTE_FOREVER,
} from '@parley/sdk';
import { LocalBus, LocalBusNetwork } from '../src/adapters/bus/local/local-bus.js';
import { PostgresStore } from '../src/adapters/store/postgres/postgres-store.js';
import { dropSchema, freshSchema } from '../src/adapters/store/postgres/testing.js';
import { SqliteWorkerStore } from '../src/adapters/store/sqlite-worker/worker-store.js';
import { alertFor } from '../src/mutes/alert.js';
import type { Bus } from '../src/ports/bus.js';
import type { Store } from '../src/ports/store.js';
import type { ChatId, UserId } from '../src/ports/types.js';
import { RawClient, sharedByNodes, startNode, type TestNode } from './harness.js';
import { closeWatched, newUser, until, watch } from './sdk-helpers.js';

const HOUR = 3_600_000;

const pgUrl = process.env.PARLEY_TEST_POSTGRES_URL;
const redisUrl = process.env.PARLEY_TEST_REDIS_URL;
const SECRET = 'mutes-test-secret-0123456789abcdef';

/** Two nodes, and a store connection of their database for the test's own reads. */
interface TwoNodes {
  nodes: TestNode[];
  store: Store;
  close(): Promise<void>;
}

async function sqliteNodes(): Promise<TwoNodes> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-mutes-'));
  const shared = SqliteWorkerStore.open({ path: join(dir, 'parley.db') });
  // Each node's stop leaves the shared store open; it is closed once, at the end.
  const store = sharedByNodes(shared);
  const network = new LocalBusNetwork();
  const nodes: TestNode[] = [];
  for (const id of ['n1', 'n2']) {
    nodes.push(
      await startNode(
        { dataDir: mkdtempSync(join(dir, `${id}-`)), bus: 'local', serverSecret: SECRET },
        { store, bus: new LocalBus({ nodeId: id, network }) },
      ),
    );
  }
  return {
    nodes,
    store: shared,
    async close() {
      for (const n of nodes) await n.stop();
      await shared.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresRedisNodes(): Promise<TwoNodes> {
  const { RedisBus } = await import('../src/adapters/bus/redis/redis-bus.js');
  const schema = freshSchema();
  const prefix = `parley-mutes-${process.pid}-${Date.now()}:`;
  const nodes: TestNode[] = [];
  for (const id of ['p1', 'p2']) {
    const store = await PostgresStore.open(pgUrl!, { schema, poolSize: 4 });
    const bus: Bus = await RedisBus.open({ nodeId: id, url: redisUrl!, keyPrefix: prefix });
    nodes.push(await startNode({ serverSecret: SECRET }, { store, bus }));
  }
  const store = await PostgresStore.open(pgUrl!, { schema, poolSize: 1 });
  return {
    nodes,
    store,
    async close() {
      for (const n of nodes) await n.stop();
      await store.close();
      await dropSchema(pgUrl!, schema);
    },
  };
}

const variants: Array<{ name: string; make: () => Promise<TwoNodes>; skip: string | false }> = [
  { name: 'SQLite, in-process bus', make: sqliteNodes, skip: false },
  {
    name: 'PostgreSQL, Redis bus',
    make: postgresRedisNodes,
    skip: pgUrl && redisUrl ? false : 'PARLEY_TEST_POSTGRES_URL and PARLEY_TEST_REDIS_URL are needed',
  },
];

for (const variant of variants) {
  describe(`mutes and do-not-disturb across two nodes (${variant.name})`, { skip: variant.skip }, () => {
    let c: TwoNodes;
    let nodes: TestNode[];
    let shared: Store;

    before(async () => {
      c = await variant.make();
      nodes = c.nodes;
      shared = c.store;
    });
    afterEach(() => closeWatched());
    after(() => c.close());

    /** A user with a phone on node 1 and a laptop on node 2. */
    async function twoDevices(): Promise<{ phoneCreds: Credentials; laptopCreds: Credentials }> {
      const phoneCreds = await newUser(nodes[0]!);
      const linked = await linkDevice(nodes[0]!.url, { code: (await createLinkCode(phoneCreds)).code });
      return { phoneCreds, laptopCreds: { ...linked, serverUrl: nodes[1]!.url } };
    }

    it('a mute made on the phone reaches the laptop on the other node and shows in its chat list', async () => {
      const { phoneCreds, laptopCreds } = await twoDevices();
      const bob = await newUser(nodes[0]!);
      const phone = watch(phoneCreds);
      const laptop = watch(laptopCreds);
      const heard: Array<[ChatMuteInfo, boolean]> = [];
      laptop.client.on('chatMuted', (m, { madeHere }) => {
        heard.push([m, madeHere]);
      });
      const mine: boolean[] = [];
      phone.client.on('chatMuted', (_m, { madeHere }) => {
        mine.push(madeHere);
      });
      await Promise.all([phone.client.connect(), laptop.client.connect()]);
      const chat = await phone.client.createChat({
        kind: ChatKind.GROUP,
        name: 'family',
        memberUserIds: [bob.userId],
      });

      const end = Date.now() + 8 * HOUR;
      assert.equal(await phone.client.mute(chat.id, end), end);
      assert.deepEqual(mine, [true], 'the phone hears its own answer as madeHere');
      await until(() => heard.length === 1, 'the laptop hears of the mute');
      assert.deepEqual(heard[0], [{ chatId: chat.id, mutedUntil: end }, false]);
      const listed = (await laptop.client.listChats()).find((c) => c.id === chat.id);
      assert.equal(listed?.mutedUntil, end);
      const bobs = watch(bob);
      await bobs.client.connect();
      assert.equal(
        (await bobs.client.listChats()).find((c) => c.id === chat.id)?.mutedUntil,
        0,
        'mutes are per user',
      );

      assert.equal(
        await alertFor(
          { store: shared },
          {
            userId: phoneCreds.userId as UserId,
            chatId: chat.id as ChatId,
            mentioned: false,
            now: Date.now(),
          },
        ),
        false,
      );
      assert.equal(
        await alertFor(
          { store: shared },
          {
            userId: phoneCreds.userId as UserId,
            chatId: chat.id as ChatId,
            mentioned: true,
            now: Date.now(),
          },
        ),
        true,
        'a mention breaks through the group mute',
      );

      await laptop.client.mute(chat.id, 'forever');
      await until(() => mine.length === 2, 'the phone hears of the mute made on the laptop');
      assert.equal(mine[1], false);
      assert.equal((await phone.client.listChats()).find((c) => c.id === chat.id)?.mutedUntil, MUTE_FOREVER);
      await phone.client.unmute(chat.id);
      await until(() => heard.at(-1)?.[0].mutedUntil === 0, 'the laptop hears of the unmute');
      assert.equal((await laptop.client.listChats()).find((c) => c.id === chat.id)?.mutedUntil, 0);
    });

    it('do-not-disturb follows the user to the other node and to a device that connects later', async () => {
      const { phoneCreds, laptopCreds } = await twoDevices();
      const phone = watch(phoneCreds);
      const laptop = watch(laptopCreds);
      const heard: Array<[number, boolean]> = [];
      laptop.client.on('doNotDisturb', ({ until: u }, { madeHere }) => {
        heard.push([u, madeHere]);
      });
      await Promise.all([phone.client.connect(), laptop.client.connect()]);
      await until(() => heard.length === 1, 'the setting fetched on connect');
      assert.deepEqual(heard[0], [0, false]);

      assert.equal(await phone.client.setDoNotDisturb('forever'), MUTE_FOREVER);
      assert.equal(phone.client.doNotDisturbUntil, MUTE_FOREVER);
      await until(
        () => laptop.client.doNotDisturbUntil === MUTE_FOREVER,
        'the laptop hears of do-not-disturb',
      );
      assert.deepEqual(heard.at(-1), [MUTE_FOREVER, false]);

      const link = async () =>
        watch(await linkDevice(nodes[1]!.url, { code: (await createLinkCode(phoneCreds)).code }));
      const tablet = await link();
      const tabletHeard: number[] = [];
      tablet.client.on('doNotDisturb', ({ until: u }) => {
        tabletHeard.push(u);
      });
      await tablet.client.connect();
      await until(() => tabletHeard[0] === MUTE_FOREVER, 'a new device that listens fetches it on connect');
      assert.equal(tablet.client.doNotDisturbUntil, MUTE_FOREVER);
      // A client with no listener asks nothing on connect; the getter asks the server.
      const watchOnly = await link();
      await watchOnly.client.connect();
      assert.equal(watchOnly.client.doNotDisturbUntil, 0);
      assert.equal(await watchOnly.client.doNotDisturb(), MUTE_FOREVER);
      assert.equal(watchOnly.client.doNotDisturbUntil, MUTE_FOREVER);

      await tablet.client.setDoNotDisturb(0);
      await until(
        () =>
          phone.client.doNotDisturbUntil === 0 &&
          laptop.client.doNotDisturbUntil === 0 &&
          watchOnly.client.doNotDisturbUntil === 0,
        'every other device hears it is off',
      );
    });

    it('only members may mute; bad chats and times get clear errors and change nothing', async () => {
      const owner = await newUser(nodes[0]!);
      const friend = await newUser(nodes[0]!);
      const stranger = await newUser(nodes[0]!);
      const o = watch(owner);
      const s = watch(stranger);
      await Promise.all([o.client.connect(), s.client.connect()]);
      const chat = await o.client.createChat({
        kind: ChatKind.GROUP,
        name: 'club',
        memberUserIds: [friend.userId],
      });
      await assert.rejects(s.client.mute(chat.id, 'forever'), { code: 'NOT_A_MEMBER' });
      await assert.rejects(s.client.mute('no-such-chat', 'forever'), { code: 'CHAT_NOT_FOUND' });
      await assert.rejects(s.client.mute(chat.id, -5), { code: 'INVALID_ARGUMENT' });
      assert.equal(
        (await shared.alertSettings(stranger.userId as UserId, chat.id as ChatId)).chat,
        undefined,
      );

      const raw = await RawClient.connect(nodes[1]!, owner);
      const tooLate = await raw.request({
        case: 'muteChat',
        value: { chatId: chat.id, until: BigInt(MUTE_FOREVER) + 1n },
      });
      assert.equal(tooLate.body.case === 'error' && tooLate.body.value.code, 'INVALID_ARGUMENT');
      const emptyId = await raw.request({ case: 'muteChat', value: { chatId: '', until: 0n } });
      assert.equal(emptyId.body.case === 'error' && emptyId.body.value.code, 'INVALID_ARGUMENT');
      const badDnd = await raw.request({ case: 'setDoNotDisturb', value: { until: 1n << 60n } });
      assert.equal(badDnd.body.case === 'error' && badDnd.body.value.code, 'INVALID_ARGUMENT');
      assert.equal(
        (await shared.alertSettings(owner.userId as UserId, chat.id as ChatId)).chat?.mutedUntil,
        0,
      );
      assert.equal((await shared.alertSettings(owner.userId as UserId)).doNotDisturbUntil, 0);
      const past = await raw.request({ case: 'muteChat', value: { chatId: chat.id, until: 1000n } });
      assert.deepEqual(
        past.body.case === 'muteChatResult' && past.body.value.mutedUntil,
        0n,
        'a past time unmutes',
      );
      await raw.close();
    });
  });
}
