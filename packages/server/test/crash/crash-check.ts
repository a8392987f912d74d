/**
 * The checker of a crash run, over what each recipient device logged in arrival order. It
 * counts, per device: acked messages missing (lost), seqs of a chat never received up to the
 * chat's last seq (gaps), first arrivals below a seq already received in that chat
 * (outOfOrder), arrivals of a (chat, seq) the device already had (duplicates: allowed by
 * at-least-once delivery, counted), and messages delivered under another seq than their ack.
 */

/** One message as a device received it. `key` names a payload message (its body). */
export interface Arrival {
  chatId: string;
  seq: number;
  key?: string | undefined;
}

/** A send the node acknowledged: where it said the message is. */
export interface AckedSend {
  chatId: string;
  seq: number;
}

export interface DeliveryCounts {
  devices: number;
  /** Distinct (device, chat, seq) received. */
  delivered: number;
  /** Arrivals of a (chat, seq) the device had received before. */
  duplicates: number;
  /** First arrivals whose seq is below one the device already had in that chat. */
  outOfOrder: number;
  /** (device, chat, seq) with seq in 1..the chat's last seq never received. */
  gaps: number;
  /** (acked message, device) pairs never received. */
  lost: number;
  /** Received messages whose seq differs from the seq their ack gave. */
  seqMismatches: number;
  /** A few of the gaps and lost messages, as `device#chat:seq` and `device#key`, for the report. */
  examples: string[];
}

/** Whether the device has every acked message and every seq up to each chat's last. */
export function complete(
  log: readonly Arrival[],
  acked: ReadonlyMap<string, AckedSend>,
  lastSeq: ReadonlyMap<string, number>,
): boolean {
  const c = checkDeliveries([log], acked, lastSeq);
  return c.lost === 0 && c.gaps === 0;
}

export function checkDeliveries(
  logs: ReadonlyArray<readonly Arrival[]>,
  acked: ReadonlyMap<string, AckedSend>,
  lastSeq: ReadonlyMap<string, number>,
): DeliveryCounts {
  const c: DeliveryCounts = {
    devices: logs.length,
    delivered: 0,
    duplicates: 0,
    outOfOrder: 0,
    gaps: 0,
    lost: 0,
    seqMismatches: 0,
    examples: [],
  };
  const example = (s: string) => void (c.examples.length < 6 && c.examples.push(s));
  logs.forEach((log, device) => {
    const had = new Map<string, Set<number>>();
    const top = new Map<string, number>();
    const keys = new Set<string>();
    for (const a of log) {
      const seqs = had.get(a.chatId) ?? new Set<number>();
      had.set(a.chatId, seqs);
      if (seqs.has(a.seq)) {
        c.duplicates++;
        continue;
      }
      if (a.seq < (top.get(a.chatId) ?? 0)) c.outOfOrder++;
      seqs.add(a.seq);
      top.set(a.chatId, Math.max(top.get(a.chatId) ?? 0, a.seq));
      c.delivered++;
      if (a.key === undefined) continue;
      keys.add(a.key);
      const ack = acked.get(a.key);
      if (ack && (ack.chatId !== a.chatId || ack.seq !== a.seq)) c.seqMismatches++;
    }
    for (const key of acked.keys()) {
      if (keys.has(key)) continue;
      c.lost++;
      example(`${device}#${key}`);
    }
    for (const [chatId, last] of lastSeq) {
      const seqs = had.get(chatId);
      for (let s = 1; s <= last; s++) {
        if (seqs?.has(s)) continue;
        c.gaps++;
        example(`${device}#${chatId}:${s}`);
      }
    }
  });
  return c;
}
