/**
 * `npm run bench:post`: what posting a batch of sends to a store thread costs, in CPU of the
 * whole process (both threads: the structured clone on one side, its reading on the other),
 * when each payload is a 150-byte view into the buffer of the socket read it was decoded
 * from (each send of a batch from a read of its own, as sends from different sockets are),
 * against the same payload in a buffer of its own (what `ownBuffers` posts,
 * sqlite-worker/worker-store.ts). The clone copies the whole buffer under a view.
 *
 *   npm run bench:post -- [--posts 20000]
 */
import { Worker } from 'node:worker_threads';
import { ownBuffers } from '@parley/server';
import { positiveArg as arg } from './util.js';

const posts = arg('posts', 20_000);

/** The thread answers each batch as the store does: one small result per send. */
const ECHO = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => parentPort.postMessage({ id: m.id,
  result: m.args[0].map((_, i) => ({ ok: true, seq: i, serverTime: 1, duplicate: false })) }));`;

async function run(readBytes: number, batch: number, own: boolean): Promise<number> {
  const worker = new Worker(ECHO, { eval: true });
  // Reads of different sockets: a batch's payloads are views into different buffers.
  const reads = Array.from({ length: 64 }, () => new Uint8Array(readBytes));
  let answered = 0;
  const done = new Promise<void>((resolve) =>
    worker.on('message', () => {
      if (++answered === posts) resolve();
    }),
  );
  const c0 = process.cpuUsage();
  for (let i = 0; i < posts; i++) {
    const items = [];
    for (let k = 0; k < batch; k++) {
      items.push({
        chatId: 'c_b123456',
        senderUserId: 'u_b12',
        senderDeviceId: 'd_b12',
        clientMessageId: `b1-${i}-${k}`,
        serverTime: Date.now(),
        payload: reads[(i * batch + k) % reads.length]!.subarray(150, 300),
        devicePayloads: undefined,
      });
    }
    const args = [items];
    worker.postMessage({ id: i, method: 'messageCommit', args: own ? ownBuffers(args) : args });
    // Let the answers in now and then, as a node's event loop does.
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  await done;
  const cpu = process.cpuUsage(c0);
  await worker.terminate();
  return (cpu.user + cpu.system) / posts;
}

console.log(`Posting a batch of sends to a store thread, ${posts} posts, CPU of both threads\n`);
console.log(
  '| socket read the payloads are views into | sends a post | CPU µs a post, views | CPU µs a post, own buffers |',
);
console.log('|---|---|---|---|');
for (const readBytes of [1024, 8192, 65536]) {
  for (const batch of [1, 5]) {
    const views = await run(readBytes, batch, false);
    const own = await run(readBytes, batch, true);
    console.log(
      `| ${readBytes.toLocaleString('en-US')} B | ${batch} | ${views.toFixed(1)} | ${own.toFixed(1)} |`,
    );
  }
}
