/**
 * An S3-compatible endpoint for the media benchmark, holding everything in memory, so that a
 * node's S3 path can be measured without a storage service as its limit. HTTP/1.1, path-style
 * (`http://127.0.0.1:<port>/<bucket>/<key>`); it answers the calls the node, @tus/s3-store and
 * the S3 test suites make as S3 does (status, headers, XML, S3's error codes): buckets (create,
 * head, delete, list), PutObject, GetObject and HeadObject (with Range), CopyObject,
 * DeleteObject(s), ListObjectsV2 and multipart uploads (create, upload part, list parts,
 * complete, abort, list uploads).
 *
 * Not what S3 does, on purpose, for speed on a shared machine:
 * - SigV4 is not verified: a request must name the configured access key id (Authorization
 *   header or presigned X-Amz-Credential), else 403, but its signature is not checked.
 * - ETags are unique, not MD5s; Content-MD5 and flexible checksums (x-amz-checksum-* headers
 *   or aws-chunked trailers) are accepted and echoed, not verified.
 * - Memory is bounded: past `maxBytes` held, a body is refused with 400 EntityTooLarge.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listMultipartUploads, listObjectsV2, listParts, OWNER } from './s3-sink-listing.js';
import {
  type Attributes,
  type Body,
  BUCKET_NAME,
  type Bucket,
  SinkStore,
  wholeSeconds,
} from './s3-sink-store.js';
import {
  AwsChunkedDecoder,
  errorDocument,
  parseComplete,
  parseDelete,
  parseRange,
  S3_ERRORS,
  S3Error,
  unquote,
  type XmlTree,
  xmlDocument,
} from './s3-sink-wire.js';

/** S3's smallest part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;

export interface S3SinkOptions {
  /** The access key id requests must name. */
  accessKeyId: string;
  /** A bucket created at start (more can be created with CreateBucket). */
  bucket: string;
  /** Bytes held at most (bodies stored and arriving); default 2 GiB. */
  maxBytes?: number;
  host?: string;
  port?: number;
}

export interface S3Sink {
  /** http://host:port */
  url: string;
  /** Bytes held now. */
  readonly held: number;
  readonly requests: number;
  /** Requests that failed inside the endpoint (500 InternalError); each is also printed. */
  readonly internalErrors: number;
  close(): Promise<void>;
}

const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-language', 'expires'];
const CHECKSUM = /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/;

function attributesOf(req: IncomingMessage): Attributes {
  const headers: Record<string, string> = {};
  const meta: Record<string, string> = {};
  for (const [name, v] of Object.entries(req.headers)) {
    if (typeof v !== 'string') continue;
    if (name.startsWith('x-amz-meta-')) meta[name.slice(11)] = v;
    else if (STORED_HEADERS.includes(name)) headers[name] = v;
  }
  // aws-chunked is the framing of this request, not an encoding of the object.
  const encoding = (req.headers['content-encoding'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'aws-chunked');
  if (encoding.length) headers['content-encoding'] = encoding.join(', ');
  return { contentType: req.headers['content-type'] ?? 'binary/octet-stream', headers, meta };
}

/** The checksums a request carried (headers or trailers), to echo as S3 does. */
function checksumsOf(req: IncomingMessage, trailers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries({ ...req.headers, ...trailers }))
    if (CHECKSUM.test(name) && typeof v === 'string') out[name] = v;
  return out;
}

export async function startS3Sink(o: S3SinkOptions): Promise<S3Sink> {
  if (!BUCKET_NAME.test(o.bucket)) throw new Error(`${o.bucket} is not a valid S3 bucket name`);
  const store = new SinkStore(o.maxBytes ?? DEFAULT_MAX_BYTES);
  store.createBucket(o.bucket, Date.now());
  let requests = 0;
  let internalErrors = 0;
  let url = '';

  /** A request's body as it arrives, its bytes claimed from the cap as they come. */
  const receive = (req: IncomingMessage) =>
    new Promise<{ body: Body; trailers: Record<string, string> }>((resolve, reject) => {
      const streaming =
        /(^|,)\s*aws-chunked\s*(,|$)/.test(req.headers['content-encoding'] ?? '') ||
        String(req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
      const decoder = streaming ? new AwsChunkedDecoder() : undefined;
      const declared = Number(
        req.headers[streaming ? 'x-amz-decoded-content-length' : 'content-length'] ?? 0,
      );
      const chunks: Buffer[] = [];
      let size = 0;
      let failed: S3Error | undefined;
      const fail = (err: S3Error) => {
        failed = err;
        store.unclaim(size);
        chunks.length = 0;
        size = 0;
      };
      const tooLarge = () =>
        new S3Error(
          'EntityTooLarge',
          `The bench S3 endpoint holds at most ${store.maxBytes} bytes in memory`,
          {
            ProposedSize: declared || size,
            MaxSizeAllowed: store.maxBytes,
          },
        );
      if (store.held + declared > store.maxBytes) fail(tooLarge());
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
        if (!failed && decoder && !decoder.done) fail(new S3Error('IncompleteBody'));
        if (
          !failed &&
          decoder &&
          req.headers['x-amz-decoded-content-length'] !== undefined &&
          size !== declared
        )
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

  /** A small XML request body (not held: released once read). */
  const receiveXml = async (req: IncomingMessage) => {
    const { body } = await receive(req);
    store.release(body);
    if (body.size > 4 * 1024 * 1024) throw new S3Error('MalformedXML');
    return Buffer.concat(body.chunks as Buffer[]).toString('utf8');
  };

  const xml = (res: ServerResponse, root: string, tree: XmlTree, status = 200) => {
    const doc = xmlDocument(root, tree);
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(doc) });
    res.end(doc);
  };

  const bucketOf = (name: string): Bucket => {
    const b = store.buckets.get(name);
    if (!b) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
    return b;
  };

  const uploadOf = (bucket: Bucket, key: string, q: URLSearchParams) => {
    const u = bucket.uploads.get(q.get('uploadId') ?? '');
    if (!u || u.key !== key)
      throw new S3Error('NoSuchUpload', undefined, { UploadId: q.get('uploadId') ?? '' });
    return u;
  };

  async function bucketRequest(req: IncomingMessage, res: ServerResponse, name: string, q: URLSearchParams) {
    const m = req.method;
    if (m === 'PUT' && !q.size) {
      if (!BUCKET_NAME.test(name)) throw new S3Error('InvalidBucketName', undefined, { BucketName: name });
      await receiveXml(req);
      if (!store.createBucket(name, Date.now()))
        throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: name });
      res.writeHead(200, { location: `/${name}`, 'content-length': 0 });
      return res.end();
    }
    const bucket = bucketOf(name);
    if (m === 'HEAD') {
      res.writeHead(200, { 'x-amz-bucket-region': 'us-east-1', 'content-length': 0 });
      return res.end();
    }
    if (m === 'GET' && q.get('list-type') === '2')
      return xml(res, 'ListBucketResult', listObjectsV2(bucket, q));
    if (m === 'GET' && q.has('uploads'))
      return xml(res, 'ListMultipartUploadsResult', listMultipartUploads(bucket, q));
    if (m === 'POST' && q.has('delete')) {
      const h = req.headers;
      if (!h['content-md5'] && !h['x-amz-trailer'] && !Object.keys(h).some((k) => CHECKSUM.test(k)))
        throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
      const { keys, quiet } = parseDelete(await receiveXml(req));
      for (const k of keys) store.deleteObject(bucket, k);
      return xml(res, 'DeleteResult', { Deleted: quiet ? [] : keys.map((Key) => ({ Key })) });
    }
    if (m === 'DELETE' && !q.size) {
      if (bucket.objects.size || bucket.uploads.size)
        throw new S3Error('BucketNotEmpty', undefined, { BucketName: name });
      store.buckets.delete(name);
      res.writeHead(204);
      return res.end();
    }
    throw new S3Error('NotImplemented');
  }

  async function objectRequest(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: Bucket,
    key: string,
    q: URLSearchParams,
  ) {
    const m = req.method;
    const now = Date.now();
    if (m === 'PUT' && q.has('uploadId')) {
      const n = q.get('partNumber') ?? '';
      if (!/^\d{1,5}$/.test(n) || Number(n) < 1 || Number(n) > 10_000)
        throw new S3Error(
          'InvalidArgument',
          'Part number must be an integer between 1 and 10000, inclusive',
          {
            ArgumentName: 'partNumber',
            ArgumentValue: n,
          },
        );
      if (req.headers['x-amz-copy-source']) throw new S3Error('NotImplemented');
      uploadOf(bucket, key, q);
      const { body, trailers } = await receive(req);
      let upload: ReturnType<typeof uploadOf>;
      try {
        upload = uploadOf(bucket, key, q); // it may have been completed or aborted meanwhile
      } catch (err) {
        store.release(body);
        throw err;
      }
      const etag = store.etag();
      store.putPart(upload, { number: Number(n), body, etag, lastModified: wholeSeconds(now) });
      res.writeHead(200, { etag, ...checksumsOf(req, trailers), 'content-length': 0 });
      return res.end();
    }
    if (m === 'PUT' && req.headers['x-amz-copy-source'] !== undefined)
      return copyObject(req, res, bucket, key);
    if (m === 'PUT') {
      const { body, trailers } = await receive(req);
      const etag = store.etag();
      store.putObject(bucket, key, { ...attributesOf(req), body, etag, lastModified: wholeSeconds(now) });
      res.writeHead(200, { etag, ...checksumsOf(req, trailers), 'content-length': 0 });
      return res.end();
    }
    if ((m === 'GET' || m === 'HEAD') && !q.has('uploadId')) return getObject(req, res, bucket, key, q);
    if (m === 'GET') return xml(res, 'ListPartsResult', listParts(bucket, uploadOf(bucket, key, q), q));
    if (m === 'POST' && q.has('uploads')) {
      const u = store.createUpload(bucket, key, attributesOf(req), now);
      return xml(res, 'InitiateMultipartUploadResult', { Bucket: bucket.name, Key: key, UploadId: u.id });
    }
    if (m === 'POST' && q.has('uploadId')) {
      const parts = parseComplete(await receiveXml(req));
      const upload = uploadOf(bucket, key, q);
      for (const [i, p] of parts.entries()) {
        if (i > 0 && p.number <= parts[i - 1]!.number) throw new S3Error('InvalidPartOrder');
        const have = upload.parts.get(p.number);
        if (!have || unquote(have.etag) !== p.etag)
          throw new S3Error('InvalidPart', undefined, {
            UploadId: upload.id,
            PartNumber: p.number,
            ETag: p.etag,
          });
        if (i < parts.length - 1 && have.body.size < MIN_PART_BYTES)
          throw new S3Error('EntityTooSmall', undefined, {
            ProposedSize: have.body.size,
            MinSizeAllowed: MIN_PART_BYTES,
            PartNumber: p.number,
            ETag: p.etag,
          });
      }
      const obj = store.completeUpload(
        bucket,
        upload,
        parts.map((p) => p.number),
        now,
      );
      return xml(res, 'CompleteMultipartUploadResult', {
        Location: `${url}/${bucket.name}/${encodeURIComponent(key)}`,
        Bucket: bucket.name,
        Key: key,
        ETag: obj.etag,
      });
    }
    if (m === 'DELETE' && q.has('uploadId')) {
      store.abortUpload(bucket, uploadOf(bucket, key, q));
      res.writeHead(204);
      return res.end();
    }
    if (m === 'DELETE') {
      store.deleteObject(bucket, key);
      res.writeHead(204);
      return res.end();
    }
    throw new S3Error('NotImplemented');
  }

  function copyObject(req: IncomingMessage, res: ServerResponse, bucket: Bucket, key: string) {
    let source: string;
    try {
      source = decodeURIComponent(String(req.headers['x-amz-copy-source']).split('?')[0]!).replace(/^\//, '');
    } catch {
      throw new S3Error('InvalidArgument', 'Invalid copy source encoding');
    }
    const slash = source.indexOf('/');
    if (slash <= 0 || slash === source.length - 1)
      throw new S3Error(
        'InvalidArgument',
        'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      );
    const fromBucket = bucketOf(source.slice(0, slash));
    const fromKey = source.slice(slash + 1);
    const from = fromBucket.objects.get(fromKey);
    if (!from) throw new S3Error('NoSuchKey', undefined, { Key: fromKey });
    const directive = req.headers['x-amz-metadata-directive'] ?? 'COPY';
    if (directive !== 'COPY' && directive !== 'REPLACE')
      throw new S3Error('InvalidArgument', 'Unknown metadata directive.');
    if (fromBucket === bucket && fromKey === key && directive === 'COPY')
      throw new S3Error(
        'InvalidRequest',
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    const attrs = directive === 'REPLACE' ? attributesOf(req) : from;
    const lastModified = wholeSeconds(Date.now());
    // The copy shares the source's bytes; its ETag is the source's, as S3's for a one-part object.
    store.putObject(bucket, key, {
      contentType: attrs.contentType,
      headers: attrs.headers,
      meta: attrs.meta,
      body: store.share(from.body),
      etag: from.etag,
      lastModified,
    });
    xml(res, 'CopyObjectResult', { LastModified: lastModified.toISOString(), ETag: from.etag });
  }

  async function getObject(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: Bucket,
    key: string,
    q: URLSearchParams,
  ) {
    if (q.has('partNumber')) throw new S3Error('NotImplemented');
    const obj = bucket.objects.get(key);
    if (!obj) throw new S3Error('NoSuchKey', undefined, { Key: key });
    const size = obj.body.size;
    const range = parseRange(req.headers.range, size);
    const headers: Record<string, string | number> = {
      'content-type': obj.contentType,
      etag: obj.etag,
      'last-modified': obj.lastModified.toUTCString(),
      'accept-ranges': 'bytes',
      ...obj.headers,
    };
    for (const [k, v] of Object.entries(obj.meta)) headers[`x-amz-meta-${k}`] = v;
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    headers['content-length'] = end - start + 1;
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || size === 0) return res.end();
    await sendChunks(res, obj.body.chunks, start, end);
  }

  async function route(req: IncomingMessage, res: ServerResponse) {
    const raw = req.url ?? '/';
    const qAt = raw.indexOf('?');
    const path = qAt < 0 ? raw : raw.slice(0, qAt);
    const q = new URLSearchParams(qAt < 0 ? '' : raw.slice(qAt + 1));
    checkAccessKey(req, q, o.accessKeyId);
    if (!path.startsWith('/')) throw new S3Error('InvalidURI');
    const slash = path.indexOf('/', 1);
    let name: string;
    let key: string;
    try {
      name = decodeURIComponent(slash < 0 ? path.slice(1) : path.slice(1, slash));
      key = slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1));
    } catch {
      throw new S3Error('InvalidURI');
    }
    if (!name) {
      if (req.method !== 'GET') throw new S3Error('MethodNotAllowed');
      const buckets = [...store.buckets.values()].map((b) => ({
        Name: b.name,
        CreationDate: b.created.toISOString(),
      }));
      return xml(res, 'ListAllMyBucketsResult', { Owner: OWNER, Buckets: { Bucket: buckets } });
    }
    if (!key) return bucketRequest(req, res, name, q);
    if (Buffer.byteLength(key) > 1024) throw new S3Error('KeyTooLongError');
    return objectRequest(req, res, bucketOf(name), key, q);
  }

  const server = createServer((req, res) => {
    const id = `${(++requests).toString(16).toUpperCase().padStart(16, '0')}`;
    res.setHeader('x-amz-request-id', id);
    res.setHeader('x-amz-id-2', Buffer.from(id).toString('base64'));
    res.setHeader('server', 'parley-bench-s3');
    route(req, res).catch((err: unknown) => {
      let e: S3Error;
      if (err instanceof S3Error) e = err;
      else {
        internalErrors++;
        process.stderr.write(`s3 sink: ${req.method} failed: ${(err as Error)?.message}\n`);
        e = new S3Error('InternalError');
      }
      if (res.headersSent || res.destroyed) return res.destroy();
      const doc = req.method === 'HEAD' ? '' : errorDocument(e, id);
      res.writeHead(S3_ERRORS[e.code].status, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(doc),
        ...(e.code === 'InvalidRange' && { 'content-range': `bytes */${e.extra.ActualObjectSize}` }),
      });
      res.end(doc);
    });
  });
  // Longer than a client keeps an idle connection, so a reused one is never closed under it.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve));
  const addr = server.address() as AddressInfo;
  url = `http://${addr.address}:${addr.port}`;
  return {
    url,
    get held() {
      return store.held;
    },
    get requests() {
      return requests;
    },
    get internalErrors() {
      return internalErrors;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** AccessDenied without credentials, InvalidAccessKeyId with another key id (not echoed). */
function checkAccessKey(req: IncomingMessage, q: URLSearchParams, accessKeyId: string): void {
  const auth = req.headers.authorization;
  let named: string | undefined;
  if (auth !== undefined)
    named = (/Credential=([^/,\s]+)\//.exec(auth) ?? /^AWS ([^:\s]+):/.exec(auth))?.[1] ?? '';
  else if (q.has('X-Amz-Credential')) named = q.get('X-Amz-Credential')!.split('/')[0];
  if (named === undefined) throw new S3Error('AccessDenied');
  if (named !== accessKeyId) throw new S3Error('InvalidAccessKeyId');
}

/** Writes bytes start..end (inclusive) of a body's chunks, waiting for the socket to drain. */
async function sendChunks(res: ServerResponse, chunks: readonly Buffer[], start: number, end: number) {
  let at = 0;
  for (const c of chunks) {
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
