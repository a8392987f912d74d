/**
 * `npm run bench:store`: the store's share of one live 1:1 message on the all-pairs data
 * set (1,000 users, a direct chat for every pair), without sockets: per message one commit
 * item in a chat picked at random, then (as the node's ack flush does) its cursor ack and
 * the delivered position it moves, in batches like the node's group commit. Runs on a real
 * SQLite file with synchronous=FULL, once with SQLite's own checkpoints inside commits and
 * once with the node's background checkpoints, and prints CPU (all threads of this process)
 * and wall time per message as a Markdown table.
 *
 *   npm run bench:store -- [--users 1000] [--batch 100] [--messages 30000]
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '@parley/server';
import { Seeder } from './seed.js';
import { positiveArg as arg } from './util.js';

type Store = SqliteStore;
type Commit = Parameters<Store['messageCommit']>[0][number];
type Ack = Parameters<Store['acksPersist']>[0][number];

const users = arg('users', 1000);
const batch = arg('batch', 100);
const messages = arg('messages', 30_000);
const work = mkdtempSync(join(tmpdir(), 'parley-store-path-'));

/** Chat id of the pair (i, j), in the order the seeder created them. */
function pairChat(i: number, j: number): string {
  const [a, b] = i < j ? [i, j] : [j, i];
  return `c_b${a * (users - 1) - (a * (a - 1)) / 2 + b - a - 1}`;
}

async function seed(dir: string): Promise<void> {
  const t0 = performance.now();
  const seeder = Seeder.open(dir);
  const us = await seeder.users(users);
  const pairs: Array<(typeof us)[number][]> = [];
  for (let i = 0; i < users; i++) for (let j = i + 1; j < users; j++) pairs.push([us[i]!, us[j]!]);
  await seeder.chats('direct', pairs);
  await seeder.close();
  process.stderr.write(
    `seeded ${users} users, ${pairs.length} chats in ${Math.round(performance.now() - t0)} ms\n`,
  );
}

async function run(seedDir: string, mode: 'inline' | 'background') {
  const dir = join(work, mode);
  mkdirSync(dir);
  copyFileSync(join(seedDir, 'parley.db'), join(dir, 'parley.db'));
  const store = new SqliteStore({
    path: join(dir, 'parley.db'),
    synchronous: 'FULL',
    ...(mode === 'background' && { backgroundCheckpointMs: 20 }),
  });
  const payload = new Uint8Array(100);
  let n = 0;
  let commitMs = 0;
  let ackMs = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let done = 0; done < messages; done += batch) {
    const items: Commit[] = [];
    const to: number[] = [];
    for (let k = 0; k < batch; k++) {
      const i = Math.floor(Math.random() * users);
      let j = Math.floor(Math.random() * (users - 1));
      if (j >= i) j++;
      to.push(j);
      items.push({
        chatId: pairChat(i, j) as Commit['chatId'],
        senderUserId: `u_b${i}` as Commit['senderUserId'],
        senderDeviceId: `d_b${i}` as Commit['senderDeviceId'],
        clientMessageId: `m${n++}`,
        serverTime: Date.now(),
        payload,
        devicePayloads: undefined,
      });
    }
    const tc = performance.now();
    const results = await store.messageCommit(items);
    const ta = performance.now();
    commitMs += ta - tc;
    const acks: Ack[] = items.map((it, k) => ({
      deviceId: `d_b${to[k]}` as Ack['deviceId'],
      userId: `u_b${to[k]}` as Ack['userId'],
      chatId: it.chatId,
      seq: results[k]!.ok ? (results[k] as { seq: number }).seq : 1,
    }));
    await store.acksPersist(acks, Date.now());
    ackMs += performance.now() - ta;
  }
  const cpu = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  await store.close();
  return {
    mode,
    cpuUs: (cpu.user + cpu.system) / messages,
    wallUs: (wall * 1000) / messages,
    perSec: (messages / wall) * 1000,
    commitUs: (commitMs * 1000) / messages,
    ackUs: (ackMs * 1000) / messages,
  };
}

try {
  const seedDir = join(work, 'seed');
  await seed(seedDir);
  const rows = [];
  for (const mode of ['inline', 'background'] as const) rows.push(await run(seedDir, mode));
  console.log(
    `Store work per live 1:1 message: ${users} users, ${(users * (users - 1)) / 2} direct chats, batches of ${batch}, ${messages} messages, synchronous=FULL\n`,
  );
  console.log(
    '| checkpoints | CPU µs/msg (all threads) | wall µs/msg | of which commit | of which ack | msgs/s (store alone) |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.mode === 'inline' ? 'inside commits (SQLite default)' : 'background, every 20 ms'} | ${r.cpuUs.toFixed(1)} | ${r.wallUs.toFixed(1)} | ${r.commitUs.toFixed(1)} | ${r.ackUs.toFixed(1)} | ${Math.round(r.perSec).toLocaleString('en-US')} |`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
