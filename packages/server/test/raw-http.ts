/**
 * Raw HTTP over a TCP socket for the edge tests: exact bytes out (in pieces, with pauses), and
 * what came back (the first response, parsed) and whether the server closed the connection.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';

export interface RawAnswer {
  /** Status of the first response; undefined when nothing came back. */
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  /** The server closed (or reset) the connection before `waitMs` after the last piece. */
  closed: boolean;
  /** Milliseconds from connecting to the close (or to giving up). */
  elapsedMs: number;
}

export interface RawOptions {
  /** Pause between pieces. */
  gapMs?: number;
  /** How long to wait for the server after the last piece. */
  waitMs?: number;
  /** Stop sending once the server closed (a slow sender being cut off). */
  stopWhenClosed?: boolean;
}

export function rawExchange(
  port: number,
  pieces: ReadonlyArray<string | Buffer>,
  opts: RawOptions = {},
): Promise<RawAnswer> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let closed = false;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseResponse(Buffer.concat(received)), closed, elapsedMs: Date.now() - started });
    };
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => {
      closed = true;
      finish();
    });
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.once('connect', async () => {
      for (const piece of pieces) {
        if (done || (opts.stopWhenClosed && closed)) break;
        socket.write(piece);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (!done) timer = setTimeout(finish, opts.waitMs ?? 5000);
    });
  });
}

function parseResponse(raw: Buffer): Pick<RawAnswer, 'status' | 'headers' | 'body'> {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1];
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: status ? Number(status) : undefined, headers, body: end < 0 ? '' : text.slice(end + 4) };
}

/** A request with `Connection: close` and, when given, a JSON body with its exact length. */
export function request(method: string, target: string, body?: unknown, headers: string[] = []): string {
  const text = body === undefined ? '' : JSON.stringify(body);
  return [
    `${method} ${target} HTTP/1.1`,
    'Host: parley.test',
    'Connection: close',
    ...(body === undefined
      ? []
      : ['Content-Type: application/json', `Content-Length: ${Buffer.byteLength(text)}`]),
    ...headers,
    '',
    text,
  ].join('\r\n');
}

/** A PROXY protocol v2 header (PROXY command, TCP over IPv4) naming `source` as the client. */
export function proxyV2(source: string, destination = '127.0.0.1'): Buffer {
  const signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const addresses = Buffer.alloc(12);
  Buffer.from(source.split('.').map(Number)).copy(addresses, 0);
  Buffer.from(destination.split('.').map(Number)).copy(addresses, 4);
  addresses.writeUInt16BE(40_000, 8);
  addresses.writeUInt16BE(8080, 10);
  return Buffer.concat([signature, Buffer.from([0x21, 0x11, 0x00, 12]), addresses]);
}

/** Uploads `size` random bytes as media; returns its id (the SHA-256). */
export async function uploadMedia(url: string, token: string, size: number): Promise<string> {
  const body = randomBytes(size);
  const id = createHash('sha256').update(body).digest('hex');
  const put = await fetch(`${url}/v1/media/${id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}` },
    body,
  });
  if (put.status !== 201) throw new Error(`upload failed: ${put.status}`);
  return id;
}

/** Starts downloading media `id` and destroys the socket on the first bytes of the answer. */
export function cancelDownload(port: number, id: string, token: string): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () =>
      s.write(request('GET', `/v1/media/${id}`, undefined, [`Authorization: Bearer ${token}`])),
    );
    s.once('data', () => {
      s.destroy();
      resolve();
    });
    s.on('error', () => resolve());
  });
}
