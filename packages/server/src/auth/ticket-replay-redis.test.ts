import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ManualClock } from '../ports/clock.js';
import type { DeviceId, UserId } from '../ports/types.js';
import { SocketTickets } from './socket-tickets.js';
import { RedisTicketReplay } from './ticket-replay-redis.js';

const owner = { userId: 'u_alice' as UserId, deviceId: 'd_phone' as DeviceId };
const secret = Buffer.from('socket-ticket-test-secret-0123456789');

describe('socket tickets with the replay set in Redis', () => {
  it('a Redis that cannot be reached refuses the ticket (UNAVAILABLE), never lets it through', async () => {
    const down = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      const clock = new ManualClock();
      const tickets = new SocketTickets(secret, clock, new RedisTicketReplay(down));
      await assert.rejects(tickets.redeem(tickets.issue(owner).ticket), {
        code: 'UNAVAILABLE',
        retryAfterMs: 1000,
      });
    } finally {
      down.disconnect();
    }
  });

  const url = process.env.PARLEY_TEST_REDIS_URL;
  it('each digest is claimed once and forgotten when its ticket expires', {
    skip: url ? false : 'PARLEY_TEST_REDIS_URL is not set',
  }, async () => {
    const redis = new Redis(url!);
    try {
      const replay = new RedisTicketReplay(redis);
      const id = randomBytes(16).toString('base64url');
      assert.equal(await replay.claim(id, 5000), true);
      assert.equal(await replay.claim(id, 5000), false);
      const ttl = await redis.pttl(`parley:ticket:${id}`);
      assert.ok(ttl > 0 && ttl <= 5000, `pttl ${ttl}`);
      const short = randomBytes(16).toString('base64url');
      assert.equal(await replay.claim(short, 30), true);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await redis.exists(`parley:ticket:${short}`), 0);
    } finally {
      redis.disconnect();
    }
  });
});
