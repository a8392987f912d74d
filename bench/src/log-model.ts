/**
 * `npm run bench:log-model`: what an append-only message log would change for live 1:1
 * messages on the all-pairs data set (1,000 users, a direct chat for every pair), on real
 * SQLite files, without sockets. Two models of the same work, each a commit of a batch of
 * messages (synced, synchronous=FULL) and then a commit of their acks (not synced), as the
 * node's group commit and ack flush do:
 *
 * - `tables`: each message is a row of `messages` (by chat and seq, plus the sender's
 *   client-id index); each ack moves the device's cursor row and the member's delivered seq.
 *   This is the node's model today, reduced to those writes: every message lands on its own
 *   leaf page of each B-tree, so a commit writes a page to the log for each.
 * - `log`: each batch is appended to `message_log` (by a growing id) and its acks to
 *   `cursor_log` and `position_log`, so a commit writes a few new pages. The tables are
 *   brought up to date from the logs in bulk every `--fold` messages (rows sorted by key, the
 *   acks of a device and chat folded to the highest), and the folded rows leave the logs. The
 *   recent messages would be found through an index kept in memory (not measured here).
 *   A fold round can be cut in `--slices` key ranges (chats for messages and positions,
 *   devices for cursors), one transaction each, one between two batches; the acks can be
 *   folded less often than the messages (`--ack-fold`).
 *
 * Both keep each chat's last seq in memory and must end with the same tables (row count and
 * sums printed). Printed: messages a second with the folds, and of the commits and the
 * folds alone; CPU a message (all threads); bytes handed to write() a message; the fold steps
 * (in one file a fold holds the writer, so commits would wait that long behind it).
 *
 *   npm run bench:log-model -- [--users 1000] [--batch 100] [--messages 100000] [--fold 50000]
 *     [--ack-fold 50000] [--slices 1] [--log-only] [--split] [--created]
 *
 * `--created` starts every chat with one message row (seq 1), as the node's chats start with
 * their CREATED update: `messages` then has a row per chat before the first send, and a fold's
 * rows land on its leaves one or two at a time instead of filling a table that starts empty.
 *
 * `--split` adds a third model: the logs in a file of their own, folded by a thread of its own
 * (log-model-fold.ts) while the writer goes on appending (architecture.md, "A message log").
 * "Between two batches" is the time from one batch's commits to the next's, folds included
 * where they hold the writer: what a send arriving meanwhile could wait.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { LogIds } from './log-model-fold.js';
import { positiveArg as arg, median } from './util.js';

const users = arg('users', 1000);
const batch = arg('batch', 100);
const messages = arg('messages', 100_000);
const foldEvery = arg('fold', 50_000);
const ackFoldEvery = arg('ack-fold', foldEvery);
const slices = arg('slices', 1);
/** Each chat starts with a message at seq 1 (the node's CREATED update). */
const created = process.argv.includes('--created');
const work = mkdtempSync(join(tmpdir(), 'parley-log-model-'));

const LOGS = `
CREATE TABLE message_log (id INTEGER PRIMARY KEY, chat_id TEXT NOT NULL, seq INTEGER NOT NULL,
  sender_device TEXT NOT NULL, client_id TEXT NOT NULL, server_time INTEGER NOT NULL, body BLOB);
CREATE TABLE cursor_log (id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, chat_id TEXT NOT NULL,
  seq INTEGER NOT NULL);
CREATE TABLE position_log (id INTEGER PRIMARY KEY, chat_id TEXT NOT NULL, user_id TEXT NOT NULL,
  seq INTEGER NOT NULL);
`;

const TABLES = `
CREATE TABLE messages (chat_id TEXT NOT NULL, seq INTEGER NOT NULL, sender_device TEXT NOT NULL,
  client_id TEXT NOT NULL, server_time INTEGER NOT NULL, body BLOB, PRIMARY KEY (chat_id, seq)) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_client_id ON messages(sender_device, client_id);
CREATE TABLE members (chat_id TEXT NOT NULL, user_id TEXT NOT NULL, delivered_seq INTEGER NOT NULL,
  PRIMARY KEY (chat_id, user_id)) WITHOUT ROWID;
CREATE TABLE cursors (device_id TEXT NOT NULL, chat_id TEXT NOT NULL, acked_seq INTEGER NOT NULL,
  PRIMARY KEY (device_id, chat_id)) WITHOUT ROWID;
${LOGS}`;

const chatOf = (i: number, j: number) => {
  const [a, b] = i < j ? [i, j] : [j, i];
  return `c_b${a * (users - 1) - (a * (a - 1)) / 2 + b - a - 1}`;
};

interface Item {
  chat: string;
  seq: number;
  from: number;
  to: number;
}

/** Batches of random 1:1 messages, the same sequence in every run (xorshift32, fixed seed). */
function traffic(): () => Item[] {
  let rnd = 0x9e3779b9;
  const random = () => {
    rnd ^= rnd << 13;
    rnd ^= rnd >>> 17;
    rnd ^= rnd << 5;
    return (rnd >>> 0) / 2 ** 32;
  };
  const lastSeq = new Map<string, number>();
  const first = created ? 1 : 0;
  return () => {
    const items: Item[] = [];
    for (let k = 0; k < batch; k++) {
      const from = Math.floor(random() * users);
      let to = Math.floor(random() * (users - 1));
      if (to >= from) to++;
      const chat = chatOf(from, to);
      const seq = (lastSeq.get(chat) ?? first) + 1;
      lastSeq.set(chat, seq);
      items.push({ chat, seq, from, to });
    }
    return items;
  };
}

/** A connection in WAL mode. */
function open(path: string, synchronous: 'OFF' | 'FULL'): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  return db;
}

function seed(path: string): void {
  const db = open(path, 'OFF');
  db.exec(TABLES);
  const member = db.prepare('INSERT INTO members VALUES (?, ?, 0)');
  const cursor = db.prepare('INSERT INTO cursors VALUES (?, ?, 0)');
  const update = db.prepare('INSERT INTO messages VALUES (?, 1, ?, ?, 0, ?)');
  const updateBody = Buffer.alloc(64, 1);
  db.transaction(() => {
    for (let i = 0; i < users; i++)
      for (let j = i + 1; j < users; j++) {
        const chat = chatOf(i, j);
        if (created) update.run(chat, `d_b${i}`, `\u0001update:${chat}:1`, updateBody);
        for (const u of [i, j]) {
          member.run(chat, `u_b${u}`);
          cursor.run(`d_b${u}`, chat);
        }
      }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The log's appends: a message row, and an ack's cursor and position rows. */
function logAppends(db: Database.Database) {
  const logMessage = db.prepare('INSERT INTO message_log VALUES (NULL, ?, ?, ?, ?, ?, ?)');
  const logCursor = db.prepare('INSERT INTO cursor_log VALUES (NULL, ?, ?, ?)');
  const logPosition = db.prepare('INSERT INTO position_log VALUES (NULL, ?, ?, ?)');
  const logAck = (it: Item) => {
    logCursor.run(`d_b${it.to}`, it.chat, it.seq);
    logPosition.run(it.chat, `u_b${it.to}`, it.seq);
  };
  return { logMessage, logAck };
}

/**
 * One batch's commits, as the node makes them: its messages (synced), then their acks (not
 * synced: a lost ack is a redelivery). The milliseconds they took.
 */
function commitBatch(
  db: Database.Database,
  items: Item[],
  message: (it: Item) => void,
  ack: (it: Item) => void,
): number {
  const t = performance.now();
  db.transaction(() => {
    for (const it of items) message(it);
  })();
  db.pragma('synchronous = OFF');
  db.transaction(() => {
    for (const it of items) ack(it);
  })();
  db.pragma('synchronous = FULL');
  return performance.now() - t;
}

/** What every model must leave behind alike: the messages, and the sums of the positions. */
function tablesCheck(db: Database.Database) {
  return {
    messages: db.prepare('SELECT count(*) FROM messages').pluck().get() as number,
    acked: db.prepare('SELECT sum(acked_seq) FROM cursors').pluck().get() as number,
    delivered: db.prepare('SELECT sum(delivered_seq) FROM members').pluck().get() as number,
  };
}

/** When a run's work ended: the time, and the CPU and bytes written since c0 and w0. */
function stopped(c0: NodeJS.CpuUsage, w0: number) {
  return { end: performance.now(), cpu: process.cpuUsage(c0), out: written() - w0 };
}

/** A model's figures: its run from t0 to end, with the CPU and bytes written meanwhile. */
function summary(
  model: string,
  t: {
    t0: number;
    end: number;
    cpu: NodeJS.CpuUsage;
    out: number;
    commitMs: number;
    folds: number[];
    finalFold: number;
    gaps: number[];
  },
  check: ReturnType<typeof tablesCheck>,
) {
  const foldMs = t.folds.reduce((a, b) => a + b, 0) + t.finalFold;
  return {
    model,
    perSec: (messages / (t.end - t.t0)) * 1000,
    cpuUs: (t.cpu.user + t.cpu.system) / messages,
    bytesPerMsg: t.out / messages,
    folds: t.folds,
    finalFold: t.finalFold,
    gaps: t.gaps,
    commitsPerSec: (messages / t.commitMs) * 1000,
    foldedPerSec: foldMs > 0 ? (messages / foldMs) * 1000 : undefined,
    check,
  };
}

/** Bytes this process has handed to write() so far (/proc/self/io wchar). */
const written = () => Number(/^wchar: (\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);

function run(seedPath: string, model: 'tables' | 'log') {
  const path = join(work, `${model}.db`);
  copyFileSync(seedPath, path); // its log was checkpointed into it
  const db = open(path, 'FULL');
  const insMessage = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)');
  const ackCursor = db.prepare(
    'UPDATE cursors SET acked_seq = ? WHERE device_id = ? AND chat_id = ? AND acked_seq < ?',
  );
  const ackMember = db.prepare(
    'UPDATE members SET delivered_seq = ? WHERE chat_id = ? AND user_id = ? AND delivered_seq < ?',
  );
  const { logMessage, logAck } = logAppends(db);
  // A fold moves one key range (a slice) of a log in one transaction: the rows of that range
  // up to the log id the fold round began at.
  const RANGE = 'id <= ? AND key >= ? AND key < ?';
  const foldMessages = db.prepare(
    `INSERT INTO messages SELECT chat_id, seq, sender_device, client_id, server_time, body
       FROM (SELECT *, chat_id AS key FROM message_log) WHERE ${RANGE} ORDER BY chat_id, seq`,
  );
  const dropMessages = db.prepare(`DELETE FROM message_log WHERE ${RANGE.replaceAll('key', 'chat_id')}`);
  /** Moves `table.column` forward to the highest seq per row key in `log`, over one key range. */
  const foldHighest = (table: string, column: string, log: string, [a, b]: [string, string], key: string) =>
    db.prepare(
      `UPDATE ${table} SET ${column} = l.seq FROM
         (SELECT ${a}, ${b}, max(seq) AS seq FROM (SELECT *, ${key} AS key FROM ${log})
           WHERE ${RANGE} GROUP BY ${a}, ${b}) AS l
       WHERE ${table}.${a} = l.${a} AND ${table}.${b} = l.${b} AND ${table}.${column} < l.seq`,
    );
  const foldCursors = foldHighest(
    'cursors',
    'acked_seq',
    'cursor_log',
    ['device_id', 'chat_id'],
    'device_id',
  );
  const dropCursors = db.prepare(`DELETE FROM cursor_log WHERE ${RANGE.replaceAll('key', 'device_id')}`);
  const foldPositions = foldHighest(
    'members',
    'delivered_seq',
    'position_log',
    ['chat_id', 'user_id'],
    'chat_id',
  );
  const dropPositions = db.prepare(`DELETE FROM position_log WHERE ${RANGE.replaceAll('key', 'chat_id')}`);
  const lastId = (table: string) => db.prepare(`SELECT ifnull(max(id), 0) FROM ${table}`).pluck();
  const last = {
    messages: lastId('message_log'),
    cursors: lastId('cursor_log'),
    positions: lastId('position_log'),
  };
  /** Slice bounds: `slices` key ranges with about as many chats (devices) each. */
  const bounds = (keys: string[]) => {
    keys.sort();
    const out: Array<[string, string]> = [];
    for (let k = 0; k < slices; k++)
      out.push([
        k === 0 ? '' : keys[Math.floor((k * keys.length) / slices)]!,
        k === slices - 1 ? '\uffff' : keys[Math.floor(((k + 1) * keys.length) / slices)]!,
      ]);
    return out;
  };
  const chatKeys: string[] = [];
  for (let i = 0; i < users; i++) for (let j = i + 1; j < users; j++) chatKeys.push(chatOf(i, j));
  const chatSlices = bounds(chatKeys);
  const deviceSlices = bounds(Array.from({ length: users }, (_, i) => `d_b${i}`));
  /** A fold round in progress: the log ids it began at and the next slice. */
  let messageRound: { upTo: number; next: number } | undefined;
  let ackRound: { cursorsUpTo: number; positionsUpTo: number; next: number } | undefined;
  const foldStep = (force: boolean) => {
    const [lo, hi] = chatSlices[messageRound?.next ?? 0]!;
    const [dlo, dhi] = deviceSlices[ackRound?.next ?? 0]!;
    db.transaction(() => {
      if (messageRound) {
        foldMessages.run(messageRound.upTo, lo, hi);
        dropMessages.run(messageRound.upTo, lo, hi);
        if (++messageRound.next === slices) messageRound = undefined;
      }
      if (ackRound) {
        const [plo, phi] = chatSlices[ackRound.next]!;
        foldCursors.run(ackRound.cursorsUpTo, dlo, dhi);
        dropCursors.run(ackRound.cursorsUpTo, dlo, dhi);
        foldPositions.run(ackRound.positionsUpTo, plo, phi);
        dropPositions.run(ackRound.positionsUpTo, plo, phi);
        if (++ackRound.next === slices) ackRound = undefined;
      }
    })();
    if (force && (messageRound || ackRound)) foldStep(true);
  };

  const nextBatch = traffic();
  const body = Buffer.alloc(100, 7);
  let n = 0;
  let sinceFold = 0;
  let sinceAckFold = 0;
  const folds: number[] = [];
  let finalFold = 0;
  /** Time in the commits of the messages and their acks, folds left out. */
  let commitMs = 0;
  /** Between one batch's commits and the next's: what a send arriving meanwhile could wait. */
  const gaps: number[] = [];
  let lastDone = performance.now();
  const w0 = written();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let done = 0; done < messages; done += batch) {
    const items = nextBatch();
    const now = Date.now();
    const put = model === 'tables' ? insMessage : logMessage;
    const ack =
      model === 'tables'
        ? (it: Item) => {
            ackCursor.run(it.seq, `d_b${it.to}`, it.chat, it.seq);
            ackMember.run(it.seq, it.chat, `u_b${it.to}`, it.seq);
          }
        : logAck;
    commitMs += commitBatch(
      db,
      items,
      (it) => put.run(it.chat, it.seq, `d_b${it.from}`, `m${n++}`, now, body),
      ack,
    );
    sinceFold += batch;
    sinceAckFold += batch;
    if (model === 'log') {
      if (!messageRound && sinceFold >= foldEvery) {
        messageRound = { upTo: last.messages.get() as number, next: 0 };
        sinceFold = 0;
      }
      if (!ackRound && sinceAckFold >= ackFoldEvery) {
        ackRound = {
          cursorsUpTo: last.cursors.get() as number,
          positionsUpTo: last.positions.get() as number,
          next: 0,
        };
        sinceAckFold = 0;
      }
      // One slice between batches, so a commit waits behind one slice at most.
      if (messageRound || ackRound) {
        const f0 = performance.now();
        foldStep(false);
        folds.push(performance.now() - f0);
      }
    }
    const doneAt = performance.now();
    gaps.push(doneAt - lastDone);
    lastDone = doneAt;
  }
  if (model === 'log') {
    // What is left in the logs, all of it, every range.
    messageRound = { upTo: last.messages.get() as number, next: 0 };
    ackRound = {
      cursorsUpTo: last.cursors.get() as number,
      positionsUpTo: last.positions.get() as number,
      next: 0,
    };
    const f0 = performance.now();
    foldStep(true);
    finalFold = performance.now() - f0;
  }
  const result = summary(
    model,
    { t0, ...stopped(c0, w0), commitMs, folds, finalFold, gaps },
    tablesCheck(db),
  );
  db.close();
  return result;
}

/**
 * The log in a file of its own, folded into the tables' file by a thread of its own
 * (log-model-fold.ts): the writer appends and, once a fold has committed, deletes the log
 * rows it reached; it never waits for a fold.
 */
async function runSplit(seedPath: string) {
  const tablesPath = join(work, 'split-tables.db');
  const logPath = join(work, 'split-log.db');
  copyFileSync(seedPath, tablesPath);
  const db = open(logPath, 'FULL');
  db.exec(LOGS);
  const { logMessage, logAck } = logAppends(db);
  const lastIds = (): LogIds => ({
    messages: db.prepare('SELECT ifnull(max(id), 0) FROM message_log').pluck().get() as number,
    cursors: db.prepare('SELECT ifnull(max(id), 0) FROM cursor_log').pluck().get() as number,
    positions: db.prepare('SELECT ifnull(max(id), 0) FROM position_log').pluck().get() as number,
  });
  const drop = db.transaction((to: LogIds) => {
    db.prepare('DELETE FROM message_log WHERE id <= ?').run(to.messages);
    db.prepare('DELETE FROM cursor_log WHERE id <= ?').run(to.cursors);
    db.prepare('DELETE FROM position_log WHERE id <= ?').run(to.positions);
  });
  const worker = new Worker(new URL('./log-model-fold.js', import.meta.url), {
    workerData: { tables: tablesPath, log: logPath },
  });
  let reached: LogIds = { messages: 0, cursors: 0, positions: 0 };
  let inFlight: Promise<{ to: LogIds; ms: number }> | undefined;
  let done: { to: LogIds; ms: number } | undefined;
  const startFold = () => {
    const to = lastIds();
    inFlight = new Promise((res) => worker.once('message', res));
    void inFlight.then((d) => {
      done = d;
    });
    worker.postMessage({ from: reached, to });
  };
  const folds: number[] = [];
  const nextBatch = traffic();
  const body = Buffer.alloc(100, 7);
  let n = 0;
  let sinceFold = 0;
  let commitMs = 0;
  const gaps: number[] = [];
  const w0 = written();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let lastDone = t0;
  for (let sent = 0; sent < messages; sent += batch) {
    // Lets the fold thread's answer in.
    await new Promise((r) => setImmediate(r));
    const items = nextBatch();
    const now = Date.now();
    const message = (it: Item) => logMessage.run(it.chat, it.seq, `d_b${it.from}`, `m${n++}`, now, body);
    commitMs += commitBatch(db, items, message, logAck);
    if (done) {
      drop(done.to);
      reached = done.to;
      folds.push(done.ms);
      done = undefined;
      inFlight = undefined;
    }
    sinceFold += batch;
    if (!inFlight && sinceFold >= foldEvery) {
      startFold();
      sinceFold = 0;
    }
    const doneAt = performance.now();
    gaps.push(doneAt - lastDone);
    lastDone = doneAt;
  }
  // What is left in the logs, all of it.
  if (inFlight) {
    const d = await inFlight;
    drop(d.to);
    reached = d.to;
    folds.push(d.ms);
    done = undefined;
  }
  startFold();
  const last = await inFlight!;
  drop(last.to);
  const stop = stopped(c0, w0);
  worker.postMessage('close');
  await new Promise((r) => worker.once('exit', r));
  db.close();
  const tables = new Database(tablesPath, { readonly: true });
  const check = tablesCheck(tables);
  tables.close();
  // The fold thread's own time for the last fold, not the wait for the one before it.
  const timing = { t0, ...stop, commitMs, folds, finalFold: last.ms, gaps };
  return summary('log, own file and fold thread', timing, check);
}

try {
  const seedPath = join(work, 'seed.db');
  const t0 = performance.now();
  seed(seedPath);
  process.stderr.write(
    `seeded ${users} users, ${(users * (users - 1)) / 2} chats in ${Math.round(performance.now() - t0)} ms\n`,
  );
  const rows = [];
  if (!process.argv.includes('--log-only')) rows.push(run(seedPath, 'tables'));
  rows.push(run(seedPath, 'log'));
  if (process.argv.includes('--split')) rows.push(await runSplit(seedPath));
  console.log(
    `Live 1:1 writes, ${users} users, ${(users * (users - 1)) / 2} direct chats, batches of ${batch}, ${messages} messages, synchronous=FULL; log: messages folded every ${foldEvery}, acks every ${ackFoldEvery}, in ${slices} slice(s)\n`,
  );
  console.log(
    '| model | msgs/s (folds included) | msgs/s of the commits alone | msgs/s of the folds alone | CPU µs/msg | bytes written/msg | folds: count, median ms, longest ms | the last fold (what was left) ms | between two batches: p50 / p99 / longest ms | rows after |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const int = (x: number) => Math.round(x).toLocaleString('en-US');
  const q = (xs: number[], p: number) =>
    [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  for (const r of rows)
    console.log(
      `| ${r.model} | ${int(r.perSec)} | ${int(r.commitsPerSec)} | ${r.foldedPerSec === undefined ? '–' : int(r.foldedPerSec)} | ${r.cpuUs.toFixed(1)} | ${int(r.bytesPerMsg)} | ${r.folds.length ? `${r.folds.length}, ${int(median(r.folds))}, ${int(Math.max(...r.folds))}` : '–'} | ${r.model === 'tables' ? '–' : int(r.finalFold)} | ${q(r.gaps, 0.5).toFixed(1)} / ${q(r.gaps, 0.99).toFixed(1)} / ${Math.max(...r.gaps).toFixed(1)} | ${r.check.messages} messages, acked ${r.check.acked}, delivered ${r.check.delivered} |`,
    );
} finally {
  rmSync(work, { recursive: true, force: true });
}
