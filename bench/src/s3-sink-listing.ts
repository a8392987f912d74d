/**
 * The bench S3 endpoint's listings, as S3 pages them: ListObjectsV2 (prefix, delimiter,
 * start-after, continuation tokens), ListParts (part-number-marker, max-parts) and
 * ListMultipartUploads (key-marker, upload-id-marker). Each returns the answer's XML tree.
 */
import { type Bucket, keyOrder, type Upload } from './s3-sink-store.js';
import { S3Error, type XmlTree } from './s3-sink-wire.js';

/** The one account every bucket and upload belongs to. */
export const OWNER = { ID: 'parley-bench', DisplayName: 'parley-bench' };

/** A whole-number query parameter in [0, ∞), capped at `max`; `fallback` when absent. */
function countParam(q: URLSearchParams, name: string, fallback: number, max: number): number {
  const v = q.get(name);
  if (v === null) return fallback;
  if (!/^\d{1,9}$/.test(v))
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: v,
    });
  return Math.min(Number(v), max);
}

/** Where a continuation token says to go on: after key `k`, past everything under it if `p`. */
interface Resume {
  k: string;
  p?: true;
}

function decodeToken(token: string): Resume {
  try {
    const r = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Resume;
    if (typeof r.k === 'string') return r;
  } catch {}
  throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
    ArgumentName: 'continuation-token',
  });
}

export function listObjectsV2(bucket: Bucket, q: URLSearchParams): XmlTree {
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = countParam(q, 'max-keys', 1000, 1000);
  const startAfter = q.get('start-after') ?? '';
  const token = q.get('continuation-token');
  const encoding = q.get('encoding-type');
  if (encoding !== null && encoding !== 'url')
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
    });
  const enc = (s: string) => (encoding === 'url' ? encodeURIComponent(s) : s);
  const from: Resume = token !== null ? decodeToken(token) : { k: startAfter };
  const keys = [...bucket.objects.keys()].filter((k) => k.startsWith(prefix)).sort(keyOrder);
  const contents: string[] = [];
  const prefixes: string[] = [];
  let last: Resume | undefined;
  let truncated = false;
  for (const k of keys) {
    if (from.k && keyOrder(k, from.k) <= 0) continue;
    if (from.p && k.startsWith(from.k)) continue;
    const cut = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
    const common = cut >= 0 ? k.slice(0, cut + delimiter.length) : undefined;
    if (common !== undefined && common === prefixes.at(-1)) continue;
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (common !== undefined) {
      prefixes.push(common);
      last = { k: common, p: true };
    } else {
      contents.push(k);
      last = { k };
    }
  }
  const fetchOwner = q.get('fetch-owner') === 'true';
  return {
    Name: bucket.name,
    Prefix: enc(prefix),
    Delimiter: delimiter ? enc(delimiter) : undefined,
    MaxKeys: maxKeys,
    KeyCount: contents.length + prefixes.length,
    IsTruncated: truncated,
    EncodingType: encoding ?? undefined,
    ContinuationToken: token ?? undefined,
    NextContinuationToken:
      truncated && last ? Buffer.from(JSON.stringify(last)).toString('base64url') : undefined,
    StartAfter: startAfter ? enc(startAfter) : undefined,
    Contents: contents.map((k) => {
      const o = bucket.objects.get(k)!;
      return {
        Key: enc(k),
        LastModified: o.lastModified.toISOString(),
        ETag: o.etag,
        Size: o.body.size,
        StorageClass: 'STANDARD',
        Owner: fetchOwner ? OWNER : undefined,
      };
    }),
    CommonPrefixes: prefixes.map((p) => ({ Prefix: enc(p) })),
  };
}

export function listParts(bucket: Bucket, upload: Upload, q: URLSearchParams): XmlTree {
  const maxParts = countParam(q, 'max-parts', 1000, 1000);
  const marker = countParam(q, 'part-number-marker', 0, 10_000);
  const after = [...upload.parts.values()]
    .filter((p) => p.number > marker)
    .sort((a, b) => a.number - b.number);
  const page = after.slice(0, maxParts);
  return {
    Bucket: bucket.name,
    Key: upload.key,
    UploadId: upload.id,
    Initiator: OWNER,
    Owner: OWNER,
    StorageClass: 'STANDARD',
    PartNumberMarker: marker,
    NextPartNumberMarker: page.at(-1)?.number ?? 0,
    MaxParts: maxParts,
    IsTruncated: after.length > page.length,
    Part: page.map((p) => ({
      PartNumber: p.number,
      LastModified: p.lastModified.toISOString(),
      ETag: p.etag,
      Size: p.body.size,
    })),
  };
}

export function listMultipartUploads(bucket: Bucket, q: URLSearchParams): XmlTree {
  const prefix = q.get('prefix') ?? '';
  const keyMarker = q.get('key-marker') ?? '';
  const idMarker = q.get('upload-id-marker') ?? '';
  const max = countParam(q, 'max-uploads', 1000, 1000);
  // S3's order: by key, then by when each upload started.
  const all = [...bucket.uploads.values()]
    .filter((u) => u.key.startsWith(prefix))
    .sort((a, b) => keyOrder(a.key, b.key) || a.initiated.getTime() - b.initiated.getTime());
  let from = 0;
  if (keyMarker) {
    const at = idMarker ? all.findIndex((u) => u.key === keyMarker && u.id === idMarker) : -1;
    from = at >= 0 ? at + 1 : all.findIndex((u) => keyOrder(u.key, keyMarker) > 0);
    if (from < 0) from = all.length;
  }
  const page = all.slice(from, from + max);
  return {
    Bucket: bucket.name,
    KeyMarker: keyMarker,
    UploadIdMarker: idMarker,
    NextKeyMarker: page.at(-1)?.key ?? '',
    NextUploadIdMarker: page.at(-1)?.id ?? '',
    Prefix: prefix || undefined,
    MaxUploads: max,
    IsTruncated: from + page.length < all.length,
    Upload: page.map((u) => ({
      Key: u.key,
      UploadId: u.id,
      Initiator: OWNER,
      Owner: OWNER,
      StorageClass: 'STANDARD',
      Initiated: u.initiated.toISOString(),
    })),
  };
}
