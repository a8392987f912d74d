/**
 * One crash run: a real node child process receives a stream of sends from several SDK
 * clients into two group chats, is killed with SIGKILL at a chosen moment, and restarts on
 * the same data dir. Two kinds of recipients are checked (crash-check.ts): SDK devices online
 * throughout (reconnecting after the restart), and protocol-level devices that stay offline
 * during the sends and drain their backlog only after the restart, logging every arrival
 * before any de-duplication. Every acked message must reach every recipient device.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Credentials } from '@parley/sdk';
import { ChatKind, createLinkCode, linkDevice, ParleyClient, requestCode, verifyCode } from '@parley/sdk';
import { RawClient } from '../harness.js';
import {
  type AckedSend,
  type Arrival,
  checkDeliveries,
  complete,
  type DeliveryCounts,
} from './crash-check.js';

const childScript = new URL('./child.js', import.meta.url).pathname;

export interface CrashCounts {
  sent: number;
  acked: number;
  /** SDK devices online during the sends: what their apps were handed (after the SDK's de-duplication). */
  online: DeliveryCounts & {
    /** Redeliveries the SDK removed before the app (the duplicates that arrived). */
    duplicatesRemoved: number;
  };
  /** Devices offline during the sends, draining after the restart: every arrival, duplicates included. */
  offline: DeliveryCounts;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

/** The flags a test node in a child process starts with: loopback, its data dir, quiet logs, dev mode. */
export function childServeFlags(port: number, dataDir: string): string[] {
  return [
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--data-dir',
    dataDir,
    '--log-level',
    'error',
    '--dev',
  ];
}

export function startChild(dataDir: string, port: number, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      childScript,
      ...childServeFlags(port, dataDir),
      // Every client is 127.0.0.1 and senders send as fast as the node acks: the abuse
      // limits are not under test (a flag in `extra` wins: the last one counts).
      ...['--sends-per-minute', '10000000', '--groups-per-hour', '1000000'],
      ...['--code-requests-per-hour', '100', '--code-requests-per-ip-per-hour', '1000000'],
      ...['--registrations-per-ip-per-day', '1000000', '--media-uploads-per-hour', '1000000'],
      ...['--code-requests-per-prefix-per-hour', '1000000', '--code-requests-per-day-total', '1000000'],
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((res, rej) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Parley listening')) res(child);
    });
    child.once('exit', (code) => rej(new Error(`node exited (${code}) before listening: ${err}`)));
  });
}

export function kill(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    child.once('exit', () => res());
    child.kill('SIGKILL');
  });
}

function codeFor(dataDir: string, phone: string): string {
  const lines = readFileSync(join(dataDir, 'sms-codes.log'), 'utf8').trim().split('\n');
  const line = lines.reverse().find((l) => l.split(' ')[1] === phone);
  if (!line) throw new Error(`no code for ${phone}`);
  return line.split(' ')[2]!;
}

async function registerUser(serverUrl: string, dataDir: string, phone: string): Promise<Credentials> {
  await requestCode(serverUrl, phone);
  return verifyCode(serverUrl, { phone, code: codeFor(dataDir, phone), deviceName: 'crash' });
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries a request while the client is still reconnecting to the restarted node. */
async function untilConnected<T>(request: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await request();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

export interface CrashRunOptions {
  dataDir: string;
  killAfterMs: number;
  /** Ack before commit (the negative control): the checker must then see loss. */
  unsafe?: boolean;
  senders?: number;
}

export async function crashRun(options: CrashRunOptions): Promise<CrashCounts> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const flags = options.unsafe ? ['--unsafe-ack-before-commit'] : [];
  let child = await startChild(options.dataDir, port, flags);
  const nSenders = options.senders ?? 3;
  const base = 2_000_000 + Math.floor(Math.random() * 7_000_000);
  const creds: Credentials[] = [];
  // Senders, two online recipients, one offline recipient.
  for (let i = 0; i < nSenders + 3; i++) {
    creds.push(await registerUser(url, options.dataDir, `+1415${String(base + i).padStart(7, '0')}`));
  }
  // The first online and the offline recipient each have a linked device too: every
  // recipient device must get everything.
  const second = async (primary: Credentials) =>
    linkDevice(url, { code: (await createLinkCode(primary)).code, deviceName: 'second' });
  const onlineLinked = await second(creds[nSenders]!);
  const offlineCreds = [creds[nSenders + 2]!, await second(creds[nSenders + 2]!)];
  const backoff = { initialMs: 50, maxMs: 400 };
  const clients = [...creds.slice(0, nSenders + 2), onlineLinked].map(
    (c) => new ParleyClient({ credentials: c, backoff, encoding: 'proto' }),
  );
  let offline: RawClient[] = [];
  await Promise.all(clients.map((c) => c.connect()));
  const senders = clients.slice(0, nSenders);
  const online = clients.slice(nSenders);
  // Listening before the chats exist: their creation updates are part of what must arrive.
  const onlineLogs = online.map(() => [] as Arrival[]);
  online.forEach((r, i) => {
    r.on(
      'message',
      (m) => void onlineLogs[i]!.push({ chatId: m.chatId, seq: m.seq, key: dec.decode(m.payload) }),
    );
    r.on('chatUpdate', (u) => void onlineLogs[i]!.push({ chatId: u.chatId, seq: u.seq }));
  });
  for (const c of clients) c.on('error', () => {});
  const chatIds: string[] = [];
  for (const name of ['crash-a', 'crash-b']) {
    const chat = await senders[0]!.createChat({
      kind: ChatKind.GROUP,
      memberUserIds: creds.slice(1).map((c) => c.userId),
      name,
    });
    chatIds.push(chat.id);
  }

  const acked = new Map<string, AckedSend>();
  const pending: Promise<unknown>[] = [];
  let sending = true;
  let sent = 0;
  const loops = senders.map(async (s, si) => {
    let n = 0;
    while (sending) {
      const batch: Promise<unknown>[] = [];
      for (let k = 0; k < 10 && sending; k++) {
        const key = `s${si}-${n++}`;
        sent++;
        const p = s.send(chatIds[n % 2]!, enc.encode(key)).then(
          (r) => acked.set(key, { chatId: r.chatId, seq: r.seq }),
          () => {},
        );
        batch.push(p);
        pending.push(p);
      }
      await Promise.race([Promise.all(batch), sleep(20)]);
    }
  });

  await sleep(options.killAfterMs);
  sending = false;
  await kill(child);
  await Promise.all(loops);
  child = await startChild(options.dataDir, port, flags);
  try {
    // Unacked sends are re-sent from the outbox after reconnect; wait for every answer.
    await Promise.race([Promise.all(pending), sleep(20_000)]);
    const lastSeq = new Map<string, number>();
    for (const id of chatIds) lastSeq.set(id, (await untilConnected(() => senders[0]!.getChat(id))).lastSeq);
    // Only now do the offline devices connect, to a node that restarted since the sends.
    offline = await Promise.all(
      offlineCreds.map((c) => RawClient.connect({ url }, c, { encoding: 'proto' })),
    );
    const offlineLogs = (): Arrival[][] =>
      offline.map((r) =>
        r.messages.map((m) => ({
          chatId: m.chatId,
          seq: Number(m.seq),
          key: m.body.case === 'payload' ? dec.decode(m.body.value) : undefined,
        })),
      );
    const logs = () => [...onlineLogs, ...offlineLogs()];
    let last = -1;
    for (let quiet = 0; quiet < 10; ) {
      const all = logs();
      if (all.every((log) => complete(log, acked, lastSeq))) break;
      const total = all.reduce((a, log) => a + log.length, 0);
      quiet = total === last ? quiet + 1 : 0;
      last = total;
      await sleep(150);
    }
    const duplicatesRemoved = online.reduce((a, r) => a + r.stats.duplicates, 0);
    return {
      sent,
      acked: acked.size,
      online: { ...checkDeliveries(onlineLogs, acked, lastSeq), duplicatesRemoved },
      offline: checkDeliveries(offlineLogs(), acked, lastSeq),
    };
  } finally {
    await Promise.all([...clients.map((c) => c.close()), ...offline.map((r) => r.close())]);
    await kill(child);
  }
}
