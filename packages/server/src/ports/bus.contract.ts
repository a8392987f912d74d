/**
 * The conformance suite every Bus backend passes. `setup` returns a fresh, empty backend; each
 * test makes its nodes from it, and closes them (and cleans up) whatever the outcome. Tests
 * use only the Bus interface, so a backend that passes keeps the TSDoc contract of bus.ts.
 * TTL tests wait in real time (a few hundred ms): a backend's own clock decides expiry.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus, BusMessage, BusState } from './bus.js';
import type { DeviceId } from './types.js';

export interface BusFixture {
  /** A bus (not started) for node `nodeId`; all buses of one fixture share one backend. */
  make(nodeId: string, onError: (err: unknown) => void): Promise<Bus>;
  /** Cuts every bus off the backend (e.g. kills the server). With `restore`, enables the outage test. */
  interrupt?(): Promise<void>;
  /** Brings the backend back after `interrupt`. */
  restore?(): Promise<void>;
  /** Called after every bus of the test is closed. */
  cleanup?(): Promise<void>;
}

interface Received {
  msg: BusMessage;
  from: string;
}

/** One node under test: its bus, what it received, its state changes and reported errors. */
interface TestNode {
  bus: Bus;
  received: Received[];
  states: BusState[];
  errors: unknown[];
}

type MakeNode = (nodeId: string, options?: { start?: boolean; throwOnFirst?: boolean }) => Promise<TestNode>;

const device = (s: string) => s as DeviceId;
const devices = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => device(`${prefix}-${i}`));

async function waitFor(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Waits until `node` received a marker from `sender`: by per-sender order, everything sent before has arrived. */
async function barrier(sender: TestNode, node: TestNode): Promise<void> {
  const id = Math.random().toString(36).slice(2);
  await sender.bus.sendToNode(node.bus.nodeId, { kind: 'marker', id });
  await waitFor(`marker at ${node.bus.nodeId}`, () => node.received.some((r) => r.msg.id === id));
  node.received.splice(
    node.received.findIndex((r) => r.msg.id === id),
    1,
  );
}

const kindsOf = (node: TestNode) => node.received.map((r) => r.msg.kind);

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: { code?: string }) => {
    assert.equal(err.code, code);
    return true;
  });
}

export interface BusContractOptions {
  /** Set when `setup` returns `interrupt` and `restore`; otherwise the outage case is not run. */
  outages?: boolean;
}

export function busContract(
  name: string,
  setup: () => Promise<BusFixture>,
  options: BusContractOptions = {},
): void {
  /** One test on its own fresh backend; its buses are closed (and the backend cleaned up) whatever the outcome. */
  const test = (title: string, body: (node: MakeNode, fixture: BusFixture) => Promise<void>) =>
    it(title, async () => {
      const fixture = await setup();
      const buses: Bus[] = [];
      const node: MakeNode = async (nodeId, options = {}) => {
        const errors: unknown[] = [];
        const n: TestNode = {
          bus: await fixture.make(nodeId, (err) => errors.push(err)),
          received: [],
          states: [],
          errors,
        };
        buses.push(n.bus);
        n.bus.onState((s) => n.states.push(s));
        if (options.start !== false) {
          let first = options.throwOnFirst === true;
          await n.bus.start((msg, from) => {
            n.received.push({ msg, from });
            if (first) {
              first = false;
              throw new Error('handler failed on purpose');
            }
          });
        }
        return n;
      };
      try {
        await body(node, fixture);
      } finally {
        for (const bus of buses) await bus.close().catch(() => {});
        await fixture.cleanup?.();
      }
    });

  describe(`Bus contract: ${name}`, () => {
    describe('messages', () => {
      test('a node gets what is sent to it, with the sender id, and nothing sent to other nodes', async (node) => {
        const a = await node('node-a');
        const b = await node('node-b');
        const c = await node('node-c');
        await a.bus.sendToNode('node-b', { kind: 'wake', chatId: 'c1', seq: 1 });
        await a.bus.sendToNode('node-c', { kind: 'wake', chatId: 'c2', seq: 2 });
        await barrier(a, b);
        await barrier(a, c);
        await barrier(b, a);
        assert.deepEqual(b.received, [{ msg: { kind: 'wake', chatId: 'c1', seq: 1 }, from: 'node-a' }]);
        assert.deepEqual(c.received, [{ msg: { kind: 'wake', chatId: 'c2', seq: 2 }, from: 'node-a' }]);
        assert.deepEqual(a.received, []);
      });

      test('a broadcast reaches every started node, the sender included', async (node) => {
        const a = await node('node-a');
        const b = await node('node-b');
        const c = await node('node-c');
        await node('node-d', { start: false });
        await b.bus.broadcast({ kind: 'presence', userId: 'u1', online: true });
        const expected = [{ msg: { kind: 'presence', userId: 'u1', online: true }, from: 'node-b' }];
        for (const n of [a, b, c]) await waitFor(`broadcast at ${n.bus.nodeId}`, () => n.received.length > 0);
        await sleep(50);
        for (const n of [a, b, c]) assert.deepEqual(n.received, expected);
      });

      test('a message arrives as a JSON copy made when it was sent', async (node) => {
        const a = await node('node-a');
        const b = await node('node-b');
        const msg: BusMessage = {
          kind: 'typing',
          chatId: 'chat-✓',
          users: ['u1', 'u2'],
          nested: { n: 1.5, t: true, none: null },
          dropped: undefined,
        };
        const sent = a.bus.sendToNode('node-b', msg);
        msg.chatId = 'changed after send';
        await sent;
        await barrier(a, b);
        assert.deepEqual(b.received, [
          {
            msg: {
              kind: 'typing',
              chatId: 'chat-✓',
              users: ['u1', 'u2'],
              nested: { n: 1.5, t: true, none: null },
            },
            from: 'node-a',
          },
        ]);
      });

      test('delivery never happens inside the sender’s call', async (node) => {
        const a = await node('node-a');
        const sent = a.bus.sendToNode('node-a', { kind: 'self' });
        const broadcast = a.bus.broadcast({ kind: 'all' });
        assert.equal(a.received.length, 0);
        await Promise.all([sent, broadcast]);
        await waitFor('both messages', () => a.received.length === 2);
        assert.deepEqual(kindsOf(a).sort(), ['all', 'self']);
      });

      test('messages from one node arrive in send order, per node and on the broadcast', async (node) => {
        const a = await node('node-a');
        const b = await node('node-b');
        const sends: Promise<void>[] = [];
        for (let i = 0; i < 500; i++) {
          sends.push(a.bus.sendToNode('node-b', { kind: 'direct', i }));
          sends.push(a.bus.broadcast({ kind: 'all', i }));
        }
        await Promise.all(sends);
        await waitFor('1000 messages at node-b', () => b.received.length === 1000);
        const order = (kind: string) => b.received.filter((r) => r.msg.kind === kind).map((r) => r.msg.i);
        const expected = Array.from({ length: 500 }, (_, i) => i);
        assert.deepEqual(order('direct'), expected);
        assert.deepEqual(order('all'), expected);
      });

      test('sending to a node nobody listens on resolves', async (node) => {
        const a = await node('node-a');
        await a.bus.sendToNode('node-gone', { kind: 'wake' });
        await a.bus.sendToNode('node-b', { kind: 'wake' });
      });

      test('a handler that throws is reported and delivery goes on', async (node) => {
        const a = await node('node-a');
        const b = await node('node-b', { throwOnFirst: true });
        await a.bus.sendToNode('node-b', { kind: 'first' });
        await a.bus.sendToNode('node-b', { kind: 'second' });
        await waitFor('second message', () => b.received.length === 2);
        assert.deepEqual(kindsOf(b), ['first', 'second']);
        assert.equal(b.errors.length, 1);
        assert.match(String((b.errors[0] as Error).message), /on purpose/);
      });

      test('a message without a kind, not serialisable, over 64 KiB or to a bad node id is refused with INTERNAL', async (node) => {
        const a = await node('node-a');
        const b = await node('node-b');
        await rejectsWith(a.bus.sendToNode('node-b', { kind: '' }), 'INTERNAL');
        await rejectsWith(a.bus.sendToNode('node-b', { kind: 'big', n: 1n }), 'INTERNAL');
        await rejectsWith(a.bus.broadcast({ kind: 'huge', s: 'x'.repeat(70_000) }), 'INTERNAL');
        await rejectsWith(a.bus.sendToNode('node b}', { kind: 'to-a-bad-id' }), 'INTERNAL');
        await a.bus.sendToNode('node-b', { kind: 'fits', s: 'x'.repeat(60_000) });
        await barrier(a, b);
        assert.deepEqual(kindsOf(b), ['fits']);
      });
    });

    describe('device locations', () => {
      test('register, locate and unregister', async (node) => {
        const a = await node('node-a');
        const b = await node('node-b', { start: false });
        const [d1, d2, d3] = devices('dev', 3) as [DeviceId, DeviceId, DeviceId];
        await a.bus.register([d1, d2], 10_000);
        assert.deepEqual(
          await b.bus.locate([d1, d2, d3]),
          new Map([
            [d1, 'node-a'],
            [d2, 'node-a'],
          ]),
        );
        await a.bus.unregister([d1]);
        assert.deepEqual(await b.bus.locate([d1, d2, d3]), new Map([[d2, 'node-a']]));
        await a.bus.register([], 10_000);
        await a.bus.unregister([]);
        assert.deepEqual(await a.bus.locate([]), new Map());
      });

      test('a device that moved is not removed by its old node', async (node) => {
        const a = await node('node-a', { start: false });
        const b = await node('node-b', { start: false });
        const d = device('phone');
        await a.bus.register([d], 10_000);
        await b.bus.register([d], 10_000);
        assert.deepEqual(await a.bus.locate([d]), new Map([[d, 'node-b']]));
        await a.bus.unregister([d]);
        assert.deepEqual(await a.bus.locate([d]), new Map([[d, 'node-b']]));
        await b.bus.unregister([d]);
        assert.deepEqual(await a.bus.locate([d]), new Map());
      });

      test('a location is gone once its TTL has passed', async (node) => {
        const a = await node('node-a', { start: false });
        const d = device('laptop');
        await a.bus.register([d], 300);
        assert.deepEqual(await a.bus.locate([d]), new Map([[d, 'node-a']]));
        await sleep(450);
        assert.deepEqual(await a.bus.locate([d]), new Map());
      });

      test('registering again keeps a location alive past its first TTL', async (node) => {
        const a = await node('node-a', { start: false });
        const d = device('tablet');
        await a.bus.register([d], 400);
        await sleep(250);
        await a.bus.register([d], 400);
        await sleep(250);
        assert.deepEqual(
          await a.bus.locate([d]),
          new Map([[d, 'node-a']]),
          'alive 500 ms after the first register',
        );
        await sleep(350);
        assert.deepEqual(await a.bus.locate([d]), new Map(), 'gone 600 ms after the refresh');
      });

      test('locate answers 500 devices in one call', async (node) => {
        const a = await node('node-a', { start: false });
        const b = await node('node-b', { start: false });
        const onA = devices('a', 250);
        const onB = devices('b', 250);
        const nowhere = devices('x', 100);
        await a.bus.register(onA, 10_000);
        await b.bus.register(onB, 10_000);
        const found = await a.bus.locate([...onA, ...nowhere, ...onB]);
        assert.equal(found.size, 500);
        for (const d of onA) assert.equal(found.get(d), 'node-a');
        for (const d of onB) assert.equal(found.get(d), 'node-b');
        for (const d of nowhere) assert.equal(found.has(d), false);
      });

      test('a TTL that is not a positive integer is refused with INTERNAL', async (node) => {
        const a = await node('node-a', { start: false });
        for (const ttl of [0, -1, 1.5, Number.NaN])
          await rejectsWith(a.bus.register([device('d')], ttl), 'INTERNAL');
      });
    });

    describe('lifecycle', () => {
      test('ping resolves while the backend is up', async (node) => {
        const a = await node('node-a');
        await a.bus.ping();
      });

      test('starting twice is refused', async (node) => {
        const a = await node('node-a');
        await rejectsWith(
          a.bus.start(() => {}),
          'UNAVAILABLE',
        );
      });

      test('close stops delivery at once and later calls reject with UNAVAILABLE', async (node) => {
        const a = await node('node-a');
        const b = await node('node-b');
        const sends = Array.from({ length: 100 }, (_, i) => a.bus.sendToNode('node-b', { kind: 'late', i }));
        await b.bus.close();
        const atClose = b.received.length;
        await Promise.all(sends);
        await a.bus.sendToNode('node-b', { kind: 'after-close' });
        await a.bus.broadcast({ kind: 'after-close' });
        await waitFor('broadcast at node-a', () => a.received.length === 1);
        await sleep(100);
        assert.equal(b.received.length, atClose);
        await rejectsWith(b.bus.sendToNode('node-a', { kind: 'x' }), 'UNAVAILABLE');
        await rejectsWith(b.bus.ping(), 'UNAVAILABLE');
        await rejectsWith(b.bus.locate([device('d')]), 'UNAVAILABLE');
        await b.bus.close();
      });

      // Only fixtures that can play an outage run this case (the shared server is never killed).
      const outage = options.outages ? test : () => {};
      outage(
        'after an outage the bus reports down then up, refuses calls meanwhile, and works again',
        async (node, fixture) => {
          assert.ok(fixture.interrupt && fixture.restore, 'an outage fixture has interrupt and restore');
          const a = await node('node-a');
          const b = await node('node-b');
          await fixture.interrupt();
          await waitFor('down on both nodes', () => a.states.includes('down') && b.states.includes('down'));
          await rejectsWith(a.bus.ping(), 'UNAVAILABLE');
          await rejectsWith(a.bus.sendToNode('node-b', { kind: 'lost' }), 'UNAVAILABLE');
          await rejectsWith(a.bus.register([device('d')], 10_000), 'UNAVAILABLE');
          await fixture.restore();
          await waitFor(
            'up on both nodes',
            () => a.states.at(-1) === 'up' && b.states.at(-1) === 'up',
            30_000,
          );
          assert.deepEqual(a.states, ['down', 'up']);
          assert.deepEqual(b.states, ['down', 'up']);
          await a.bus.ping();
          await a.bus.sendToNode('node-b', { kind: 'again' });
          await b.bus.broadcast({ kind: 'all-again' });
          await waitFor('messages after recovery', () => b.received.length === 2 && a.received.length === 1);
          assert.deepEqual(kindsOf(b).sort(), ['again', 'all-again']);
          await a.bus.register([device('d')], 10_000);
          assert.deepEqual(await b.bus.locate([device('d')]), new Map([[device('d'), 'node-a']]));
        },
      );
    });
  });
}
