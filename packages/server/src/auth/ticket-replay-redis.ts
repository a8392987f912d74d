/**
 * The replay set of socket tickets (socket-tickets.ts) shared by every node through Redis:
 * one `SET key 1 PX ttl NX` per use, so of two nodes racing to use one ticket exactly one wins,
 * and Redis forgets the entry when the ticket expires. The key holds a digest, never a ticket.
 */
import { ParleyError } from '@parley/protocol';
import type { TicketReplay } from './socket-tickets.js';

/** What this needs of an ioredis client (or cluster). */
export interface RedisSetNx {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<'OK' | null>;
}

export class RedisTicketReplay implements TicketReplay {
  constructor(private readonly redis: RedisSetNx) {}

  async claim(id: string, ttlMs: number): Promise<boolean> {
    try {
      return (await this.redis.set(`parley:ticket:${id}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
    } catch (err) {
      throw new ParleyError('UNAVAILABLE', 'cannot check the socket ticket now; try again shortly', {
        cause: err,
        retryAfterMs: 1000,
      });
    }
  }
}
