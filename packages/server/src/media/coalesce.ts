/**
 * Joins a request body's socket-sized chunks (64 KiB) into pieces of at least `minBytes`
 * before a tus store writes them: both stores make one file system call per chunk they are
 * given (`@tus/s3-store` an `appendFile` per chunk into its part files, each awaited in turn),
 * so bigger pieces mean fewer calls and fewer waits on the thread pool. `onChunk` sees every
 * chunk as it arrives (the running digest). Holds at most `minBytes` plus one chunk.
 */
import { type Readable, Transform } from 'node:stream';

export const COALESCE_BYTES = 1024 * 1024;

export function coalescer(onChunk?: (chunk: Buffer) => void, minBytes = COALESCE_BYTES): Transform {
  let held: Buffer[] = [];
  let heldBytes = 0;
  const release = (t: Transform) => {
    if (heldBytes === 0) return;
    t.push(held.length === 1 ? held[0] : Buffer.concat(held, heldBytes));
    held = [];
    heldBytes = 0;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onChunk?.(chunk);
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes >= minBytes) release(this);
      callback();
    },
    flush(callback) {
      release(this);
      callback();
    },
  });
}

/** `stream` through a coalescer, an error on it passed on. */
export function coalesced(
  stream: Readable,
  onChunk?: (chunk: Buffer) => void,
  minBytes = COALESCE_BYTES,
): Readable {
  const out = coalescer(onChunk, minBytes);
  stream.on('error', (err) => out.destroy(err));
  return stream.pipe(out);
}
