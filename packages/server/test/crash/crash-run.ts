/**
 * One crash run: a real node child process receives a stream of sends from several SDK
 * clients, is killed with SIGKILL at a chosen moment, and restarts on the same data dir.
 * Afterwards every recipient device must hold every acked message exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Credentials } from '@parley/sdk';
import { ChatKind, createLinkCode, linkDevice, ParleyClient, requestCode, verifyCode } from '@parley/sdk';

const childScript = new URL('./child.js', import.meta.url).pathname;

export interface CrashCounts {
  sent: number;
  acked: number;
  /** Unique (device, message) deliveries the app saw. */
  delivered: number;
  /** Redeliveries the SDK removed. */
  duplicatesRemoved: number;
  /** (device, message) pairs acked to the sender but missing on a recipient device. */
  lost: number;
  /** Messages the app saw twice on one device (must be 0). */
  appDuplicates: number;
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

export function startChild(dataDir: string, port: number, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      childScript,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--log-level',
      'error',
      '--dev',
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

export async function crashRun(options: {
  dataDir: string;
  killAfterMs: number;
  unsafe?: boolean;
  senders?: number;
  receivers?: number;
}): Promise<CrashCounts> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const flags = options.unsafe ? ['--unsafe-ack-before-commit'] : [];
  let child = await startChild(options.dataDir, port, flags);
  const nSenders = options.senders ?? 3;
  const nReceivers = options.receivers ?? 2;
  const base = 2_000_000 + Math.floor(Math.random() * 7_000_000);
  const creds: Credentials[] = [];
  for (let i = 0; i < nSenders + nReceivers; i++) {
    creds.push(await registerUser(url, options.dataDir, `+1415${String(base + i).padStart(7, '0')}`));
  }
  // The first receiver also has a linked device: every recipient device must get everything.
  const link = await createLinkCode(creds[nSenders]!);
  const linked = await linkDevice(url, { code: link.code, deviceName: 'second' });
  const backoff = { initialMs: 50, maxMs: 400 };
  const clients = [...creds, linked].map(
    (c) => new ParleyClient({ credentials: c, backoff, encoding: 'proto' }),
  );
  await Promise.all(clients.map((c) => c.connect()));
  const senders = clients.slice(0, nSenders);
  const recipients = clients.slice(nSenders);
  const chat = await senders[0]!.createChat({
    kind: ChatKind.GROUP,
    memberUserIds: creds.slice(1).map((c) => c.userId),
    name: 'crash',
  });

  const seen = recipients.map(() => new Map<string, number>());
  recipients.forEach((r, i) => {
    r.on('message', (m) => {
      const key = dec.decode(m.payload);
      seen[i]!.set(key, (seen[i]!.get(key) ?? 0) + 1);
    });
  });
  for (const c of clients) c.on('error', () => {});

  const acked = new Set<string>();
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
        const p = s.send(chat.id, enc.encode(key)).then(
          () => acked.add(key),
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
    let last = -1;
    for (let quiet = 0; quiet < 10; ) {
      const total = seen.reduce((a, m) => a + m.size, 0);
      const complete = seen.every((m) => [...acked].every((k) => m.has(k)));
      if (complete) break;
      quiet = total === last ? quiet + 1 : 0;
      last = total;
      await sleep(150);
    }
    let lost = 0;
    let appDuplicates = 0;
    let delivered = 0;
    for (const m of seen) {
      for (const k of acked) if (!m.has(k)) lost++;
      for (const n of m.values()) if (n > 1) appDuplicates += n - 1;
      delivered += m.size;
    }
    const duplicatesRemoved = recipients.reduce((a, r) => a + r.stats.duplicates, 0);
    return { sent, acked: acked.size, delivered, duplicatesRemoved, lost, appDuplicates };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await kill(child);
  }
}
