/**
 * Receipts. A member's delivered position moves when any of their devices acks; their read
 * position moves with markRead (and implies delivered). Both only move forward, so order of
 * arrival never matters. Each move is pushed to the online devices of the users who sent
 * messages it covers; a device that was away gets what moved since it was last seen when it
 * connects. A user with read receipts off neither reports reads nor sees anyone's.
 */
import { type FrameInit, ParleyError } from '@parley/protocol';
import type { BlockCheck } from '../blocks/service.js';
import type { Directory } from '../chat/directory.js';
import { Coalescer } from '../coalescer.js';
import type { Connection, Hub } from '../delivery/hub.js';
import type { Logger } from '../log.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import {
  type ChatId,
  coveredFrom,
  type Device,
  type DeviceId,
  type ReceiptChange,
  type ReceiptState,
  type UserId,
} from '../ports/types.js';

/** Receipt events per batch push: a frame of about 80 KiB. */
const BATCH = 1000;
/** How long a connect's receipt catch-up waits for others to be read with it. */
const CATCH_UP_MS = 100;

type ReceiptValue = {
  chatId: ChatId;
  userId: UserId;
  deliveredSeq: bigint;
  readSeq: bigint;
  at: bigint;
};

/** The pushes carrying these receipts: a batch per BATCH events, a lone event as `receipt`. */
function* receiptBodies(values: ReceiptValue[]): Generator<FrameInit['body']> {
  for (let i = 0; i < values.length; i += BATCH) yield receiptsBody(values.slice(i, i + BATCH));
}

function receiptsBody(values: ReceiptValue[]): FrameInit['body'] {
  return values.length === 1
    ? { case: 'receipt', value: values[0]! }
    : { case: 'receipts', value: { receipts: values } };
}

export interface ReceiptsDeps {
  store: Store;
  hub: Hub;
  directory: Directory;
  clock: Clock;
  log: Logger;
  blocks: BlockCheck;
}

export interface ReceiptDetails {
  members: Array<{ userId: UserId; deliveredAt: number; readAt: number }>;
  deliveredToAll: boolean;
  readByAll: boolean;
}

export class ReceiptService {
  private readonly readReceipts = new Map<UserId, boolean>();
  /** Connections whose receipt catch-up waits to be read with the others (`catchUp`). */
  private readonly catchUps = new Coalescer<Connection, number>(
    CATCH_UP_MS,
    (batch) => this.runCatchUps(batch),
    (err, devices) => this.d.log.error({ err, devices }, 'receipt catch-up failed'),
  );

  constructor(private readonly d: ReceiptsDeps) {}

  /**
   * Delivered positions moved by persisted acks (see AckFlusher and Store.acksPersist). Each
   * sender gets the moves that cover their messages in one push (a batch from protocol
   * version 2, see WsConnection.push), not one push per member.
   */
  async delivered(changes: readonly ReceiptChange[]): Promise<void> {
    const bySender = new Map<UserId, ReceiptChange[]>();
    for (const c of changes) {
      try {
        const senders = this.sendersOf(c);
        for (const x of Array.isArray(senders) ? senders : await senders) {
          const list = bySender.get(x);
          if (list) list.push(c);
          else bySender.set(x, [c]);
        }
      } catch (err) {
        this.d.log.error({ err, chatId: c.chatId }, 'receipt notification failed');
      }
    }
    for (const [sender, list] of bySender) {
      try {
        const on = await this.readReceiptsOn(sender);
        const values = [];
        for (const c of list) {
          // Answered from memory after the first flush: no promise per change.
          const theirs = on && this.readReceiptsOn(c.userId);
          values.push(this.view(c, typeof theirs === 'boolean' ? theirs : await theirs));
        }
        this.pushTo(await this.d.directory.devicesOf(sender), values);
      } catch (err) {
        this.d.log.error({ err }, 'receipt notification failed');
      }
    }
  }

  /** A read position moved (from markRead). */
  async read(change: ReceiptChange | undefined): Promise<void> {
    if (change) await this.notify(change);
  }

  /**
   * Sends a connecting device the positions that moved while it was away, within
   * `CATCH_UP_MS`: the devices that connected meanwhile are read with one store call (a storm of
   * connects costs a few reads, not one a device). Positions only move forward, so one that
   * arrives live before its catch-up is not undone by it (protocol.md §6.11).
   */
  catchUp(conn: Connection, since: number): void {
    this.catchUps.add(conn, since);
  }

  /** Drops the catch-ups still waiting (the node is stopping). */
  stop(): void {
    this.catchUps.stop();
  }

  private async runCatchUps(batch: ReadonlyMap<Connection, number>): Promise<void> {
    const asks = [...batch];
    const found = await this.d.store.receiptsSinceMany(
      asks.map(([conn, since]) => ({ userId: conn.userId, since })),
    );
    for (const [i, [conn]] of asks.entries()) {
      const states = found[i] ?? [];
      // Nothing moved while away (the usual connect), or the device has gone again.
      if (states.length === 0 || this.d.hub.get(conn.deviceId) !== conn) continue;
      await this.catchUpWith(conn, states).catch((err) =>
        this.d.log.error({ err, deviceId: conn.deviceId }, 'receipt catch-up failed'),
      );
    }
  }

  private async catchUpWith(conn: Connection, states: readonly ReceiptState[]): Promise<void> {
    const mine = await this.readReceiptsOn(conn.userId);
    const values = [];
    for (const s of states) {
      if (await this.d.blocks.isBlocked(s.userId, conn.userId)) continue;
      values.push(this.view(s, mine && (await this.readReceiptsOn(s.userId))));
    }
    for (const body of receiptBodies(values)) conn.push(body);
  }

  /** Whether the user has read receipts on: from memory once read (no promise then). */
  readReceiptsOn(userId: UserId): boolean | Promise<boolean> {
    const on = this.readReceipts.get(userId);
    if (on !== undefined) return on;
    return this.d.store.userPresenceGet(userId).then((p) => {
      const read = p?.readReceipts ?? true;
      this.readReceipts.set(userId, read);
      return read;
    });
  }

  async setReadReceipts(userId: UserId, on: boolean): Promise<void> {
    await this.d.store.userReadReceiptsSet(userId, on);
    this.readReceipts.set(userId, on);
  }

  /** Per-member times for one message; only its sender may ask. */
  async details(device: Device, chatId: ChatId, seq: number): Promise<ReceiptDetails> {
    const sender = await this.d.store.messageSender(chatId, seq);
    if (sender === undefined) throw new ParleyError('NOT_FOUND', 'no such message');
    if (sender !== device.userId)
      throw new ParleyError('PERMISSION_DENIED', 'only the sender sees receipt details');
    const mine = await this.readReceiptsOn(device.userId);
    const rows = (await this.d.store.receiptDetails(chatId, seq)).filter((r) => r.userId !== device.userId);
    const members = [];
    for (const r of rows) {
      // A member who blocked the sender reports nothing to them.
      const blocked = await this.d.blocks.isBlocked(r.userId, device.userId);
      const showRead = !blocked && mine && (await this.readReceiptsOn(r.userId));
      members.push({
        userId: r.userId,
        deliveredAt: blocked ? 0 : (r.deliveredAt ?? 0),
        readAt: showRead ? (r.readAt ?? 0) : 0,
      });
    }
    return {
      members,
      deliveredToAll: members.every((m) => m.deliveredAt > 0),
      readByAll: members.every((m) => m.readAt > 0),
    };
  }

  /** A receipt as its watcher sees it: the read position only when `show` (both have reads on). */
  private view(s: ReceiptState, show: boolean): ReceiptValue {
    return {
      chatId: s.chatId,
      userId: s.userId,
      deliveredSeq: BigInt(s.deliveredSeq),
      readSeq: BigInt(show ? s.readSeq : 0),
      at: BigInt(s.at),
    };
  }

  private async notify(c: ReceiptChange): Promise<void> {
    try {
      for (const x of await this.sendersOf(c)) {
        const value = this.view(c, (await this.readReceiptsOn(x)) && (await this.readReceiptsOn(c.userId)));
        this.d.hub.pushToDevices(await this.d.directory.devicesOf(x), { case: 'receipt', value });
      }
    } catch (err) {
      this.d.log.error({ err, chatId: c.chatId }, 'receipt notification failed');
    }
  }

  /**
   * The users to tell of a move: the senders of the messages it covers, not the member.
   * Answered without a promise when the senders came with the change and every block list
   * is in memory (the usual flush).
   */
  private sendersOf(c: ReceiptChange): UserId[] | Promise<UserId[]> {
    if (c.senders) return this.unblockedBy(c.userId, c.senders);
    const from = coveredFrom({ deliveredSeq: c.previousDeliveredSeq, readSeq: c.previousReadSeq }, c);
    return this.d.store
      .receiptSenders(c.chatId, from, c.deliveredSeq)
      .then((senders) => this.unblockedBy(c.userId, senders));
  }

  /** The senders `member` has not blocked: a blocked sender gets no receipts (one tick stays). */
  private unblockedBy(member: UserId, senders: readonly UserId[]): UserId[] | Promise<UserId[]> {
    const out: UserId[] = [];
    for (const x of senders) {
      if (x === member) continue;
      const blocked = this.d.blocks.isBlocked(member, x);
      if (typeof blocked !== 'boolean') return this.unblockedByLoading(member, senders);
      if (!blocked) out.push(x);
    }
    return out;
  }

  /** `unblockedBy` while a block list is still being read. */
  private async unblockedByLoading(member: UserId, senders: readonly UserId[]): Promise<UserId[]> {
    const out: UserId[] = [];
    for (const x of senders) if (x !== member && !(await this.d.blocks.isBlocked(member, x))) out.push(x);
    return out;
  }

  /** One push of these receipts to each device (a batch when there are several). */
  private pushTo(devices: readonly DeviceId[], values: ReceiptValue[]): void {
    for (const body of receiptBodies(values)) this.d.hub.pushToDevices(devices, body);
  }
}
