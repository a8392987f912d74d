/**
 * Parent side of the in-memory S3 endpoint: forks s3-sink-main, reads the URL it prints,
 * reads its CPU from /proc (proc.ts) and its counters over IPC, and stops it (SIGKILL after a
 * grace period).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { procSample } from './proc.js';
import { withDeadline } from './util.js';

/**
 * Credentials for a node that talks to the endpoint when none are set: the endpoint checks
 * only the key id, so these open nothing else.
 */
export const BENCH_S3_CREDENTIALS = {
  accessKeyId: 'parleybench',
  secretAccessKey: 'parleybench-not-a-secret',
} as const;

export interface S3SinkStats {
  requests: number;
  heldBytes: number;
  /** Requests the endpoint failed with 500 (a fault of the endpoint, not of the node). */
  internalErrors: number;
}

export interface S3SinkProcess {
  /** http://127.0.0.1:<port> */
  url: string;
  bucket: string;
  pid: number;
  /** CPU seconds (user + system) the process used so far, or until it stopped. */
  cpuSec(): number;
  /** Its counters; undefined if it does not answer. */
  stats(): Promise<S3SinkStats | undefined>;
  close(): Promise<void>;
}

const mainPath = fileURLToPath(new URL('./s3-sink-main.js', import.meta.url));

export async function startS3SinkProcess(o: {
  bucket: string;
  accessKeyId: string;
  maxBytes?: number;
}): Promise<S3SinkProcess> {
  const args = ['--bucket', o.bucket, ...(o.maxBytes ? ['--max-bytes', String(o.maxBytes)] : [])];
  const child: ChildProcess = fork(mainPath, args, {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, AWS_ACCESS_KEY_ID: o.accessKeyId },
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  let line: string;
  try {
    line = await withDeadline(
      new Promise<string>((res, rej) => {
        let seen = '';
        child.stdout!.on('data', (c: Buffer) => {
          seen += c.toString('utf8');
          const nl = seen.indexOf('\n');
          if (nl >= 0) res(seen.slice(0, nl));
        });
        void exited.then((code) => rej(new Error(`the S3 sink exited with ${code} before listening`)));
      }),
      15_000,
      'S3 sink start',
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const { url } = JSON.parse(line) as { url: string };
  const pid = child.pid!;
  let cpuSec = procSample(pid)?.cpuSec ?? 0;
  const sample = () => {
    cpuSec = procSample(pid)?.cpuSec ?? cpuSec;
    return cpuSec;
  };
  return {
    url,
    bucket: o.bucket,
    pid,
    cpuSec: sample,
    stats: () =>
      new Promise<S3SinkStats | undefined>((res) => {
        if (!child.connected) return res(undefined);
        const timer = setTimeout(() => {
          child.off('message', on);
          res(undefined);
        }, 2000);
        const on = (m: S3SinkStats & { type?: string }) => {
          if (m?.type !== 'stats') return;
          clearTimeout(timer);
          child.off('message', on);
          res({ requests: m.requests, heldBytes: m.heldBytes, internalErrors: m.internalErrors });
        };
        child.on('message', on);
        child.send({ type: 'stats' });
      }),
    async close() {
      sample();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      try {
        await withDeadline(exited, 5000, 'S3 sink stop');
      } catch {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
