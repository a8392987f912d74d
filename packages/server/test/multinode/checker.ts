/**
 * The checker of a multi-node run. A message is identified by (sender device,
 * clientMessageId), which every delivered message carries; it is acked when one of its send
 * promises resolved. It is lost when it was acked and some recipient device (every device
 * of every member but the sender's own; nobody leaves or is removed during a run) never
 * handed it to its app. Deliveries are counted per device by (chat, seq).
 */
import type { Device, Fleet } from './devices.js';
import { sleep } from './processes.js';

export interface Counts {
  /** Distinct (device, clientMessageId) sends issued. */
  sent: number;
  /** Sends with a resolved promise. */
  acked: number;
  /** Distinct (device, chat, seq) handed to apps. */
  delivered: number;
  /** Redeliveries the SDK removed. */
  duplicatesRemoved: number;
  /** (acked message, recipient device) pairs never handed to that device's app. */
  lost: number;
  /** Acked messages missing on at least one recipient device. */
  lostMessages: number;
  /** Of those, the ones acked by the node that was SIGKILLed. */
  lostFromKilledNode: number;
  /** (acked message, recipient device) pairs expected. */
  expected: number;
  /** Messages an app was handed more than once (same seq again, or stored twice). */
  appDuplicates: number;
  /** Messages handed over out of their chat's seq order. */
  outOfOrder: number;
  /** Delivered messages whose seq differs from the seq their sender's ack gave. */
  seqMismatches: number;
  /** Payloads that did not match their message. */
  corrupt: number;
  /** Sends never acked (their final error, if any, in `failures`). */
  unacked: number;
  failures: string[];
  /** Sends retried after a retryable refusal. */
  retried: number;
}

export function countDeliveries(fleet: Fleet, killedNode?: string): Counts {
  const c: Counts = {
    sent: 0,
    acked: 0,
    delivered: 0,
    duplicatesRemoved: 0,
    lost: 0,
    lostMessages: 0,
    lostFromKilledNode: 0,
    expected: 0,
    appDuplicates: 0,
    outOfOrder: 0,
    seqMismatches: 0,
    corrupt: 0,
    unacked: 0,
    failures: [],
    retried: 0,
  };
  const members = new Map(fleet.chats.map((chat) => [chat.id, chat.devices]));
  for (const sender of fleet.devices) {
    for (const r of sender.records.values()) {
      c.sent++;
      c.retried += r.retries;
      if (!r.acked) {
        c.unacked++;
        if (r.error && c.failures.length < 5) c.failures.push(`${r.clientMessageId}: ${r.error.message}`);
        continue;
      }
      c.acked++;
      const identity = `${sender.id}/${r.clientMessageId}`;
      const lostBefore = c.lost;
      for (const d of members.get(r.chatId) ?? []) {
        if (d === sender) continue;
        c.expected++;
        if (!d.byIdentity.has(identity)) c.lost++;
        const atSeq = r.seq > 0 ? d.seen.get(`${r.chatId}:${r.seq}`) : undefined;
        if (atSeq && atSeq.identity !== identity) c.seqMismatches++;
      }
      if (c.lost > lostBefore) {
        c.lostMessages++;
        if (killedNode !== undefined && r.ackedBy === killedNode) c.lostFromKilledNode++;
      }
    }
  }
  for (const d of fleet.devices) {
    c.delivered += d.seen.size;
    c.duplicatesRemoved += d.duplicatesRemoved;
    c.outOfOrder += d.outOfOrder;
    c.corrupt += d.corrupt;
    for (const n of d.byIdentity.values()) c.appDuplicates += n - 1;
  }
  return c;
}

const progress = (devices: readonly Device[]) =>
  devices.reduce((n, d) => {
    let acked = 0;
    for (const r of d.records.values()) if (r.acked) acked++;
    return n + acked + d.seen.size;
  }, 0);

/**
 * Waits until every send is acked and every acked message reached every recipient device,
 * or until nothing changed for `quietMs`, or `deadlineMs`; then counts. The quiet span is
 * sized for a busy 2-core machine, where restarted nodes and reconnecting devices can go
 * several seconds without a delivery: shorter, a slow catch-up counts as loss.
 */
export async function drainAndCount(
  fleet: Fleet,
  killedNode: string | undefined,
  quietMs = 10_000,
  deadlineMs = 30_000,
): Promise<Counts> {
  const deadline = Date.now() + deadlineMs;
  let last = -1;
  let quietSince = Date.now();
  for (;;) {
    const c = countDeliveries(fleet, killedNode);
    if (c.unacked === 0 && c.lost === 0) return c;
    const now = progress(fleet.devices);
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    }
    if (Date.now() - quietSince >= quietMs || Date.now() >= deadline) return c;
    await sleep(100);
  }
}
