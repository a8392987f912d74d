/**
 * Bodies in and out of the bench S3 endpoint. In: as the Buffers they arrive in (no copy),
 * unframed when sent `aws-chunked`, each byte claimed from the endpoint's memory cap as it
 * comes (a body past the cap is dropped and refused with EntityTooLarge, the rest of it read
 * and discarded so the connection stays usable). Out: a range of a body's Buffers, written as
 * fast as the socket drains.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Body, SinkStore } from './s3-sink-store.js';
import { S3Error } from './s3-sink-wire.js';

/**
 * Decodes an `aws-chunked` body (`<hex size>[;chunk-signature=…]\r\n<data>\r\n`… then a
 * zero-size chunk, trailer lines such as `x-amz-checksum-crc32:…`, and an empty line) as it
 * streams, handing out slices of the chunks it is given (no copy). Chunk signatures and
 * trailer checksums are read, not verified.
 */
export class AwsChunkedDecoder {
  private state: 'size' | 'data' | 'crlf' | 'trailer' | 'done' = 'size';
  private line = '';
  private left = 0;
  /** Trailer fields (lower-case names), once the body has ended. */
  readonly trailers: Record<string, string> = {};

  get done(): boolean {
    return this.state === 'done' || (this.state === 'trailer' && this.line === '');
  }

  /** Feeds one received chunk; `out` gets the decoded data. IncompleteBody when malformed. */
  push(chunk: Buffer, out: (data: Buffer) => void): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'data') {
        const n = Math.min(this.left, chunk.length - i);
        out(chunk.subarray(i, i + n));
        i += n;
        this.left -= n;
        if (this.left === 0) this.state = 'crlf';
        continue;
      }
      if (this.state === 'done') throw this.malformed();
      const nl = chunk.indexOf(10, i);
      const end = nl < 0 ? chunk.length : nl;
      this.line += chunk.toString('latin1', i, end);
      if (this.line.length > 4096) throw this.malformed();
      i = end;
      if (nl < 0) break;
      i++;
      const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
      this.line = '';
      this.lineEnded(line);
    }
  }

  private lineEnded(line: string): void {
    if (this.state === 'crlf') {
      if (line !== '') throw this.malformed();
      this.state = 'size';
    } else if (this.state === 'size') {
      const hex = line.split(';', 1)[0]!.trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw this.malformed();
      this.left = Number.parseInt(hex, 16);
      this.state = this.left === 0 ? 'trailer' : 'data';
    } else if (line === '') this.state = 'done';
    else {
      const colon = line.indexOf(':');
      if (colon <= 0) throw this.malformed();
      this.trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
  }

  private malformed(): S3Error {
    return new S3Error('IncompleteBody', 'The aws-chunked body is malformed.');
  }
}

/** Whether the body is framed aws-chunked (the AWS SDK's streamed bodies with a trailer). */
function isAwsChunked(req: IncomingMessage): boolean {
  return (
    /(^|,)\s*aws-chunked\s*(,|$)/.test(req.headers['content-encoding'] ?? '') ||
    String(req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-')
  );
}

/** A request's body, held; its trailer fields (aws-chunked) beside it. */
export function receiveBody(
  req: IncomingMessage,
  store: SinkStore,
): Promise<{ body: Body; trailers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const decoder = isAwsChunked(req) ? new AwsChunkedDecoder() : undefined;
    const lengthName = decoder ? 'x-amz-decoded-content-length' : 'content-length';
    const lengthHeader = req.headers[lengthName];
    if (lengthHeader !== undefined && !/^\d{1,15}$/.test(String(lengthHeader)))
      throw new S3Error('InvalidArgument', `Invalid ${lengthName}`);
    const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
    const chunks: Buffer[] = [];
    let size = 0;
    let failed: S3Error | undefined;
    const fail = (err: S3Error) => {
      failed = err;
      store.unclaim(size);
      chunks.length = 0;
    };
    const tooLarge = () =>
      new S3Error('EntityTooLarge', `The bench S3 endpoint holds at most ${store.maxBytes} bytes in memory`, {
        ProposedSize: declared ?? size,
        MaxSizeAllowed: store.maxBytes,
      });
    if (store.held + (declared ?? 0) > store.maxBytes) fail(tooLarge());
    const keep = (b: Buffer) => {
      if (failed) return;
      if (!store.claim(b.length)) return fail(tooLarge());
      chunks.push(b);
      size += b.length;
    };
    req.on('data', (c: Buffer) => {
      if (failed) return;
      if (!decoder) return keep(c);
      try {
        decoder.push(c, keep);
      } catch (err) {
        fail(err as S3Error);
      }
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (!failed && decoder && (!decoder.done || (declared !== undefined && size !== declared)))
        fail(new S3Error('IncompleteBody'));
      if (failed) reject(failed);
      else resolve({ body: store.body(chunks, size), trailers: decoder?.trailers ?? {} });
    });
    req.on('close', () => {
      if (ended) return;
      if (!failed) fail(new S3Error('IncompleteBody'));
      reject(failed);
    });
  });
}

/** A small XML request body as text (read, not held). */
export async function receiveXml(req: IncomingMessage, store: SinkStore): Promise<string> {
  const { body } = await receiveBody(req, store);
  store.release(body);
  if (body.size > 4 * 1024 * 1024) throw new S3Error('MalformedXML');
  return Buffer.concat(body.chunks as Buffer[]).toString('utf8');
}

/** Writes bytes start..end (inclusive) of a body, waiting for the socket to drain, and ends. */
export async function sendBody(res: ServerResponse, body: Body, start: number, end: number): Promise<void> {
  let at = 0;
  for (const c of body.chunks) {
    const from = at;
    at += c.length;
    if (at <= start) continue;
    if (from > end) break;
    const slice = c.subarray(Math.max(0, start - from), Math.min(c.length, end + 1 - from));
    if (!res.write(slice) && !(await drained(res))) return;
  }
  res.end();
}

/** Resolves true on 'drain', false if the response closed first. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
