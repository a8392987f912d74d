/**
 * One push crash run: a real node child (push-child.ts) with two registered recipient devices
 * that stay offline; two senders stream messages into a group until the node is SIGKILLed,
 * then the node restarts on the same files and its worker finishes what is due. Senders do
 * not resend after the kill, so what is stored is read from the database file at the end.
 * Checked (pushCheck): every push names a stored message, every offline device's last push
 * names the chat's last stored message (none lost), and pushes naming one message twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatKind, type Credentials, ParleyClient, requestCode, verifyCode } from '@parley/sdk';
import Database from 'better-sqlite3';
import { testLimitFlags } from '../../src/config/test-limits.js';
import { childServeFlags, freePort, kill } from './crash-run.js';

const childScript = new URL('./push-child.js', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PushRecord {
  deviceId: string;
  chatId: string;
  /** A push by the worker names its job's newest message by seq... */
  seq?: number;
  /** ...a push before commit (negative control) by the message body. */
  key?: string;
}

export interface PushCounts {
  acked: number;
  stored: number;
  pushes: number;
  /** Pushes naming a message that is not stored (never committed). */
  unstored: number;
  /** Offline devices whose last push does not name the chat's last stored message. */
  lost: number;
  /** Pushes naming a (device, message) pushed before. */
  duplicates: number;
  /** Acked messages missing from the store (must be 0 in every mode). */
  ackedMissing: number;
}

function startChild(dataDir: string, port: number, extra: string[]): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      childScript,
      ...['--push-log', join(dataDir, 'pushes.log')],
      ...childServeFlags(port, dataDir),
      ...testLimitFlags(),
      ...['--push-coalesce-ms', '300', '--push-poll-ms', '50', '--push-lease-ms', '1000'],
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

function codeFor(dataDir: string, phone: string): string {
  const lines = readFileSync(join(dataDir, 'sms-codes.log'), 'utf8').trim().split('\n');
  const line = lines.reverse().find((l) => l.split(' ')[1] === phone);
  if (!line) throw new Error(`no code for ${phone}`);
  return line.split(' ')[2]!;
}

export function readPushes(dataDir: string): PushRecord[] {
  const file = join(dataDir, 'pushes.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as PushRecord);
}

/** The checker, over the pushes written and the messages stored in the chat. */
export function pushCheck(
  pushes: readonly PushRecord[],
  stored: ReadonlyArray<{ seq: number; key: string }>,
  devices: readonly string[],
  acked: ReadonlyMap<string, number>,
): PushCounts {
  const seqs = new Set(stored.map((m) => m.seq));
  const keys = new Map(stored.map((m) => [m.key, m.seq]));
  const last = Math.max(0, ...stored.map((m) => m.seq));
  const seen = new Set<string>();
  let unstored = 0;
  let duplicates = 0;
  for (const p of pushes) {
    const seq = p.seq ?? keys.get(p.key ?? '');
    if (seq === undefined || !seqs.has(seq)) {
      unstored++;
      continue;
    }
    const k = `${p.deviceId}#${seq}`;
    if (seen.has(k)) duplicates++;
    seen.add(k);
  }
  const lost = devices.filter((d) => !seen.has(`${d}#${last}`)).length;
  let ackedMissing = 0;
  for (const [key, seq] of acked) if (keys.get(key) !== seq) ackedMissing++;
  return {
    acked: acked.size,
    stored: stored.length,
    pushes: pushes.length,
    unstored,
    lost,
    duplicates,
    ackedMissing,
  };
}

export async function pushCrashRun(o: {
  dataDir: string;
  killAfterMs: number;
  unsafe?: boolean;
}): Promise<PushCounts> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const extra = o.unsafe ? ['--push-before-commit'] : [];
  let child = await startChild(o.dataDir, port, extra);
  const base = 3_000_000 + Math.floor(Math.random() * 6_000_000);
  const creds: Credentials[] = [];
  for (let i = 0; i < 4; i++) {
    const phone = `+1415${String(base + i).padStart(7, '0')}`;
    await requestCode(url, phone);
    creds.push(await verifyCode(url, { phone, code: codeFor(o.dataDir, phone), deviceName: 'push-crash' }));
  }
  const [s0, s1, r0, r1] = creds.map(
    (c) => new ParleyClient({ credentials: c, backoff: { initialMs: 50, maxMs: 400 } }),
  );
  const all = [s0!, s1!, r0!, r1!];
  for (const c of all) c.on('error', () => {});
  await Promise.all(all.map((c) => c.connect()));
  let n = 0;
  for (const r of [r0!, r1!]) await r.registerPush({ platform: 'fcm', token: `crash-${base}-${n++}` });
  const chat = await s0!.createChat({
    kind: ChatKind.GROUP,
    memberUserIds: creds.slice(1).map((c) => c.userId),
    name: 'push',
  });
  await Promise.all([r0!.close(), r1!.close()]);
  await sleep(100); // the node sees the recipients go

  const enc = new TextEncoder();
  const acked = new Map<string, number>();
  let sending = true;
  const loops = [s0!, s1!].map(async (s, si) => {
    let i = 0;
    while (sending) {
      const key = `s${si}-${i++}`;
      await Promise.race([
        s.send(chat.id, enc.encode(key)).then(
          (r) => void acked.set(key, r.seq),
          () => {},
        ),
        sleep(1500),
      ]);
      await sleep(5);
    }
  });
  // The kill comes `killAfterMs` after the first message was acked, so a busy machine that is
  // slow to answer still has the kill land while messages are being committed and pushed.
  for (const start = Date.now(); acked.size === 0 && Date.now() - start < 60_000; ) await sleep(10);
  await sleep(o.killAfterMs);
  sending = false;
  await kill(child);
  // No resends: whatever the kill cut off is gone or stored, and the file says which.
  await Promise.all([s0!.close(), s1!.close()]);
  await Promise.all(loops);
  child = await startChild(o.dataDir, port, extra);
  const devices = [creds[2]!.deviceId, creds[3]!.deviceId];
  const readStored = () => {
    const db = new Database(join(o.dataDir, 'parley.db'), { readonly: true });
    try {
      return (
        db
          .prepare('SELECT seq, body FROM messages WHERE chat_id = ? AND kind = 0 ORDER BY seq')
          .all(chat.id) as Array<{
          seq: number;
          body: Buffer | null;
        }>
      ).map((m) => ({ seq: m.seq, key: m.body ? m.body.toString('utf8') : '' }));
    } finally {
      db.close();
    }
  };
  try {
    // The restarted node sends what is due: jobs the dead node had leased wait for their lease.
    const stored = readStored();
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && pushCheck(readPushes(o.dataDir), stored, devices, acked).lost > 0)
      await sleep(100);
    await sleep(500); // anything else the worker would still send (a duplicate) shows up now
    return pushCheck(readPushes(o.dataDir), stored, devices, acked);
  } finally {
    await kill(child);
  }
}
