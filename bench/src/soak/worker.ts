/**
 * A soak client process: one real SDK client (ParleyClient, in-memory cursors) per device,
 * so acks, reconnects, the outbox and dedupe are the SDK's own. It sends at its share of
 * the rate from random devices into random chats of theirs, records every send and what
 * each device's app was shown, and checks its chats (all members are in this process):
 * - lost: a send whose promise resolved (sendResult) that some other member never showed;
 * - shown twice: the same clientMessageId handed to one device's app again (after dedupe);
 * - out of order: a chat's seq not strictly above the last one that device showed;
 * - corrupt / seq mismatch: payload not the one sent, or a seq other than the sender's ack.
 * Raw duplicates are those the SDK dropped (client.stats.duplicates).
 */
import { ParleyClient, type ParleyError, type ReceivedMessage } from '@parley/sdk';
import { prng } from '../util.js';
import type { SoakChat, WorkerPlan } from './fleet.js';

export type ToWorker =
  | { type: 'start'; plan: WorkerPlan; url: string; rate: number; payloadBytes: number; seed: number }
  | { type: 'stopSending' }
  | { type: 'check' }
  | { type: 'finish' };

export interface WorkerCounts {
  devices: number;
  connected: number;
  sent: number;
  acked: number;
  /** Sends refused with an error (by code). */
  refused: Record<string, number>;
  /** Sends still waiting for an answer. */
  pending: number;
  shown: number;
  rawDuplicates: number;
  disconnects: number;
  /** Filled by 'check' and at the end (they walk every send). */
  expected?: number;
  lost?: number;
  lostMessages?: number;
  shownTwice: number;
  outOfOrder: number;
  corrupt: number;
  seqMismatch: number;
  clientErrors: number;
  lostExamples?: string[];
}

export type FromWorker =
  | { type: 'ready'; connected: number }
  | { type: 'status'; counts: WorkerCounts }
  | { type: 'checked'; counts: WorkerCounts }
  | { type: 'final'; counts: WorkerCounts };

interface SendRecord {
  chat: SoakChat;
  sender: number;
  acked: boolean;
  seq: number;
}

interface DeviceState {
  client: ParleyClient;
  chats: SoakChat[];
  counter: number;
  /** clientMessageId -> seq shown to this device's app. */
  shown: Map<string, number>;
  lastSeq: Map<string, number>;
}

const send = (m: FromWorker) => process.send?.(m);
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const records = new Map<string, SendRecord>();
const devices = new Map<number, DeviceState>();
const c: WorkerCounts = {
  devices: 0,
  connected: 0,
  sent: 0,
  acked: 0,
  refused: {},
  pending: 0,
  shown: 0,
  rawDuplicates: 0,
  disconnects: 0,
  shownTwice: 0,
  outOfOrder: 0,
  corrupt: 0,
  seqMismatch: 0,
  clientErrors: 0,
};
let sendTimer: NodeJS.Timeout | undefined;

function payloadFor(clientMessageId: string, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes).fill(0x2e); // '.' padding
  out.set(encoder.encode(`${clientMessageId}|`));
  return out;
}

function onMessage(d: DeviceState, m: ReceivedMessage): void {
  c.shown++;
  const text = decoder.decode(m.payload);
  if (text.slice(0, text.indexOf('|')) !== m.clientMessageId) c.corrupt++;
  if (d.shown.has(m.clientMessageId)) c.shownTwice++;
  d.shown.set(m.clientMessageId, m.seq);
  if (m.seq <= (d.lastSeq.get(m.chatId) ?? 0)) c.outOfOrder++;
  d.lastSeq.set(m.chatId, Math.max(m.seq, d.lastSeq.get(m.chatId) ?? 0));
  const r = records.get(m.clientMessageId);
  if (r?.acked && r.seq !== m.seq) c.seqMismatch++;
}

function sendOne(random: () => number, all: DeviceState[], indexes: number[], bytes: number): void {
  const pick = Math.floor(random() * all.length);
  const d = all[pick]!;
  if (d.chats.length === 0) return;
  const chat = d.chats[Math.floor(random() * d.chats.length)]!;
  const sender = indexes[pick]!;
  const clientMessageId = `s${sender}-${++d.counter}`;
  const rec: SendRecord = { chat, sender, acked: false, seq: 0 };
  records.set(clientMessageId, rec);
  c.sent++;
  d.client.send(chat.id, payloadFor(clientMessageId, bytes), { clientMessageId }).then(
    (r) => {
      rec.acked = true;
      rec.seq = r.seq;
      c.acked++;
    },
    (err: ParleyError) => {
      const code = err.code ?? 'UNKNOWN';
      c.refused[code] = (c.refused[code] ?? 0) + 1;
    },
  );
}

function counts(walk: boolean): WorkerCounts {
  let pending = 0;
  let raw = 0;
  let connected = 0;
  for (const d of devices.values()) {
    pending += d.client.pendingSends;
    raw += d.client.stats.duplicates;
    if (d.client.connected) connected++;
  }
  const out: WorkerCounts = { ...c, refused: { ...c.refused }, pending, rawDuplicates: raw, connected };
  if (!walk) return out;
  let expected = 0;
  let lost = 0;
  let lostMessages = 0;
  const examples: string[] = [];
  for (const [id, r] of records) {
    if (!r.acked) continue;
    let missing = 0;
    for (const m of r.chat.members) {
      if (m === r.sender) continue;
      expected++;
      if (!devices.get(m)!.shown.has(id)) {
        missing++;
        if (examples.length < 5)
          examples.push(`${id} (chat ${r.chat.id}, seq ${r.seq}) not shown on device ${m}`);
      }
    }
    lost += missing;
    if (missing > 0) lostMessages++;
  }
  return { ...out, expected, lost, lostMessages, lostExamples: examples };
}

async function start(m: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const byDevice = new Map<number, SoakChat[]>();
  for (const chat of m.plan.chats)
    for (const i of chat.members) byDevice.set(i, [...(byDevice.get(i) ?? []), chat]);
  for (const dev of m.plan.devices) {
    const client = new ParleyClient({
      credentials: {
        serverUrl: m.url,
        userId: dev.userId,
        deviceId: dev.deviceId,
        token: dev.token,
        primary: true,
      },
    });
    const d: DeviceState = {
      client,
      chats: byDevice.get(dev.index) ?? [],
      counter: 0,
      shown: new Map(),
      lastSeq: new Map(),
    };
    client.on('message', (msg) => onMessage(d, msg));
    client.on('disconnected', () => {
      c.disconnects++;
    });
    client.on('error', () => {
      c.clientErrors++;
    });
    devices.set(dev.index, d);
  }
  c.devices = devices.size;
  const all = [...devices.values()];
  const indexes = [...devices.keys()];
  // Connect in small steps so the first connections do not all land in one instant.
  for (let i = 0; i < all.length; i += 50) {
    await Promise.all(all.slice(i, i + 50).map((d) => d.client.connect().catch(() => {})));
  }
  send({ type: 'ready', connected: all.filter((d) => d.client.connected).length });
  const random = prng(m.seed);
  // Owed sends follow the clock, so a late timer on a busy machine does not lower the rate.
  let owed = 0;
  let last = Date.now();
  sendTimer = setInterval(() => {
    const now = Date.now();
    owed += (m.rate * (now - last)) / 1000;
    last = now;
    for (; owed >= 1; owed--) sendOne(random, all, indexes, m.payloadBytes);
  }, 100);
  setInterval(() => send({ type: 'status', counts: counts(false) }), 2000).unref();
}

async function finish(): Promise<void> {
  clearInterval(sendTimer);
  const final = counts(true);
  await Promise.all(
    [...devices.values()].map((d) =>
      Promise.race([d.client.close(), new Promise((r) => setTimeout(r, 5000))]).catch(() => {}),
    ),
  );
  send({ type: 'final', counts: final });
  setTimeout(() => process.exit(0), 200);
}

process.on('message', (m: ToWorker) => {
  if (m.type === 'start') void start(m);
  else if (m.type === 'stopSending') clearInterval(sendTimer);
  else if (m.type === 'check') send({ type: 'checked', counts: counts(true) });
  else if (m.type === 'finish') void finish();
});
process.on('disconnect', () => process.exit(1));
