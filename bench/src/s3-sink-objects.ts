/**
 * The bench S3 endpoint's object requests (`/<bucket>/<key>`), as S3 answers them: PutObject,
 * GetObject and HeadObject (with Range), CopyObject, DeleteObject, and multipart uploads
 * (create, upload part, list parts, complete, abort). A body is stored as it arrived; a copy
 * and a completed upload share the Buffers they came from.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { receiveBody, receiveXml, sendBody } from './s3-sink-body.js';
import { listParts } from './s3-sink-listing.js';
import { type Attributes, type Bucket, type SinkStore, type Upload, wholeSeconds } from './s3-sink-store.js';
import { answerXml, parseComplete, parseRange, S3Error, unquote } from './s3-sink-wire.js';

/** S3's smallest part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/** The flexible checksums a request may carry, in a header or an aws-chunked trailer. */
export const CHECKSUM_HEADER = /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/;
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-language', 'expires'];

/** What S3 keeps of a request's headers with the object (or upload) it makes. */
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

/** The checksums a request carried (headers or trailers), echoed as S3 does (not verified). */
function checksumsOf(req: IncomingMessage, trailers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries({ ...req.headers, ...trailers }))
    if (CHECKSUM_HEADER.test(name) && typeof v === 'string') out[name] = v;
  return out;
}

function uploadOf(bucket: Bucket, key: string, q: URLSearchParams): Upload {
  const id = q.get('uploadId') ?? '';
  const u = bucket.uploads.get(id);
  if (!u || u.key !== key) throw new S3Error('NoSuchUpload', undefined, { UploadId: id });
  return u;
}

function answerEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, status === 204 ? headers : { ...headers, 'content-length': 0 });
  res.end();
}

/** One object request: the store, the exchange, and the bucket, key and query it names. */
export interface ObjectCall {
  store: SinkStore;
  /** The endpoint's URL, for CompleteMultipartUpload's Location. */
  base: string;
  req: IncomingMessage;
  res: ServerResponse;
  bucket: Bucket;
  key: string;
  q: URLSearchParams;
}

export async function objectRequest(c: ObjectCall): Promise<void> {
  const { store, base, req, res, bucket, key, q } = c;
  const m = req.method;
  const now = Date.now();
  if (m === 'PUT' && q.has('uploadId')) return uploadPart(c);
  if (m === 'PUT' && req.headers['x-amz-copy-source'] !== undefined) return copyObject(c);
  if (m === 'PUT') {
    const { body, trailers } = await receiveBody(req, store);
    const etag = store.etag();
    store.putObject(bucket, key, { ...attributesOf(req), body, etag, lastModified: wholeSeconds(now) });
    return answerEmpty(res, 200, { etag, ...checksumsOf(req, trailers) });
  }
  if ((m === 'GET' || m === 'HEAD') && !q.has('uploadId')) return getObject(c);
  if (m === 'GET') return answerXml(res, 'ListPartsResult', listParts(bucket, uploadOf(bucket, key, q), q));
  if (m === 'POST' && q.has('uploads')) {
    const u = store.createUpload(bucket, key, attributesOf(req), now);
    return answerXml(res, 'InitiateMultipartUploadResult', { Bucket: bucket.name, Key: key, UploadId: u.id });
  }
  if (m === 'POST' && q.has('uploadId')) {
    const parts = parseComplete(await receiveXml(req, store));
    const upload = uploadOf(bucket, key, q);
    for (const [i, p] of parts.entries()) {
      if (i > 0 && p.number <= parts[i - 1]!.number) throw new S3Error('InvalidPartOrder');
      const have = upload.parts.get(p.number);
      const which = { UploadId: upload.id, PartNumber: p.number, ETag: p.etag };
      if (!have || unquote(have.etag) !== p.etag) throw new S3Error('InvalidPart', undefined, which);
      if (i < parts.length - 1 && have.body.size < MIN_PART_BYTES)
        throw new S3Error('EntityTooSmall', undefined, {
          ProposedSize: have.body.size,
          MinSizeAllowed: MIN_PART_BYTES,
          ...which,
        });
    }
    const numbers = parts.map((p) => p.number);
    const obj = store.completeUpload(bucket, upload, numbers, now);
    return answerXml(res, 'CompleteMultipartUploadResult', {
      Location: `${base}/${bucket.name}/${encodeURIComponent(key)}`,
      Bucket: bucket.name,
      Key: key,
      ETag: obj.etag,
    });
  }
  if (m === 'DELETE' && q.has('uploadId')) {
    store.abortUpload(bucket, uploadOf(bucket, key, q));
    return answerEmpty(res, 204);
  }
  if (m === 'DELETE') {
    store.deleteObject(bucket, key);
    return answerEmpty(res, 204);
  }
  throw new S3Error('NotImplemented');
}

async function uploadPart(c: ObjectCall): Promise<void> {
  const { store, req, res, bucket, key, q } = c;
  const n = q.get('partNumber') ?? '';
  if (!/^\d{1,5}$/.test(n) || Number(n) < 1 || Number(n) > 10_000)
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: n,
    });
  if (req.headers['x-amz-copy-source'] !== undefined) throw new S3Error('NotImplemented');
  uploadOf(bucket, key, q);
  const { body, trailers } = await receiveBody(req, store);
  let upload: Upload;
  try {
    // It may have been completed or aborted while the part arrived.
    upload = uploadOf(bucket, key, q);
  } catch (err) {
    store.release(body);
    throw err;
  }
  const etag = store.etag();
  store.putPart(upload, { number: Number(n), body, etag, lastModified: wholeSeconds(Date.now()) });
  answerEmpty(res, 200, { etag, ...checksumsOf(req, trailers) });
}

function copyObject(c: ObjectCall): void {
  const { store, req, res, bucket, key } = c;
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
  const fromBucket = store.bucket(source.slice(0, slash));
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
  answerXml(res, 'CopyObjectResult', { LastModified: lastModified.toISOString(), ETag: from.etag });
}

async function getObject(c: ObjectCall): Promise<void> {
  const { req, res, bucket, key, q } = c;
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
  if (req.method === 'HEAD' || size === 0) return void res.end();
  await sendBody(res, obj.body, start, end);
}
