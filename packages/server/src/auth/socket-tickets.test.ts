import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../ports/clock.js';
import type { DeviceId, UserId } from '../ports/types.js';
import { MemoryTicketReplay, SOCKET_TICKET_TTL_MS, SocketTickets } from './socket-tickets.js';

const owner = { userId: 'u_alice' as UserId, deviceId: 'd_phone' as DeviceId };
const secret = Buffer.from('socket-ticket-test-secret-0123456789');

function setup(maxEntries?: number) {
  const clock = new ManualClock();
  const replay = new MemoryTicketReplay(clock, maxEntries);
  return { clock, replay, tickets: new SocketTickets(secret, clock, replay) };
}

describe('socket tickets', () => {
  it('a ticket names its device, expires 30 s after issue and is 32 random bytes apart from others', async () => {
    const { clock, tickets } = setup();
    const a = tickets.issue(owner);
    const b = tickets.issue(owner);
    assert.equal(a.expiresAt, clock.now() + SOCKET_TICKET_TTL_MS);
    assert.match(a.ticket, /^[A-Za-z0-9_-]+$/);
    assert.notEqual(a.ticket, b.ticket);
    assert.deepEqual(await tickets.redeem(a.ticket), owner);
    assert.deepEqual(await tickets.redeem(b.ticket), owner);
  });

  it('a ticket opens one socket: the second use is refused', async () => {
    const { tickets } = setup();
    const { ticket } = tickets.issue(owner);
    assert.deepEqual(await tickets.redeem(ticket), owner);
    assert.equal(await tickets.redeem(ticket), undefined);
  });

  it('a ticket is refused once its 30 s are over, and accepted just before', async () => {
    const { clock, tickets } = setup();
    const late = tickets.issue(owner);
    const onTime = tickets.issue(owner);
    clock.advance(SOCKET_TICKET_TTL_MS - 1);
    assert.deepEqual(await tickets.redeem(onTime.ticket), owner);
    clock.advance(1);
    assert.equal(await tickets.redeem(late.ticket), undefined);
  });

  it('a tampered, truncated, foreign or malformed ticket is refused', async () => {
    const { clock, tickets } = setup();
    const { ticket } = tickets.issue(owner);
    const bytes = Buffer.from(ticket, 'base64url');
    // Each byte of the body flipped in turn: the MAC catches every one.
    for (let i = 0; i < bytes.length; i += 7) {
      const bad = Buffer.from(bytes);
      bad[i]! ^= 1;
      assert.equal(await tickets.redeem(bad.toString('base64url')), undefined, `byte ${i}`);
    }
    assert.equal(await tickets.redeem(bytes.subarray(0, bytes.length - 1).toString('base64url')), undefined);
    const other = new SocketTickets(
      Buffer.from('another-secret-of-another-deployment!'),
      clock,
      new MemoryTicketReplay(clock),
    );
    assert.equal(await other.redeem(ticket), undefined);
    for (const junk of ['', 'a', '!!!!', 'x'.repeat(401), `${ticket}=`, `${ticket}.`])
      assert.equal(await tickets.redeem(junk), undefined, JSON.stringify(junk.slice(0, 20)));
    // None of it used the ticket up.
    assert.deepEqual(await tickets.redeem(ticket), owner);
  });

  it('any node with the same secret accepts a ticket another issued; a shared replay set keeps it one-use', async () => {
    const clock = new ManualClock();
    const shared = new MemoryTicketReplay(clock);
    const node1 = new SocketTickets(secret, clock, shared);
    const node2 = new SocketTickets(secret, clock, shared);
    const { ticket } = node1.issue(owner);
    assert.deepEqual(await node2.redeem(ticket), owner);
    assert.equal(await node1.redeem(ticket), undefined);
  });

  it('the memory replay set forgets used tickets once they expire, and refuses rather than forgets when full', async () => {
    const { clock, replay, tickets } = setup(3);
    for (let i = 0; i < 3; i++) assert.ok(await tickets.redeem(tickets.issue(owner).ticket));
    assert.equal(replay.size, 3);
    const fourth = tickets.issue(owner).ticket;
    await assert.rejects(tickets.redeem(fourth), { code: 'UNAVAILABLE' });
    clock.advance(SOCKET_TICKET_TTL_MS);
    assert.ok(await tickets.redeem(tickets.issue(owner).ticket));
    assert.equal(replay.size, 1);
  });
});
