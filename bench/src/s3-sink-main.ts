/**
 * The bench's in-memory S3 endpoint (s3-sink.ts) as a process of its own, so its CPU is
 * neither the node's nor the client's: `node bench/dist/src/s3-sink-main.js [--port N]
 * [--host H] [--bucket parley-test] [--max-bytes 2147483648]`. It accepts the access key id in
 * AWS_ACCESS_KEY_ID (the bench's own when unset) and, once listening, prints
 * `{"url","bucket","maxBytes","pid"}` as one JSON line on stdout. It stops on SIGTERM or
 * SIGINT, and when the process that forked it goes away; over IPC, 'stats' answers its counters.
 */
import { DEFAULT_MAX_BYTES, startS3Sink } from './s3-sink.js';
import { BENCH_S3_CREDENTIALS, type S3SinkStats } from './s3-sink-proc.js';
import { positiveArg } from './util.js';

function stringArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (!v || v.startsWith('--')) throw new Error(`--${name} takes a value`);
  return v;
}

const bucket = stringArg('bucket', 'parley-test');
const maxBytes = positiveArg('max-bytes', DEFAULT_MAX_BYTES);
const sink = await startS3Sink({
  accessKeyId: process.env.AWS_ACCESS_KEY_ID || BENCH_S3_CREDENTIALS.accessKeyId,
  bucket,
  maxBytes,
  host: stringArg('host', '127.0.0.1'),
  port: process.argv.includes('--port') ? positiveArg('port', 1) : 0,
});

const stop = () => void sink.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
process.on('message', (m: { type?: string }) => {
  if (m?.type !== 'stats') return;
  const stats: S3SinkStats = {
    requests: sink.requests,
    heldBytes: sink.held,
    internalErrors: sink.internalErrors,
  };
  process.send?.({ type: 'stats', ...stats });
});
process.stdout.write(`${JSON.stringify({ url: sink.url, bucket, maxBytes, pid: process.pid })}\n`);
