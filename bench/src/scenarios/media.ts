/**
 * media: one 200 MB file (random bytes, read from disk a chunk at a time) uploaded resumably
 * (tus, as the SDK does, in chunks of the size the server suggests: 8 MiB on local disk, 64 MiB
 * with S3) and downloaded back (streamed and hashed) on loopback, once to warm up and then three
 * times, on each media store: local disk, and S3 when PARLEY_BENCH_S3_ENDPOINT names an S3-compatible
 * endpoint (bucket PARLEY_BENCH_S3_BUCKET, default parley-test; credentials from the usual
 * AWS_* variables; the node's s3PartsInFlight from PARLEY_BENCH_S3_PARTS_IN_FLIGHT, default the
 * node's own). PARLEY_BENCH_S3_ENDPOINT=memory starts the bench's in-memory S3 endpoint
 * (s3-sink.ts) in a process of its own instead, so the node's S3 path is measured without a
 * storage service as its limit; the node gets fixed bench credentials when AWS_* are unset.
 * PARLEY_BENCH_MEDIA_STORES=s3 (or local) measures one store only. Measured: MB/s each way
 * (the median of the three transfers after the first) and the server's RSS growth over its idle
 * RSS (sampled every 20 ms, the first transfer included), against the targets of ≥ 200 MB/s and
 * ≤ 64 MB. The first transfer into a fresh node is reported on its own: on this kind of virtual
 * machine the first I/O into memory a process has not used before is several times slower
 * (reading a file into a new 64 MiB buffer: ~100 ms, into the same buffer again: ~5 ms), and in
 * the first transfer the client, the node and the in-memory endpoint all pay it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { uploadMediaResumable } from '@parley/sdk';
import type { Rig } from '../rig.js';
import { BENCH_S3_CREDENTIALS, type S3SinkProcess, type S3SinkStats } from '../s3-sink-proc.js';
import type { ServerHandle } from '../server-proc.js';
import type { Figure, ScenarioOutput } from '../types.js';
import { fmt, median, sleep } from '../util.js';

const MB = 1_000_000;

/** Writes `size` random bytes to `path`; returns their SHA-256 (hex). */
async function randomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let left = size; left > 0; ) {
    const part = randomBytes(Math.min(left, 4 * 1024 * 1024));
    hash.update(part);
    if (!out.write(part)) await once(out, 'drain');
    left -= part.length;
  }
  out.end();
  await once(out, 'finish');
  // On disk before the first run, so that run does not share the disk with this file's writeback.
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/** Samples the server's RSS until stopped; the highest seen. */
function rssWatch(server: ServerHandle): { stop(): number } {
  let max = server.sample()?.rssKiB ?? 0;
  const timer = setInterval(() => {
    max = Math.max(max, server.sample()?.rssKiB ?? 0);
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, server.sample()?.rssKiB ?? 0);
    },
  };
}

/** The stores to measure: PARLEY_BENCH_MEDIA_STORES (local,s3), else local and S3 when it has an endpoint. */
function mediaStores(setting: string | undefined, endpoint: string | undefined): Array<'local' | 's3'> {
  if (!setting) return endpoint ? ['local', 's3'] : ['local'];
  const stores = setting.split(',').map((s) => s.trim());
  for (const s of stores)
    if (s !== 'local' && s !== 's3') throw new Error(`PARLEY_BENCH_MEDIA_STORES: ${s} is not local or s3`);
  if (stores.includes('s3') && !endpoint)
    throw new Error('PARLEY_BENCH_MEDIA_STORES names s3 but PARLEY_BENCH_S3_ENDPOINT is not set');
  return stores as Array<'local' | 's3'>;
}

/**
 * The S3 endpoint the node uses: PARLEY_BENCH_S3_ENDPOINT, or with `memory` the bench's own
 * in-memory endpoint, started now, with fixed bench credentials for the node when the AWS_*
 * variables are unset.
 */
async function s3Endpoint(
  rig: Rig,
  setting: string,
  bucket: string,
): Promise<{ url: string; sink?: S3SinkProcess; env?: Record<string, string> }> {
  if (setting !== 'memory') return { url: setting };
  const own = process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY;
  const creds = own
    ? { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY! }
    : BENCH_S3_CREDENTIALS;
  const sink = await rig.s3Sink({ bucket, accessKeyId: creds.accessKeyId });
  const env = own
    ? undefined
    : { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey };
  return { url: sink.url, sink, ...(env && { env }) };
}

export async function media(rig: Rig): Promise<ScenarioOutput> {
  const size = rig.opts.quick ? 20 * MB : 200 * MB;
  const reps = rig.opts.quick ? 1 : 3;
  // One transfer before the measured ones (none in a quick run): see the module's comment.
  const warmups = rig.opts.quick ? 0 : 1;
  const endpoint = process.env.PARLEY_BENCH_S3_ENDPOINT;
  const stores = mediaStores(process.env.PARLEY_BENCH_MEDIA_STORES, endpoint);
  const partsInFlight = process.env.PARLEY_BENCH_S3_PARTS_IN_FLIGHT;
  if (partsInFlight !== undefined && !/^\d{1,2}$/.test(partsInFlight))
    throw new Error(`PARLEY_BENCH_S3_PARTS_IN_FLIGHT: ${partsInFlight} is not a whole number (1 to 64)`);
  const bucket = process.env.PARLEY_BENCH_S3_BUCKET ?? 'parley-test';
  const file = join(rig.dataDir(), 'media.bin');
  const sha256 = await randomFile(file, size);
  const fh = await open(file, 'r');
  // One buffer for every chunk: the SDK is done with a chunk (its PATCH answered) before it
  // asks for the next. A new 8 MiB buffer a chunk set off a full collection in this process
  // every few chunks (they count as external memory), and the client sent nothing meanwhile;
  // the SDK's own path sends views of a body it holds, allocating nothing a chunk.
  let chunkBuffer: Buffer | undefined;
  const source = {
    size,
    sha256,
    async read(offset: number, length: number) {
      if (!chunkBuffer || chunkBuffer.length < length) chunkBuffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await fh.read(chunkBuffer, 0, length, offset);
      return chunkBuffer.subarray(0, bytesRead);
    },
  };
  let sink: S3SinkProcess | undefined;
  let sinkUse: { cpuSec: number; stats: S3SinkStats | undefined } | undefined;
  const figures: Figure[] = [];
  const rows: string[][] = [];
  const notes: string[] = [];
  try {
    for (const store of stores) {
      const dir = rig.dataDir();
      const seeder = await rig.seeder(dir);
      const [user] = await seeder.users(1);
      await seeder.close();
      const prefix = `bench-${randomBytes(4).toString('hex')}`;
      const s3 = store === 's3' ? await s3Endpoint(rig, endpoint!, bucket) : undefined;
      if (s3?.sink) sink = s3.sink;
      // Figures against the in-memory endpoint must not pass for a real S3 service's.
      const label = s3?.sink ? 's3 (in-memory endpoint)' : store;
      const server = await rig.server(dir, {
        config: {
          mediaBytesPerHour: 1024 ** 4,
          ...(s3 && {
            media: `s3://${bucket}/${prefix}`,
            s3Endpoint: s3.url,
            s3ForcePathStyle: true,
            ...(partsInFlight && { s3PartsInFlight: Number(partsInFlight) }),
          }),
        },
        ...(s3 && { env: s3.env }),
      });
      await sleep(1000);
      const idleKiB = server.sample()?.rssKiB ?? 0;
      const creds = {
        serverUrl: server.url,
        token: user!.token,
        userId: user!.userId,
        deviceId: user!.deviceId,
        primary: true,
      };
      const up: number[] = [];
      const down: number[] = [];
      const firstUp: number[] = [];
      const firstDown: number[] = [];
      let peakKiB = idleKiB;
      // CPU seconds of the node, the in-memory endpoint (when it runs) and this client.
      const faults = () => server.sample()?.minorFaults ?? 0;
      const cpu = () => ({
        node: server.sample()?.cpuSec ?? 0,
        endpoint: s3?.sink?.cpuSec() ?? 0,
        client: process.cpuUsage(),
      });
      for (let r = 0; r < warmups + reps; r++) {
        let watch = rssWatch(server);
        const faults0 = faults();
        const cpu0 = cpu();
        let t0 = performance.now();
        const done = await uploadMediaResumable(creds, source, { mediaClass: 'video' });
        const upSec = (performance.now() - t0) / 1000;
        const cpu1 = cpu();
        const faults1 = faults();
        const clientUs = process.cpuUsage(cpu0.client);
        const upCpu = [
          cpu1.node - cpu0.node,
          ...(s3?.sink ? [cpu1.endpoint - cpu0.endpoint] : []),
          (clientUs.user + clientUs.system) / 1e6,
        ];
        peakKiB = Math.max(peakKiB, watch.stop());
        if (done.mediaId !== sha256) throw new Error('the upload stored another digest');

        watch = rssWatch(server);
        t0 = performance.now();
        const res = await fetch(`${server.url}/v1/media/${sha256}`, {
          headers: { authorization: `Bearer ${user!.token}` },
        });
        const hash = createHash('sha256');
        let got = 0;
        for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
          hash.update(part);
          got += part.length;
        }
        const downSec = (performance.now() - t0) / 1000;
        const faults2 = faults();
        peakKiB = Math.max(peakKiB, watch.stop());
        if (got !== size || hash.digest('hex') !== sha256) throw new Error('the download differs');
        const first = r < warmups;
        const [upRate, downRate] = [size / MB / upSec, size / MB / downSec];
        (first ? firstUp : up).push(upRate);
        (first ? firstDown : down).push(downRate);
        const run = first ? 'first (not in the median)' : String(r - warmups + 1);
        rows.push([
          label,
          run,
          fmt(size / MB),
          fmt(upRate, 1),
          fmt(downRate, 1),
          upCpu.map((c) => fmt(c, 2)).join(' / '),
          `${fmt((faults1 - faults0) / 1000, 1)} / ${fmt((faults2 - faults1) / 1000, 1)}`,
        ]);
        rig.say(`  ${label} run ${run}: up ${fmt(upRate, 1)} MB/s, down ${fmt(downRate, 1)} MB/s`);
      }
      const growthMB = ((peakKiB - idleKiB) * 1024) / MB;
      rows.push([
        label,
        'RSS',
        '',
        `idle ${fmt((idleKiB * 1024) / MB, 1)} MB`,
        `peak +${fmt(growthMB, 1)} MB`,
        '',
        '',
      ]);
      figures.push(
        {
          name: `${label}: upload (tus, chunks of the size the server suggests), median of ${reps}${warmups ? ' after the first' : ''}`,
          value: median(up),
          unit: 'MB/s',
          digits: 1,
          target: { op: '>=', value: 200 },
        },
        {
          name: `${label}: download (streamed), median of ${reps}${warmups ? ' after the first' : ''}`,
          value: median(down),
          unit: 'MB/s',
          digits: 1,
          target: { op: '>=', value: 200 },
        },
        ...(warmups > 0
          ? [
              {
                name: `${label}: the first transfer into a fresh node, upload (not in the median)`,
                value: median(firstUp),
                unit: 'MB/s',
                digits: 1,
              },
              {
                name: `${label}: the first transfer into a fresh node, download (not in the median)`,
                value: median(firstDown),
                unit: 'MB/s',
                digits: 1,
              },
            ]
          : []),
        {
          name: `${label}: server RSS growth over idle while transferring`,
          value: growthMB,
          unit: 'MB',
          digits: 1,
          target: { op: '<=', value: 64 },
        },
      );
      await rig.stopServer(server);
      if (s3?.sink) {
        const stats = await s3.sink.stats();
        await rig.closeS3Sink(s3.sink);
        sinkUse = { cpuSec: s3.sink.cpuSec(), stats };
      }
    }
  } finally {
    await fh.close();
    await rm(file, { force: true });
  }
  if (!endpoint)
    notes.push(
      'S3 was not measured: set PARLEY_BENCH_S3_ENDPOINT to an S3-compatible endpoint, or to memory for the bench’s in-memory one.',
    );
  else if (stores.includes('s3'))
    // The settings above are the bench's base; these are the S3 node's own.
    notes.push(
      `S3: ${sink ? sink.url : endpoint}, bucket ${bucket}, s3PartsInFlight=${partsInFlight ?? '4 (the default)'}.`,
    );
  if (sink) {
    notes.push(
      'The S3 figures were taken against the bench’s in-memory S3 endpoint (bench/src/s3-sink.ts, PARLEY_BENCH_S3_ENDPOINT=memory), not a real S3 service: it holds objects in memory, checks only the access key id (not the SigV4 signature), verifies no checksums and gives unique ETags instead of MD5s.',
    );
    const st = sinkUse?.stats;
    notes.push(
      `The in-memory S3 endpoint ran in its own process: ${fmt(sinkUse?.cpuSec, 2)} CPU-s from its start to its stop (under "everything else" in the CPU table)${st ? `, ${fmt(st.requests)} requests, ${fmt(st.heldBytes / MB, 1)} MB held at the end, ${st.internalErrors} internal errors` : ''}.`,
    );
  }
  notes.push(
    'The client (this process) reads the file from disk and hashes the download; it shares the two cores with the server.',
    'Upload CPU-s: what each process used while the upload ran. The in-memory endpoint keeps every object in memory, so it pays for memory it has not used before until a later upload replaces an earlier one; a real S3 service does that work on its own machines.',
    "Node page faults: the server's minor page faults (pages the kernel mapped in, most of them zeroed) during each transfer. With glibc's defaults the allocator hands freed buffers back to the kernel and faults them in again; the node's allocator setting (see Settings) keeps them.",
  );
  return {
    figures,
    tables: [
      {
        title: `Media transfers of ${fmt(size / MB)} MB on loopback`,
        head: [
          'store',
          'run',
          'MB',
          'up MB/s',
          'down MB/s',
          'upload CPU-s: node / in-memory endpoint (when it runs) / client',
          'node page faults, thousands: upload / download',
        ],
        rows,
      },
    ],
    notes,
  };
}
