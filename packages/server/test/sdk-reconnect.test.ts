/**
 * ParleyClient across node crashes and restarts (a real node in a child process, same data
 * dir and port): the outbox re-sends in order, other requests fail with UNAVAILABLE, the
 * client reconnects with backoff, redeliveries are deduped against the cursors it kept, and
 * close() stops it. "In flight, unanswered" is made deterministic by freezing the node
 * (SIGSTOP) before the request is written and killing it (SIGKILL) before it runs again.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ChatKind, type Credentials, MemoryLocalStore } from '@parley/sdk';
import { ChildNode, closeWatched, text, untext, until, type Watched, watch } from './sdk-helpers.js';

describe('ParleyClient across node crashes and restarts', () => {
  let node: ChildNode;
  let alice: Credentials;
  let bob: Credentials;

  before(async () => {
    node = await ChildNode.start();
  });
  // Fresh users per test: no backlog from an earlier test (acks are flushed periodically,
  // so a crash may legitimately redeliver an earlier test's messages).
  beforeEach(async () => {
    alice = await node.newUser();
    bob = await node.newUser();
  });
  afterEach(closeWatched);
  after(() => node.dispose());

  /** A new group of Alice and Bob, created by Alice. */
  async function group(a: Watched, name: string): Promise<string> {
    const chat = await a.client.createChat({ kind: ChatKind.GROUP, memberUserIds: [bob.userId], name });
    return chat.id;
  }

  it('sends in flight at a crash and sends issued while down go out in order, stored once each', async () => {
    const a = watch(alice);
    await a.client.connect();
    const chatId = await group(a, 'r1');
    await node.freeze();
    const inFlight = ['r1-0', 'r1-1'].map((id) => a.client.send(chatId, text(id), { clientMessageId: id }));
    for (const p of inFlight) p.catch(() => {}); // awaited below; report a failure there, not as unhandled
    await node.crash();
    await until(() => a.disconnects.length > 0, 'alice sees the connection drop');
    assert.equal(a.disconnects[0]!.code, 1006);
    assert.equal(a.disconnects[0]!.willReconnect, true);
    const whileDown = a.client.send(chatId, text('r1-2'), { clientMessageId: 'r1-2' });
    assert.equal(a.client.pendingSends, 3);
    await node.restart();

    const results = await Promise.all([...inFlight, whileDown]);
    assert.deepEqual(
      results.map((r) => r.clientMessageId),
      ['r1-0', 'r1-1', 'r1-2'],
    );
    const first = results[0]!.seq;
    assert.deepEqual(
      results.map((r) => r.seq),
      [first, first + 1, first + 2],
      'stored in the order issued',
    );
    assert.equal(a.client.stats.sent, 3);
    assert.equal(a.client.pendingSends, 0);

    // Bob, connecting afterwards, gets each message once and nothing twice.
    const b = watch(bob);
    await b.client.connect();
    await until(() => b.messages.length === 3, 'bob gets the three messages');
    assert.deepEqual(
      b.messages.map((m) => [m.clientMessageId, m.seq, untext(m.payload)]),
      results.map((r) => [r.clientMessageId, r.seq, r.clientMessageId]),
    );
    const page = await b.client.history(chatId);
    assert.equal(page.messages.filter((m) => m.clientMessageId.startsWith('r1-')).length, 3);
    await until(() => b.client.stats.acked === b.client.stats.received, 'bob acks everything');
    assert.equal(b.client.stats.duplicates, 0);
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  it('other requests in flight when the connection drops fail with UNAVAILABLE; while down they fail fast', async () => {
    const a = watch(alice);
    await a.client.connect();
    const chatId = await group(a, 'r2');
    await node.freeze();
    const chats = assert.rejects(a.client.listChats(), {
      code: 'UNAVAILABLE',
      message: 'connection lost before an answer',
    });
    await node.crash();
    await chats;
    await assert.rejects(a.client.listChats(), { code: 'UNAVAILABLE', message: 'not connected' });
    await node.restart();
    await a.client.connect();
    assert.deepEqual(
      (await a.client.listChats()).map((c) => c.id),
      [chatId],
    );
  });

  it('reconnects with backoff after a graceful restart', async () => {
    const a = watch(alice);
    await a.client.connect();
    await node.terminate();
    // Each failed attempt (connection refused) is reported and followed by another one.
    await until(() => a.disconnects.length >= 3, 'two failed attempts while the node is down');
    await node.restart();
    await until(() => a.connects === 2, 'the client reconnects');
    assert.equal(a.client.connected, true);
    assert.deepEqual(a.disconnects[0], { code: 1001, reason: 'server shutting down', willReconnect: true });
    assert.match(a.disconnects[1]!.reason, /ECONNREFUSED/);
    assert.ok(a.disconnects.every((d) => d.willReconnect && d.error === undefined));
    assert.ok((await a.client.ping()) > 0);
  });

  it('a redelivery after a reconnect is not emitted again; the stale ack is dropped', async () => {
    const store = new MemoryLocalStore();
    const a = watch(alice);
    const b = watch(bob, { store });
    await Promise.all([a.client.connect(), b.client.connect()]);
    const chatId = await group(a, 'r4');
    await until(() => b.updates.some((u) => u.chatId === chatId), 'the chat-created update');
    // Bob's app holds the first message until released: its ack cannot go out before the drop.
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    b.client.on('message', () => (calls++ === 0 ? held : undefined));
    const sent = await a.client.send(chatId, text('once'));
    await until(() => calls === 1, 'bob is handling the message');
    const before = { ...b.client.stats };

    await node.crash();
    await node.restart();
    await until(() => b.connects === 2, 'bob reconnects');
    release(); // the node never got an ack for it, so it delivers it again on the new socket
    await until(() => b.client.stats.duplicates > before.duplicates, 'the redelivery');
    // A later message comes after every redelivery (the node delivers a chat in seq order).
    const next = await a.client.send(chatId, text('next'));
    await until(() => b.client.stats.received === before.received + 2, 'the next message');
    assert.ok((await b.client.ping()) > 0); // an ack refused by the node would have come back by now

    assert.deepEqual(
      b.messages.map((m) => [m.seq, untext(m.payload)]),
      [
        [sent.seq, 'once'],
        [next.seq, 'next'],
      ],
    );
    assert.equal(calls, 2);
    assert.equal(await store.getCursor(chatId), next.seq);
    // Redelivered: the held message, and the chat-created update too when the crash came
    // before the node's periodic ack flush. Acked: the redeliveries and 'next', but not the
    // held frame, whose ack was dropped with its socket (on the new one it would count here).
    const after = b.client.stats;
    assert.ok(after.duplicates - before.duplicates >= 1);
    assert.equal(after.acked - before.acked, after.duplicates - before.duplicates + 1);
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  it('a request unanswered in time means a dead socket: the client reconnects, the send is stored once', async () => {
    const a = watch(alice, { requestTimeoutMs: 300 });
    const b = watch(bob);
    await Promise.all([a.client.connect(), b.client.connect()]);
    const chatId = await group(a, 'r6');
    await until(() => b.updates.some((u) => u.chatId === chatId), 'the chat-created update');
    // A hung node: the kernel keeps its sockets open and buffers what clients write, but
    // nothing is read or answered (a real process, stopped; no Parley code is replaced).
    await node.freeze();
    const send = a.client.send(chatId, text('frozen'), { clientMessageId: 'r6-0' });
    const ping = assert.rejects(a.client.ping(), { code: 'UNAVAILABLE' });
    await until(() => a.disconnects.length > 0, 'the request timeout');
    assert.deepEqual(a.disconnects[0], { code: 4000, reason: 'request timed out', willReconnect: true });
    await ping;
    assert.equal(a.client.pendingSends, 1, 'the send survives the dead socket');
    // Thawed, the node reads the old socket: it stores the send, but the answer has no socket
    // to go to. The client's re-send on its new socket (same clientMessageId) gets the
    // stored result instead of storing a second copy.
    node.thaw();
    const result = await send;
    assert.equal(result.clientMessageId, 'r6-0');
    assert.equal(a.connects, 2);

    await until(() => b.messages.some((m) => m.clientMessageId === 'r6-0'), 'bob gets the message');
    await until(() => b.client.stats.acked === b.client.stats.received, 'bob acks everything');
    assert.deepEqual(
      b.messages.filter((m) => m.chatId === chatId).map((m) => [m.seq, untext(m.payload)]),
      [[result.seq, 'frozen']],
    );
    assert.equal(b.client.stats.duplicates, 0, 'the node did not deliver the re-send again');
    const page = await b.client.history(chatId);
    assert.equal(page.messages.filter((m) => m.clientMessageId === 'r6-0').length, 1);
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  it('close() while reconnecting fails the sends still waiting and stops for good', async () => {
    const a = watch(alice);
    await a.client.connect();
    const chatId = await group(a, 'r5');
    await node.crash();
    await until(() => a.disconnects.length > 0, 'alice sees the connection drop');
    const send = a.client.send(chatId, text('never'));
    await a.client.close();
    await assert.rejects(send, { code: 'UNAVAILABLE', message: 'client closed' });
    const last = a.disconnects.at(-1)!;
    assert.equal(last.willReconnect, false);
    assert.equal(last.error, undefined, 'closing is not an error');
    await assert.rejects(a.client.connect(), { code: 'UNAVAILABLE' });
    await assert.rejects(a.client.send(chatId, text('again')), { code: 'UNAVAILABLE' });

    await node.restart();
    const check = watch(alice);
    await check.client.connect();
    const page = await check.client.history(chatId);
    assert.ok(!page.messages.some((m) => 'payload' in m && untext(m.payload) === 'never'));
  });
});
