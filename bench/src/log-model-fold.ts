/**
 * The fold thread of `bench:log-model -- --split`: with its own connection to the tables'
 * file and the log's file attached, it moves a stretch of the logs (log ids in (from, to])
 * into the tables, sorted by key, and records the log ids it reached in the same synced
 * transaction. It deletes nothing from the logs: the writer does, once told.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface LogIds {
  messages: number;
  cursors: number;
  positions: number;
}

const { tables, log } = workerData as { tables: string; log: string };
const db = new Database(tables);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.prepare('ATTACH DATABASE ? AS log').run(log);
db.exec('CREATE TABLE IF NOT EXISTS fold_state (log TEXT PRIMARY KEY, upto INTEGER NOT NULL)');

const RANGE = 'id > ? AND id <= ?';
const foldMessages = db.prepare(
  `INSERT INTO main.messages SELECT chat_id, seq, sender_device, client_id, server_time, body
     FROM log.message_log WHERE ${RANGE} ORDER BY chat_id, seq`,
);
/** Moves `table.column` forward to the highest seq per row key in a log, over a range of ids. */
const foldHighest = (table: string, column: string, from: string, [a, b]: [string, string]) =>
  db.prepare(
    `UPDATE main.${table} SET ${column} = l.seq FROM
       (SELECT ${a}, ${b}, max(seq) AS seq FROM log.${from} WHERE ${RANGE} GROUP BY ${a}, ${b}) AS l
     WHERE ${table}.${a} = l.${a} AND ${table}.${b} = l.${b} AND ${table}.${column} < l.seq`,
  );
const foldCursors = foldHighest('cursors', 'acked_seq', 'cursor_log', ['device_id', 'chat_id']);
const foldPositions = foldHighest('members', 'delivered_seq', 'position_log', ['chat_id', 'user_id']);
const reached = db.prepare('INSERT OR REPLACE INTO main.fold_state VALUES (?, ?)');

const fold = db.transaction((from: LogIds, to: LogIds) => {
  foldMessages.run(from.messages, to.messages);
  foldCursors.run(from.cursors, to.cursors);
  foldPositions.run(from.positions, to.positions);
  for (const k of ['messages', 'cursors', 'positions'] as const) reached.run(k, to[k]);
});

parentPort!.on('message', (m: { from: LogIds; to: LogIds } | 'close') => {
  if (m === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  const t0 = performance.now();
  fold(m.from, m.to);
  parentPort!.postMessage({ to: m.to, ms: performance.now() - t0 });
});
