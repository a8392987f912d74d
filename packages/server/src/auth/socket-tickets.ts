/**
 * Socket tickets: a browser cannot put a bearer token on a WebSocket upgrade, and a token in a
 * URL ends up in proxy logs, so the web app trades its token (POST /v1/socket-tickets) for a
 * ticket that opens one socket within 30 s (`/v1/ws?ticket=…`).
 *
 * A ticket is self-contained and MAC'd rather than a row in a table of issued tickets: it
 * names the device, its expiry and 32 random bytes, under an HMAC keyed from the server secret,
 * which every node sharing a store already must share (server-secret.ts). So a ticket issued on
 * one node is checked on any other with no lookup and nothing to replicate, and issuing stores
 * nothing, so unused tickets cost no memory anywhere. One use is enforced by a replay set of
 * the tickets already used, each kept only until its ticket expires: in Redis (SET NX, shared
 * by every node, so a ticket used on node 1 is refused on node 2) when the node has Redis, in
 * memory with a size cap for a lone node. Tickets are never logged.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ParleyError } from '@parley/protocol';
import type { Clock } from '../ports/clock.js';
import type { DeviceId, UserId } from '../ports/types.js';

/** How long a ticket opens a socket. */
export const SOCKET_TICKET_TTL_MS = 30_000;
/** Longest ticket string accepted (ids are short; anything longer is not a ticket). */
const MAX_TICKET_CHARS = 400;
const VERSION = 1;
const NONCE_BYTES = 32;
const MAC_BYTES = 32;

/** Remembers used tickets so each opens one socket. */
export interface TicketReplay {
  /**
   * True the first time `id` is claimed while it lives (`ttlMs`, a positive integer), false
   * afterwards, on any node sharing the set. UNAVAILABLE when it cannot tell (full, or its
   * backend is unreachable): the upgrade is refused then, never let through.
   */
  claim(id: string, ttlMs: number): Promise<boolean>;
}

export interface IssuedTicket {
  ticket: string;
  /** Unix ms after which the ticket opens nothing. */
  expiresAt: number;
}

export interface TicketOwner {
  userId: UserId;
  deviceId: DeviceId;
}

export class SocketTickets {
  private readonly key: Buffer;

  constructor(
    serverSecret: Buffer,
    private readonly clock: Clock,
    private readonly replay: TicketReplay,
    private readonly ttlMs = SOCKET_TICKET_TTL_MS,
  ) {
    // A key of its own, so a ticket's MAC can never be mistaken for a code digest (secrets.ts).
    this.key = createHmac('sha256', serverSecret).update('parley socket tickets v1').digest();
  }

  /** A new ticket for this device: version, expiry, nonce, user and device ids, then the MAC. */
  issue(owner: TicketOwner): IssuedTicket {
    const expiresAt = this.clock.now() + this.ttlMs;
    const user = Buffer.from(owner.userId, 'utf8');
    const device = Buffer.from(owner.deviceId, 'utf8');
    if (user.length > 255 || device.length > 255)
      throw new ParleyError('INTERNAL', 'id too long for a ticket');
    const head = Buffer.alloc(1 + 8);
    head.writeUInt8(VERSION, 0);
    head.writeBigUInt64BE(BigInt(expiresAt), 1);
    const body = Buffer.concat([
      head,
      randomBytes(NONCE_BYTES),
      Buffer.from([user.length]),
      user,
      Buffer.from([device.length]),
      device,
    ]);
    return { ticket: Buffer.concat([body, this.mac(body)]).toString('base64url'), expiresAt };
  }

  /**
   * The device a valid, unexpired, unused ticket names, and the ticket is used up; undefined
   * for anything else (malformed, forged, expired, already used), all alike to the caller.
   */
  async redeem(ticket: string): Promise<TicketOwner | undefined> {
    if (ticket.length === 0 || ticket.length > MAX_TICKET_CHARS || !/^[A-Za-z0-9_-]+$/.test(ticket))
      return undefined;
    const bytes = Buffer.from(ticket, 'base64url');
    if (bytes.length < 1 + 8 + NONCE_BYTES + 2 + MAC_BYTES) return undefined;
    const body = bytes.subarray(0, bytes.length - MAC_BYTES);
    if (!timingSafeEqual(this.mac(body), bytes.subarray(body.length))) return undefined;
    // Past the MAC the body is one this node family wrote: its layout can be trusted.
    if (body.readUInt8(0) !== VERSION) return undefined;
    const left = Number(body.readBigUInt64BE(1)) - this.clock.now();
    if (left <= 0) return undefined;
    let at = 1 + 8 + NONCE_BYTES;
    const userLength = body.readUInt8(at++);
    const userId = body.subarray(at, at + userLength).toString('utf8') as UserId;
    at += userLength;
    const deviceLength = body.readUInt8(at++);
    const deviceId = body.subarray(at, at + deviceLength).toString('utf8') as DeviceId;
    // The replay set holds a digest, never the ticket itself.
    const id = createHash('sha256').update(body).digest('base64url');
    if (!(await this.replay.claim(id, Math.ceil(left)))) return undefined;
    return { userId, deviceId };
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }
}

/**
 * The replay set of a lone node: used tickets' digests until they expire. At most `maxEntries`
 * at once (a ticket lives 30 s, so that is the rate of socket opens it allows); when full,
 * tickets are refused (UNAVAILABLE, retryable) rather than forgotten early.
 */
export class MemoryTicketReplay implements TicketReplay {
  private readonly used = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly maxEntries = 100_000,
  ) {}

  get size(): number {
    return this.used.size;
  }

  async claim(id: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    // Entries come in roughly in expiry order: dropping expired ones from the front is cheap.
    for (const [old, until] of this.used) {
      if (until > now) break;
      this.used.delete(old);
    }
    const until = this.used.get(id);
    if (until !== undefined && until > now) return false;
    if (this.used.size >= this.maxEntries) this.sweep(now);
    if (this.used.size >= this.maxEntries)
      throw new ParleyError('UNAVAILABLE', 'too many socket tickets in use; try again shortly', {
        retryAfterMs: 1000,
      });
    this.used.delete(id);
    this.used.set(id, now + ttlMs);
    return true;
  }

  private sweep(now: number): void {
    for (const [id, until] of this.used) if (until <= now) this.used.delete(id);
  }
}
