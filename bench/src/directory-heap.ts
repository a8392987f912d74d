/**
 * `npm run bench:directory`: what the node's membership directory costs the garbage
 * collector on the all-pairs data set (1,000 users, a direct chat for every pair). Seeds a
 * real SQLite file, preloads a `Directory` from it as a node does at start, and prints the
 * heap it holds and the CPU of a full garbage collection with and without it. Run with one
 * GC thread so the CPU figure does not depend on how busy the other core is:
 *
 *   npm run bench:directory -- [--users 1000] [--runs 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Directory, SqliteStore } from '@parley/server';
import { Seeder } from './seed.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} takes a positive whole number`);
  return v;
}

const users = arg('users', 1000);
const runs = arg('runs', 5);
const work = mkdtempSync(join(tmpdir(), 'parley-directory-'));

/** Median CPU ms (all threads of this process) of `runs` full collections. */
function fullGcCpuMs(): number {
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c = process.cpuUsage();
    gc();
    const d = process.cpuUsage(c);
    out.push((d.user + d.system) / 1000);
  }
  out.sort((a, b) => a - b);
  return out[Math.floor(out.length / 2)]!;
}

try {
  const seeder = Seeder.open(work);
  const us = await seeder.users(users);
  const pairs: Array<(typeof us)[number][]> = [];
  for (let i = 0; i < users; i++) for (let j = i + 1; j < users; j++) pairs.push([us[i]!, us[j]!]);
  await seeder.chats('direct', pairs);
  await seeder.close();

  const store = new SqliteStore({ path: join(work, 'parley.db') });
  gc();
  const emptyMs = fullGcCpuMs();
  const heap0 = process.memoryUsage().heapUsed;
  const directory = new Directory(store);
  const t0 = performance.now();
  const chats = await directory.preload();
  const loadMs = performance.now() - t0;
  gc();
  const heap = process.memoryUsage().heapUsed - heap0;
  const heldMs = fullGcCpuMs();
  console.log(`Membership directory on ${users} users, ${chats.toLocaleString('en-US')} direct chats\n`);
  console.log('| heap held | bytes per chat | preload ms | full GC CPU ms, empty | full GC CPU ms, held |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| ${(heap / 1048576).toFixed(1)} MiB | ${Math.round(heap / chats)} | ${Math.round(loadMs)} | ${emptyMs.toFixed(1)} | ${heldMs.toFixed(1)} |`,
  );
  if (directory.size.chats !== chats) throw new Error('the directory lost entries while measured');
  await store.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
