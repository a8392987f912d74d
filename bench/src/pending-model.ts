/**
 * `npm run bench:pending`: measures the two ways of recording "pending for a device" that
 * DESIGN.md section 3 allows, on real SQLite files with synchronous=FULL, for a 1:1 chat
 * (3 recipient devices) and a 1024-member group: per-device inbox rows (insert N rows per
 * message, delete them on ack) against per-device, per-chat acked cursors (store the message
 * once, move one cursor per device on ack). Prints a Markdown table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const BATCH = 100; // messages per transaction (group commit)

interface Result {
  model: string;
  recipients: number;
  msgsPerSec: number;
  rowsWrittenPerMsg: number;
  ackUsPerDeviceMsg: number;
}

function open(dir: string, name: string): Database.Database {
  const db = new Database(join(dir, name));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE messages (chat_id TEXT, seq INTEGER, body BLOB, PRIMARY KEY (chat_id, seq)) WITHOUT ROWID;
    CREATE TABLE inbox (device_id TEXT, id INTEGER, chat_id TEXT, seq INTEGER, PRIMARY KEY (device_id, id)) WITHOUT ROWID;
    CREATE TABLE cursors (device_id TEXT, chat_id TEXT, acked_seq INTEGER, PRIMARY KEY (device_id, chat_id)) WITHOUT ROWID;`);
  return db;
}

function run(dir: string, model: 'inbox' | 'cursor', recipients: number, messages: number): Result {
  const db = open(dir, `${model}-${recipients}.db`);
  const devices = Array.from({ length: recipients }, (_, i) => `d_${String(i).padStart(6, '0')}`);
  const insMsg = db.prepare('INSERT INTO messages VALUES (?, ?, ?)');
  const insInbox = db.prepare('INSERT INTO inbox VALUES (?, ?, ?, ?)');
  const delInbox = db.prepare('DELETE FROM inbox WHERE device_id = ? AND id <= ?');
  const insCursor = db.prepare('INSERT INTO cursors VALUES (?, ?, 0)');
  const ackCursor = db.prepare(
    'UPDATE cursors SET acked_seq = ? WHERE device_id = ? AND chat_id = ? AND acked_seq < ?',
  );
  db.transaction(() => {
    for (const d of devices) insCursor.run(d, 'c1');
  })();
  const body = Buffer.alloc(100, 7);
  let seq = 0;
  const t0 = performance.now();
  for (let done = 0; done < messages; done += BATCH) {
    db.transaction(() => {
      for (let i = 0; i < BATCH; i++) {
        seq++;
        insMsg.run('c1', seq, body);
        if (model === 'inbox') for (const d of devices) insInbox.run(d, seq, 'c1', seq);
      }
    })();
  }
  const sendMs = performance.now() - t0;
  // Every device acks everything it got, in pages of BATCH, one transaction per page.
  const t1 = performance.now();
  for (let upTo = BATCH; upTo <= seq; upTo += BATCH) {
    db.transaction(() => {
      for (const d of devices) {
        if (model === 'inbox') delInbox.run(d, upTo);
        else ackCursor.run(upTo, d, 'c1', upTo);
      }
    })();
  }
  const ackMs = performance.now() - t1;
  db.close();
  return {
    model: model === 'inbox' ? 'inbox rows' : 'per-chat cursors',
    recipients,
    msgsPerSec: Math.round((messages / sendMs) * 1000),
    rowsWrittenPerMsg: model === 'inbox' ? 1 + recipients : 1,
    ackUsPerDeviceMsg: (ackMs * 1000) / (messages * recipients),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'parley-pending-'));
try {
  const rows: Result[] = [];
  for (const [recipients, messages] of [
    [3, 20_000],
    [1024, 2_000],
  ] as const) {
    for (const model of ['inbox', 'cursor'] as const) {
      process.stderr.write(`${model}, ${recipients} recipient devices...\n`);
      rows.push(run(dir, model, recipients, messages));
    }
  }
  console.log(
    '| model | recipient devices | messages/s stored (batches of 100, FULL) | rows written per message | ack cost per device-message |',
  );
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.model} | ${r.recipients} | ${r.msgsPerSec.toLocaleString('en-US')} | ${r.rowsWrittenPerMsg} | ${r.ackUsPerDeviceMsg.toFixed(2)} µs |`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
