/**
 * Resumable media uploads over tus 1.0 (`/v1/uploads`, protocol.md §2.4a): the body goes in
 * chunks from the server's offset; after a dropped connection the uploader asks the offset
 * (HEAD) and goes on, and an upload URL kept in `resume` lets a later run (after a crash or
 * a kill) continue where the server got to instead of starting again. With `checksum`, each
 * chunk carries its SHA-256 (`Upload-Checksum`), so the server writes no damaged chunk; by
 * default it does not, since the server checks the whole body's SHA-256 before it keeps it
 * and a per-chunk check makes it hold every chunk aside first. The body is read
 * through `source.read`, so a 2 GB file never sits in memory. Browser-safe.
 */
import { ParleyError } from '@parley/protocol';
import { ownBytes } from './crypto/bytes.js';
import type { MediaClass } from './crypto/media-type.js';
import { errorFromResponse, type HttpOptions, mediaIdOf } from './http.js';
import type { Credentials } from './types.js';
import { apiUrl, normalizeServerUrl } from './urls.js';

/** What to upload: its bytes, or a reader of them with their size and SHA-256 (hex). */
export type UploadSource =
  | Uint8Array
  | { size: number; sha256: string; read(offset: number, length: number): Promise<Uint8Array> };

/** Where unfinished uploads' URLs are kept between runs, by the body's SHA-256. */
export interface UploadResumeStore {
  get(mediaId: string): Promise<string | undefined>;
  set(mediaId: string, url: string): Promise<void>;
  delete(mediaId: string): Promise<void>;
}

export interface ResumableUploadOptions extends HttpOptions {
  mediaClass?: MediaClass;
  /**
   * Bytes a PATCH carries. Default: what the server suggests for its store
   * (`Upload-Chunk-Bytes`, e.g. 64 MiB with media in S3, whose parts then go up several at
   * a time), else 4 MiB.
   */
  chunkBytes?: number;
  /** After each chunk the server confirmed: bytes it holds so far, and the whole size. */
  onProgress?: (sent: number, total: number) => void;
  /** Stops the upload (the server keeps what it has, for a later run to resume). */
  signal?: AbortSignal;
  resume?: UploadResumeStore;
  /** Times a failed chunk is tried again (after asking the server its offset); default 5. */
  retries?: number;
  /**
   * Send each chunk's SHA-256 (tus checksum extension), so a chunk damaged on the way is
   * refused (460) and sent again instead of failing the whole body's digest at the end. It
   * costs the server a second pass over each chunk: about half the upload rate on loopback.
   * Default false.
   */
  checksum?: boolean;
}

const TUS = { 'tus-resumable': '1.0.0' };
const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
/** A server's suggested chunk size is taken between these bounds. */
const MIN_SUGGESTED_CHUNK = 256 * 1024;
const MAX_SUGGESTED_CHUNK = 256 * 1024 * 1024;

/**
 * Node's fetch copies a whole array body before it sends the first byte (measured: about
 * 10 ms a MiB on a busy 2-core machine, as long as the transfer itself), while a stream body
 * goes out at once; so on Node a chunk goes as a one-piece stream. Browsers keep the array:
 * most stream a request body only over HTTP/2.
 */
const STREAM_BODIES =
  typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string';

/** The PATCH body and the headers it needs for one chunk. */
function chunkBody(bytes: Uint8Array): {
  body: RequestInit['body'];
  headers: Record<string, string>;
  duplex?: 'half';
} {
  if (!STREAM_BODIES) return { body: bytes as Uint8Array<ArrayBuffer>, headers: {} };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return { body, headers: { 'content-length': String(bytes.length) }, duplex: 'half' };
}

/** The server's Upload-Chunk-Bytes, when it is a whole number of bytes within the bounds. */
function suggestedChunk(res: Response): number | undefined {
  const raw = res.headers.get('upload-chunk-bytes');
  if (raw === null || !/^[0-9]{1,10}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= MIN_SUGGESTED_CHUNK && n <= MAX_SUGGESTED_CHUNK ? n : undefined;
}
const b64 = (text: string) => btoa(text);

/** The chunk's Upload-Checksum digest (tus checksum extension): SHA-256, base64. */
async function sha256Base64(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', ownBytes(bytes)));
  let s = '';
  for (const x of digest) s += String.fromCharCode(x);
  return btoa(s);
}

export async function uploadMediaResumable(
  credentials: Credentials,
  source: UploadSource,
  options: ResumableUploadOptions = {},
): Promise<{ mediaId: string; size: number; resumedAt: number }> {
  const src =
    source instanceof Uint8Array
      ? {
          size: source.length,
          sha256: await mediaIdOf(source),
          read: async (offset: number, length: number) => source.subarray(offset, offset + length),
        }
      : source;
  if (!/^[0-9a-f]{64}$/.test(src.sha256))
    throw new ParleyError('INVALID_ARGUMENT', 'sha256 is 64 lowercase hex');
  if (!Number.isSafeInteger(src.size) || src.size <= 0)
    throw new ParleyError('INVALID_ARGUMENT', 'an upload has at least one byte');
  if (
    options.chunkBytes !== undefined &&
    (!Number.isSafeInteger(options.chunkBytes) || options.chunkBytes <= 0)
  )
    throw new ParleyError('INVALID_ARGUMENT', 'chunkBytes > 0');
  let chunk = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  /** Takes the server's suggestion unless the caller chose a size. */
  const suggested = (res: Response) => {
    if (options.chunkBytes === undefined) chunk = suggestedChunk(res) ?? DEFAULT_CHUNK_BYTES;
  };
  const doFetch = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const auth = { authorization: `Bearer ${credentials.token}` };
  const send = async (url: string, init: RequestInit): Promise<Response> => {
    options.signal?.throwIfAborted();
    try {
      return await doFetch(url, { ...init, ...(options.signal && { signal: options.signal }) });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw new ParleyError('UNAVAILABLE', `cannot reach ${normalizeServerUrl(credentials.serverUrl)}`, {
        cause: err,
      });
    }
  };
  /** The server's offset of an upload, or undefined when it is gone (expired, finished, refused). */
  const offsetOf = async (url: string): Promise<number | undefined> => {
    let res = await send(url, { method: 'HEAD', headers: { ...TUS, ...auth } });
    // 423: a PATCH of this upload is still being written on another node (one this client
    // lost the connection of ends by the server's body timeout); ask again a little later.
    for (let wait = 1000; res.status === 423 && wait <= 16_000; wait *= 2) {
      await new Promise((r) => setTimeout(r, wait));
      res = await send(url, { method: 'HEAD', headers: { ...TUS, ...auth } });
    }
    if (res.status === 404 || res.status === 410) return undefined;
    if (!res.ok) throw await errorFromResponse(res);
    suggested(res);
    const offset = Number(res.headers.get('upload-offset'));
    return Number.isSafeInteger(offset) && offset >= 0 && offset <= src.size ? offset : undefined;
  };

  let url = await options.resume?.get(src.sha256);
  let offset = url ? await offsetOf(url) : undefined;
  if (offset === undefined) {
    const res = await send(apiUrl(credentials.serverUrl, '/v1/uploads'), {
      method: 'POST',
      headers: {
        ...TUS,
        ...auth,
        'upload-length': String(src.size),
        'upload-metadata': `sha256 ${b64(src.sha256)},class ${b64(options.mediaClass ?? 'document')}`,
      },
    });
    if (res.status !== 201) throw await errorFromResponse(res);
    suggested(res);
    const location = res.headers.get('location');
    if (!location) throw new ParleyError('INTERNAL', 'the server created an upload without a location');
    url = new URL(location, apiUrl(credentials.serverUrl, '/v1/uploads')).toString();
    await options.resume?.set(src.sha256, url);
    offset = 0;
  }
  const resumedAt = offset;
  options.onProgress?.(offset, src.size);
  let failures = 0;
  for (;;) {
    const length = Math.min(chunk, src.size - offset);
    const bytes = await src.read(offset, length);
    let res: Response;
    // A chunk that another PATCH raced (409, 423) or that arrived damaged (460) goes again
    // from the server's offset.
    let again = false;
    try {
      const { body, headers, duplex } = chunkBody(bytes);
      res = await send(url!, {
        method: 'PATCH',
        headers: {
          ...TUS,
          ...auth,
          ...headers,
          'content-type': 'application/offset+octet-stream',
          'upload-offset': String(offset),
          ...(options.checksum && { 'upload-checksum': `sha256 ${await sha256Base64(bytes)}` }),
        },
        body,
        ...(duplex && { duplex }),
      } as RequestInit);
      again = res.status === 409 || res.status === 423 || res.status === 460;
      if (res.status !== 204) throw await errorFromResponse(res);
    } catch (err) {
      const retryable = again || (err instanceof ParleyError && (err.retryable || err.code === 'INTERNAL'));
      if (
        err instanceof ParleyError &&
        ['DIGEST_MISMATCH', 'PAYLOAD_TOO_LARGE', 'NOT_FOUND'].includes(err.code)
      )
        await options.resume?.delete(src.sha256); // nothing left to resume
      if (!retryable || ++failures > (options.retries ?? 5)) throw err;
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** failures, 5000)));
      const now = await offsetOf(url!);
      if (now === undefined)
        throw new ParleyError('NOT_FOUND', 'the upload is gone from the server; start again');
      offset = now;
      continue;
    }
    failures = 0;
    offset = Number(res.headers.get('upload-offset'));
    options.onProgress?.(offset, src.size);
    if (offset >= src.size) {
      const mediaId = res.headers.get('upload-media-id');
      await options.resume?.delete(src.sha256);
      if (mediaId !== src.sha256)
        throw new ParleyError('INTERNAL', 'the server did not name the stored body');
      return { mediaId, size: src.size, resumedAt };
    }
  }
}
