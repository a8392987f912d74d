/**
 * `npm run bench:marks`: what a busy 1,000-member group's ack flushes write to the receipt
 * marks, keyed as the store keys them, `(chat, user, kind, through_seq)`, against keyed by
 * seq first, `(chat, through_seq, kind, user)`; and what each costs the receipt details of
 * an older message (every member's first mark at or past its seq). Real SQLite files, the
 * disk sync off (acks are written so), automatic checkpoints off so the log's growth counts
 * the pages a flush wrote. Prints a Markdown table.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const MEMBERS = 1000;
/** Flushes before the measured ones: 30 s of a group whose members ack every 50 ms. */
const WARM_FLUSHES = 600;
const MEASURED_FLUSHES = 200;
/** Messages a flush covers (60 msgs/s, 20 flushes a second). */
const SEQS_A_FLUSH = 3;
/** The message whose details are read: this many flushes before the last. */
const DETAILS_AGE_FLUSHES = 700;
const PAGE_BYTES = 4096;
const WAL_FRAME_BYTES = PAGE_BYTES + 24;

interface Layout {
  name: string;
  key: string;
  details: string;
}

const LAYOUTS: Layout[] = [
  {
    name: '(chat, user, kind, through_seq), as stored',
    key: 'chat_id, user_id, kind, through_seq',
    details: `SELECT m.user_id, (SELECT min(at) FROM receipt_marks r WHERE r.chat_id = m.chat_id
        AND r.user_id = m.user_id AND r.kind = 1 AND r.through_seq >= @seq) AS at
      FROM members m WHERE m.chat_id = @chat`,
  },
  {
    name: '(chat, through_seq, kind, user)',
    key: 'chat_id, through_seq, kind, user_id',
    details: `SELECT user_id, min(at) AS at FROM receipt_marks
      WHERE chat_id = @chat AND through_seq >= @seq AND kind = 1 GROUP BY user_id`,
  },
];

function measure(dir: string, layout: Layout, run: number) {
  const path = join(dir, `marks-${run}.db`);
  const db = new Database(path);
  db.pragma(`page_size = ${PAGE_BYTES}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('wal_autocheckpoint = 0');
  db.pragma('cache_size = -65536');
  db.exec(`CREATE TABLE members (chat_id TEXT, user_id TEXT, PRIMARY KEY (chat_id, user_id)) WITHOUT ROWID;
    CREATE TABLE receipt_marks (chat_id TEXT NOT NULL, user_id TEXT NOT NULL, kind INTEGER NOT NULL,
      through_seq INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (${layout.key})) WITHOUT ROWID;`);
  const chat = `01JCHAT${'X'.repeat(19)}`;
  const users = Array.from({ length: MEMBERS }, (_, i) => `01JUSER${String(i).padStart(19, '0')}`);
  const addMember = db.prepare('INSERT INTO members VALUES (?, ?)');
  for (const u of users) addMember.run(chat, u);
  const mark = db.prepare(
    'INSERT OR IGNORE INTO receipt_marks (chat_id, user_id, kind, through_seq, at) VALUES (?, ?, ?, ?, ?)',
  );
  let seq = 0;
  // Each member's position is the flush's last seq or one before it (acks in flight).
  const flush = db.transaction(() => {
    seq += SEQS_A_FLUSH;
    for (let i = 0; i < users.length; i++) mark.run(chat, users[i], 1, seq - ((i + seq) % 2), seq * 50);
  });
  for (let i = 0; i < WARM_FLUSHES; i++) flush();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const t0 = performance.now();
  for (let i = 0; i < MEASURED_FLUSHES; i++) flush();
  const flushMs = (performance.now() - t0) / MEASURED_FLUSHES;
  const pages = statSync(`${path}-wal`).size / WAL_FRAME_BYTES / MEASURED_FLUSHES;
  const details = db.prepare(layout.details);
  const asked = seq - DETAILS_AGE_FLUSHES * SEQS_A_FLUSH;
  const t1 = performance.now();
  const rows = details.all({ chat, seq: asked }) as Array<{ at: number | null }>;
  const detailsMs = performance.now() - t1;
  if (rows.filter((r) => r.at !== null).length !== MEMBERS)
    throw new Error('every member has a mark past the seq');
  db.close();
  return { flushMs, pages, detailsMs };
}

const dir = mkdtempSync(join(tmpdir(), 'parley-marks-'));
try {
  console.log(
    `| marks keyed by | log pages a flush | ms a flush | details of a message ${DETAILS_AGE_FLUSHES} flushes old, ms |`,
  );
  console.log('| --- | --- | --- | --- |');
  let run = 0;
  for (const layout of LAYOUTS) {
    for (let i = 0; i < 2; i++) {
      const r = measure(dir, layout, run++);
      console.log(
        `| ${layout.name} | ${r.pages.toFixed(0)} | ${r.flushMs.toFixed(2)} | ${r.detailsMs.toFixed(1)} |`,
      );
    }
  }
  console.log(
    `\n${MEMBERS} members, ${WARM_FLUSHES} flushes to warm the table, then ${MEASURED_FLUSHES} measured; each flush one mark a member.`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
