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
import { receiveXml } from './s3-sink-body.js';
import { listMultipartUploads, listObjectsV2, OWNER } from './s3-sink-listing.js';
import { CHECKSUM_HEADER, objectRequest } from './s3-sink-objects.js';
import { BUCKET_NAME, SinkStore } from './s3-sink-store.js';
import { answerXml, errorDocument, parseDelete, S3_ERRORS, S3Error } from './s3-sink-wire.js';

export { MIN_PART_BYTES } from './s3-sink-objects.js';
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

/** Bucket requests (`/<bucket>`): create, head, delete, list objects and uploads, delete many. */
async function bucketRequest(
  store: SinkStore,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  q: URLSearchParams,
): Promise<void> {
  const m = req.method;
  if (m === 'PUT' && !q.size) {
    if (!BUCKET_NAME.test(name)) throw new S3Error('InvalidBucketName', undefined, { BucketName: name });
    await receiveXml(req, store);
    if (!store.createBucket(name, Date.now()))
      throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: name });
    res.writeHead(200, { location: `/${name}`, 'content-length': 0 });
    return void res.end();
  }
  const bucket = store.bucket(name);
  if (m === 'HEAD') {
    res.writeHead(200, { 'x-amz-bucket-region': 'us-east-1', 'content-length': 0 });
    return void res.end();
  }
  if (m === 'GET' && q.get('list-type') === '2')
    return answerXml(res, 'ListBucketResult', listObjectsV2(bucket, q));
  if (m === 'GET' && q.has('uploads'))
    return answerXml(res, 'ListMultipartUploadsResult', listMultipartUploads(bucket, q));
  if (m === 'POST' && q.has('delete')) {
    const h = req.headers;
    if (!h['content-md5'] && !h['x-amz-trailer'] && !Object.keys(h).some((k) => CHECKSUM_HEADER.test(k)))
      throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
    const { keys, quiet } = parseDelete(await receiveXml(req, store));
    for (const k of keys) store.deleteObject(bucket, k);
    return answerXml(res, 'DeleteResult', { Deleted: quiet ? [] : keys.map((Key) => ({ Key })) });
  }
  if (m === 'DELETE' && !q.size) {
    if (bucket.objects.size || bucket.uploads.size)
      throw new S3Error('BucketNotEmpty', undefined, { BucketName: name });
    store.buckets.delete(name);
    res.writeHead(204);
    return void res.end();
  }
  throw new S3Error('NotImplemented');
}

export async function startS3Sink(o: S3SinkOptions): Promise<S3Sink> {
  if (!BUCKET_NAME.test(o.bucket)) throw new Error(`${o.bucket} is not a valid S3 bucket name`);
  const store = new SinkStore(o.maxBytes ?? DEFAULT_MAX_BYTES);
  store.createBucket(o.bucket, Date.now());
  let requests = 0;
  let internalErrors = 0;
  let url = '';

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
      return answerXml(res, 'ListAllMyBucketsResult', { Owner: OWNER, Buckets: { Bucket: buckets } });
    }
    if (!key) return bucketRequest(store, req, res, name, q);
    if (Buffer.byteLength(key) > 1024) throw new S3Error('KeyTooLongError');
    return objectRequest({ store, base: url, req, res, bucket: store.bucket(name), key, q });
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
      // A HEAD answer has no body: the client knows the error by its status alone, as from S3.
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
