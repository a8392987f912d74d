/**
 * Presence, last-seen privacy and typing through the real SDK (ParleyClient, TypingTracker)
 * against a real node: pushes reach subscribers, privacy hides last seen (with reciprocity
 * for NOBODY), typing reaches the other members' devices only and expires, and the client
 * re-subscribes by itself after a reconnect. The node's clock is manual, so last-seen times
 * are exact.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ChatKind,
  type Credentials,
  type DisconnectInfo,
  ParleyClient,
  type PresenceInfo,
  type Timers,
  type TypingInfo,
  TypingTracker,
} from '@parley/sdk';
import { nodeWebSocketFactory } from '@parley/sdk/node';
import { ManualClock } from '../src/ports/clock.js';
import type { DeviceId } from '../src/ports/types.js';
import { linkDevice, register, startNode, type TestNode } from './harness.js';

const T = 1_800_000_000_000;

/** A client plus the presence and typing events it emitted, in order. */
interface Watched {
  client: ParleyClient;
  presence: PresenceInfo[];
  typing: TypingInfo[];
  disconnects: DisconnectInfo[];
  connects: number;
}

function watch(credentials: Credentials, now?: () => number): Watched {
  const client = new ParleyClient({
    credentials,
    webSocketFactory: nodeWebSocketFactory,
    backoff: { initialMs: 5, maxMs: 50 },
    ...(now ? { now } : {}),
  });
  const w: Watched = { client, presence: [], typing: [], disconnects: [], connects: 0 };
  client.on('presence', (p) => {
    w.presence.push(p);
  });
  client.on('typing', (t) => {
    w.typing.push(t);
  });
  client.on('disconnected', (d) => {
    w.disconnects.push(d);
  });
  client.on('connected', () => {
    w.connects++;
  });
  return w;
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The newest presence event about `userId`, once one satisfies `check`. */
async function presenceOf(w: Watched, userId: string, check: (p: PresenceInfo) => boolean, what: string) {
  let found: PresenceInfo | undefined;
  await until(() => {
    found = w.presence.findLast((p) => p.userId === userId);
    return found !== undefined && check(found);
  }, what);
  return found!;
}

/** Timers moved by hand, for the typing tracker and the clients' `now`. */
class ManualTimers implements Timers {
  t = 5_000_000;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  private seq = 0;
  now = () => this.t;
  setTimeout(fn: () => void, ms: number): unknown {
    this.due.set(++this.seq, { at: this.t + ms, fn });
    return this.seq;
  }
  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }
  advance(ms: number): void {
    this.t += ms;
    for (const [id, d] of [...this.due].sort((a, b) => a[1].at - b[1].at)) {
      if (d.at > this.t) break;
      this.due.delete(id);
      d.fn();
    }
  }
}

describe('presence, privacy and typing through the SDK', () => {
  let t: TestNode;
  const clock = new ManualClock(T);
  let alice: Credentials;
  let bob: Credentials;
  let carol: Credentials;
  let direct = ''; // alice and bob
  let group = ''; // alice, bob and carol: carol is no contact of anyone
  const open: Watched[] = [];

  const creds = async (): Promise<Credentials> => ({
    serverUrl: t.url,
    primary: true,
    ...(await register(t)),
  });
  const connected = async (c: Credentials, now?: () => number): Promise<Watched> => {
    const w = watch(c, now);
    open.push(w);
    await w.client.connect();
    return w;
  };
  const closeAll = async () => {
    await Promise.all(open.splice(0).map((w) => w.client.close()));
  };

  before(async () => {
    t = await startNode({}, { clock });
    [alice, bob, carol] = [await creds(), await creds(), await creds()];
    const a = await connected(alice);
    direct = (await a.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bob.userId] })).id;
    group = (
      await a.client.createChat({
        kind: ChatKind.GROUP,
        memberUserIds: [bob.userId, carol.userId],
        name: 'trio',
      })
    ).id;
    await closeAll();
  });
  after(async () => {
    await closeAll();
    await t.stop();
  });

  it('pushes online, then offline with the last-seen time, to a subscriber', async () => {
    clock.set(T);
    const b = await connected(bob);
    const [initial] = await b.client.subscribePresence([alice.userId]);
    assert.equal(initial?.userId, alice.userId);
    assert.equal(initial?.online, false);

    const a = await connected(alice);
    await presenceOf(b, alice.userId, (p) => p.online, 'alice online');
    clock.set(T + 5000);
    await a.client.close();
    const off = await presenceOf(b, alice.userId, (p) => !p.online, 'alice offline');
    assert.deepEqual(off, { userId: alice.userId, online: false, lastSeen: T + 5000 });
    assert.equal(typeof off.lastSeen, 'number');

    // A fresh subscription answers with the stored time.
    const [again] = await b.client.subscribePresence([alice.userId]);
    assert.deepEqual(again, { userId: alice.userId, online: false, lastSeen: T + 5000 });
    await closeAll();
  });

  it('answers offline with lastSeen 0 for users who share no chat with the caller', async () => {
    const stranger = await creds();
    const s = await connected(stranger);
    await connected(alice);
    const users = await s.client.subscribePresence([alice.userId, stranger.userId]);
    assert.deepEqual(users[0], { userId: alice.userId, online: false, lastSeen: 0 });
    assert.equal(users[1]?.userId, stranger.userId);
    await closeAll();
  });

  it('NOBODY hides last seen from everyone, and its user sees no one else’s', async () => {
    clock.set(T + 10_000);
    const a = await connected(alice);
    assert.equal(await a.client.setLastSeenPrivacy('nobody'), 'nobody');
    assert.equal(await a.client.lastSeenPrivacy(), 'nobody');
    const b = await connected(bob);
    await b.client.subscribePresence([alice.userId]);
    clock.set(T + 11_000);
    await a.client.close();
    // Online status stays visible; the time does not.
    const off = await presenceOf(b, alice.userId, (p) => !p.online, 'alice offline');
    assert.equal(off.lastSeen, 0);
    const [sub] = await b.client.subscribePresence([alice.userId]);
    assert.deepEqual(sub, { userId: alice.userId, online: false, lastSeen: 0 });

    // Reciprocity: alice (NOBODY) cannot see bob's last seen, though he shows it to everyone.
    clock.set(T + 12_000);
    await b.client.close();
    const a2 = await connected(alice);
    const [bobSeen] = await a2.client.subscribePresence([bob.userId]);
    assert.deepEqual(bobSeen, { userId: bob.userId, online: false, lastSeen: 0 });
    // ...until she shows hers again.
    assert.equal(await a2.client.setLastSeenPrivacy('everyone'), 'everyone');
    const [visible] = await a2.client.subscribePresence([bob.userId]);
    assert.deepEqual(visible, { userId: bob.userId, online: false, lastSeen: T + 12_000 });
    await closeAll();
  });

  it('CONTACTS shows last seen to users with a direct chat only', async () => {
    clock.set(T + 20_000);
    const a = await connected(alice);
    assert.equal(await a.client.setLastSeenPrivacy('contacts'), 'contacts');
    await a.client.close();
    const b = await connected(bob);
    const c = await connected(carol);
    const [toBob] = await b.client.subscribePresence([alice.userId]);
    const [toCarol] = await c.client.subscribePresence([alice.userId]);
    assert.deepEqual(toBob, { userId: alice.userId, online: false, lastSeen: T + 20_000 });
    assert.deepEqual(toCarol, { userId: alice.userId, online: false, lastSeen: 0 });

    // Carol still sees alice come online (they share the group).
    const a2 = await connected(alice);
    await presenceOf(c, alice.userId, (p) => p.online, 'carol sees alice online');
    clock.set(T + 21_000);
    await a2.client.close();
    assert.equal((await presenceOf(c, alice.userId, (p) => !p.online, 'carol: offline')).lastSeen, 0);
    assert.equal((await presenceOf(b, alice.userId, (p) => !p.online, 'bob: offline')).lastSeen, T + 21_000);

    const a3 = await connected(alice);
    await a3.client.setLastSeenPrivacy('everyone');
    await closeAll();
  });

  it('typing reaches the other members’ devices only, and the tracker ends it', async () => {
    const timers = new ManualTimers();
    const aliceLaptop: Credentials = { serverUrl: t.url, primary: false, ...(await linkDevice(t, alice)) };
    const bobLaptop: Credentials = { serverUrl: t.url, primary: false, ...(await linkDevice(t, bob)) };
    const a1 = await connected(alice);
    const a2 = await connected(aliceLaptop);
    const b1 = await connected(bob, timers.now);
    const b2 = await connected(bobLaptop, timers.now);
    const c = await connected(carol);
    const tracker = new TypingTracker(timers);
    const detach = tracker.attach(b1.client);
    const started: string[] = [];
    tracker.on('start', (chatId, userId) => {
      started.push(`${chatId} ${userId}`);
    });

    await a1.client.typing(direct, 'composing');
    await until(() => b1.typing.length === 1 && b2.typing.length === 1, 'both bob devices get composing');
    assert.deepEqual(b1.typing[0], {
      chatId: direct,
      userId: alice.userId,
      state: 'composing',
      expiresAt: timers.t + 10_000,
    });
    assert.deepEqual(tracker.typingIn(direct), [alice.userId]);

    // Renewed composing does not start again; paused ends it.
    await a1.client.typing(direct, 'composing');
    await a1.client.typing(direct, 'paused');
    await until(() => b1.typing.length === 3, 'composing and paused');
    assert.deepEqual(
      b1.typing.map((e) => e.state),
      ['composing', 'composing', 'paused'],
    );
    assert.deepEqual(tracker.typingIn(direct), []);

    // Without a paused, it expires after the server's 10 s.
    await a1.client.typing(direct, 'composing');
    await until(() => b1.typing.length === 4, 'composing again');
    timers.advance(9_999);
    assert.deepEqual(tracker.typingIn(direct), [alice.userId]);
    timers.advance(1);
    assert.deepEqual(tracker.typingIn(direct), []);

    // A message from the typist ends it too.
    await a1.client.typing(group, 'composing');
    await until(() => tracker.typingIn(group).length === 1, 'composing in the group');
    await until(() => c.typing.length === 1, 'carol gets it too');
    await a1.client.send(group, new TextEncoder().encode('hi'));
    await until(() => tracker.typingIn(group).length === 0, 'the message ends the typing');
    assert.deepEqual(started, [
      `${direct} ${alice.userId}`,
      `${direct} ${alice.userId}`,
      `${group} ${alice.userId}`,
    ]);

    // The typist's own devices heard nothing; carol heard nothing of the direct chat.
    await b1.client.typing(direct, 'paused');
    await until(() => a1.typing.length === 1 && a2.typing.length === 1, 'alice devices get bob paused');
    assert.deepEqual(
      [...a1.typing, ...a2.typing].map((e) => e.userId),
      [bob.userId, bob.userId],
    );
    assert.deepEqual(
      c.typing.map((e) => e.chatId),
      [group],
    );
    assert.equal(b1.typing.filter((e) => e.userId === bob.userId).length, 0);
    assert.equal(b2.typing.filter((e) => e.userId === bob.userId).length, 0);

    await assert.rejects(c.client.typing(direct, 'composing'), { code: 'NOT_A_MEMBER' });
    await assert.rejects(c.client.typing('c_nosuchchat', 'composing'), { code: 'CHAT_NOT_FOUND' });
    detach();
    tracker.dispose();
    await closeAll();
  });

  it('refuses more than 5 typing requests a second on a connection', async () => {
    const a = await connected(alice);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => a.client.typing(direct, 'composing')),
    );
    const limited = results.filter((r) => r.status === 'rejected');
    assert.ok(limited.length >= 3, `expected at least 3 refusals, got ${limited.length}`);
    for (const r of limited) assert.equal((r.reason as { code?: string }).code, 'RATE_LIMITED');
    await closeAll();
  });

  it('re-subscribes presence by itself after a reconnect', async () => {
    clock.set(T + 30_000);
    const b = await connected(bob);
    await b.client.subscribePresence([alice.userId, carol.userId]);
    const before = b.presence.length;

    // The node drops bob's connection; the client reconnects with backoff.
    t.node.hub.get(bob.deviceId as DeviceId)?.close(1011, 'test drop');
    await until(() => b.connects === 2, 'bob reconnected');
    assert.equal(b.disconnects[0]?.willReconnect, true);
    // The new subscription's answer arrives as presence events, one per user.
    await until(() => b.presence.length >= before + 2, 'presence after the re-subscription');
    assert.deepEqual(
      b.presence
        .slice(before)
        .map((p) => p.userId)
        .sort(),
      [alice.userId, carol.userId].sort(),
    );

    // And the new connection gets pushes without another subscribePresence.
    const a = await connected(alice);
    await presenceOf(b, alice.userId, (p) => p.online, 'alice online after the reconnect');
    clock.set(T + 31_000);
    await a.client.close();
    const off = await presenceOf(b, alice.userId, (p) => !p.online, 'alice offline after the reconnect');
    assert.equal(off.lastSeen, T + 31_000);

    // An empty list stops the pushes, also across reconnects.
    await b.client.subscribePresence([]);
    const count = b.presence.length;
    t.node.hub.get(bob.deviceId as DeviceId)?.close(1011, 'test drop');
    await until(() => b.connects === 3, 'bob reconnected again');
    const c = await connected(carol);
    await c.client.ping();
    await b.client.ping();
    assert.equal(b.presence.length, count);
    await closeAll();
  });
});
