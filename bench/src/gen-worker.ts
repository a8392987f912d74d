/**
 * A generator process (forked by GenPool): drives its share of devices as lean clients and
 * answers the parent's IPC commands: connect, send at a rate, collect stats, wait until
 * drained, drop every socket and reconnect with the SDK's backoff (storm), ask for chats
 * at a rate and collect their answers and CREATED updates (create-chats), send one message
 * to each of a list of chats and answer when each was committed (push), close.
 */

import type { Encoding } from '@parley/protocol';
import { backoffDelay } from '@parley/sdk';
import { CreateLoad } from './create-load.js';
import { WorkerStats } from './gen-stats.js';
import type { AckMode, ConnectResult, DeviceSpec, DrainResult, GenCmd } from './gen-types.js';
import { LeanClient } from './lean-client.js';
import { makePayload } from './payload.js';
import { sendEach } from './push-sender.js';
import { nowMs, sleep } from './util.js';

const stats = new WorkerStats();
const clients: LeanClient[] = [];
let url = '';
let localAddress: string | undefined;
let timeoutMs = 15_000;
let msgCounter = 0;
let failedAttempts = 0;
/** The create-chats load, made on first use over the devices connected by then. */
let creates: CreateLoad | undefined;
/** Most unanswered sends of this process before new ones are skipped (counted as behind). */
const MAX_OUTSTANDING = 50_000;

async function connectAll(devices: DeviceSpec[], enc: Encoding, ack: AckMode, concurrency: number) {
  const mine = devices.map((d) => new LeanClient(d, enc, stats, ack));
  clients.push(...mine);
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const firstStartAt = nowMs();
  const lane = async () => {
    while (next < mine.length) {
      const c = mine[next++]!;
      for (let attempt = 1; ; attempt++) {
        try {
          await c.connect(url, localAddress, timeoutMs);
          break;
        } catch (err) {
          if (errors.length < 5) errors.push(`${c.spec.deviceId}: ${(err as Error).message}`);
          if (attempt >= 3) {
            failed++;
            break;
          }
          await sleep(500);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, mine.length) }, lane));
  const lastWelcomeAt = Math.max(0, ...mine.map((c) => c.welcomeAt));
  return {
    connected: mine.length - failed,
    failed,
    firstStartAt,
    lastWelcomeAt,
    errors,
  } satisfies ConnectResult;
}

// -- sending at a fixed rate -----------------------------------------------------------------

let rateTimer: NodeJS.Timeout | undefined;

function outstanding(): number {
  let n = 0;
  for (const c of clients) n += c.inflight;
  return n;
}

function setRate(rate: number, payloadBytes: number): void {
  if (rateTimer) clearInterval(rateTimer);
  rateTimer = undefined;
  const senders = clients.filter((c) => c.spec.chats.length > 0);
  if (rate <= 0 || senders.length === 0) return;
  const t0 = nowMs();
  let issued = 0;
  let pending = 0;
  rateTimer = setInterval(() => {
    const now = nowMs();
    let due = Math.floor((rate * (now - t0)) / 1000) - issued;
    // More than a second behind: this process cannot keep up; skip rather than burst.
    if (due > rate) {
      stats.w.skipped += due - rate;
      issued += due - rate;
      due = rate;
    }
    if (due <= 0) return;
    pending = outstanding();
    for (let k = 0; k < due; k++) {
      issued++;
      const c = senders[Math.floor(Math.random() * senders.length)]!;
      if (!c.open || pending >= MAX_OUTSTANDING) {
        stats.w.skipped++;
        continue;
      }
      const chat = c.spec.chats[Math.floor(Math.random() * c.spec.chats.length)]!;
      const counter = msgCounter++;
      const at = nowMs();
      c.send(chat, `b${process.pid}-${counter}`, makePayload(payloadBytes, at, c.spec.index, counter));
      stats.sentMessage(c.spec.index, counter, at);
      pending++;
    }
  }, 2);
}

// -- drained / reconnect storm -----------------------------------------------------------------

async function waitDrained(ms: number): Promise<DrainResult> {
  const watched = clients.filter((c) => c.spec.expect);
  const end = Date.now() + ms;
  while (Date.now() < end && watched.some((c) => c.drainedAt === 0)) await sleep(10);
  const r: DrainResult = {
    devices: watched.length,
    drained: watched.filter((c) => c.drainedAt > 0).length,
    maxWelcomeAt: Math.max(0, ...watched.map((c) => c.welcomeAt)),
    maxDrainedAt: Math.max(0, ...watched.map((c) => c.drainedAt)),
    maxAttempts: Math.max(0, ...watched.map((c) => c.attempts)),
    failedAttempts,
  };
  if (watched.length <= 16) {
    r.detail = watched.map((c) => ({
      connectStartAt: c.connectStartAt,
      welcomeAt: c.welcomeAt,
      lastMsgAt: c.lastMsgAt,
      drainedAt: c.drainedAt,
      received: c.received,
    }));
  }
  return r;
}

/** Reconnects like the SDK: delay backoffDelay(attempt) before each try, attempt reset on welcome. */
function reconnect(c: LeanClient): void {
  let attempt = 0;
  const tryOnce = () => {
    setTimeout(
      () => {
        attempt++;
        c.connect(url, localAddress, timeoutMs).catch(() => {
          failedAttempts++;
          tryOnce();
        });
      },
      backoffDelay(attempt, {}, Math.random),
    );
  };
  tryOnce();
}

async function storm(dropAt: number, ms: number): Promise<DrainResult> {
  await sleep(Math.max(0, dropAt - nowMs()));
  for (const c of clients) {
    c.ack = 'id';
    c.drainedAt = 0;
    c.attempts = 0;
    c.onLost = () => reconnect(c);
    c.terminate();
    reconnect(c);
  }
  return waitDrained(ms - Math.max(0, nowMs() - dropAt));
}

// -- IPC -----------------------------------------------------------------------------------------

async function handle(cmd: GenCmd): Promise<unknown> {
  switch (cmd.op) {
    case 'connect':
      url = cmd.url;
      localAddress = cmd.localAddress;
      timeoutMs = cmd.timeoutMs;
      return connectAll(cmd.devices, cmd.encoding, cmd.ack, cmd.concurrency);
    case 'rate':
      stats.track = cmd.track ?? false;
      setRate(cmd.rate, cmd.payloadBytes);
      return { ok: true };
    case 'collect':
      return stats.collect(clients.filter((c) => c.open).length, outstanding());
    case 'createRate':
      creates ??= new CreateLoad(clients);
      creates.setRate(cmd.rate);
      return { ok: true };
    case 'createCollect':
      creates ??= new CreateLoad(clients);
      return creates.collect();
    case 'waitDrained':
      return waitDrained(cmd.timeoutMs);
    case 'sendEach':
      return sendEach(cmd);
    case 'storm':
      return storm(cmd.dropAt, cmd.timeoutMs);
    case 'close':
      setRate(0, 0);
      creates?.setRate(0);
      for (const c of clients) {
        c.onLost = undefined;
        c.terminate();
      }
      setTimeout(() => process.exit(0), 50);
      return { ok: true };
  }
}

process.on('message', (m: { id: number; cmd: GenCmd }) => {
  handle(m.cmd).then(
    (result) => process.send?.({ id: m.id, ok: true, result }),
    (err: Error) => process.send?.({ id: m.id, ok: false, error: err.stack ?? err.message }),
  );
});
process.on('disconnect', () => process.exit(1));
