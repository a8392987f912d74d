/**
 * The bench S3 endpoint's wire format: S3's error table and error XML, the XML of its answers
 * (namespace http://s3.amazonaws.com/doc/2006-03-01/), the two request bodies it parses
 * (DeleteObjects, CompleteMultipartUpload) and Range headers.
 */
import type { ServerResponse } from 'node:http';

/** S3's error codes the endpoint answers with: HTTP status and S3's own message. */
export const S3_ERRORS = {
  AccessDenied: { status: 403, message: 'Access Denied' },
  InvalidAccessKeyId: {
    status: 403,
    message: 'The AWS Access Key Id you provided does not exist in our records.',
  },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchUpload: {
    status: 404,
    message:
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  },
  InvalidPart: {
    status: 400,
    message:
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  },
  InvalidPartOrder: {
    status: 400,
    message: 'The list of parts was not in ascending order. Parts must be ordered by part number.',
  },
  EntityTooSmall: { status: 400, message: 'Your proposed upload is smaller than the minimum allowed size' },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed size' },
  IncompleteBody: {
    status: 400,
    message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.',
  },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
  MalformedXML: {
    status: 400,
    message: 'The XML you provided was not well-formed or did not validate against our published schema',
  },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  KeyTooLongError: { status: 400, message: 'Your key is too long' },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  BucketAlreadyOwnedByYou: {
    status: 409,
    message: 'Your previous request to create the named bucket succeeded and you already own it.',
  },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty' },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  NotImplemented: {
    status: 501,
    message: 'A header you provided implies functionality that is not implemented',
  },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
} as const;

export type S3ErrorCode = keyof typeof S3_ERRORS;

/** An S3 error answer: code, optional own message, extra elements (Key, BucketName…). */
export class S3Error extends Error {
  constructor(
    readonly code: S3ErrorCode,
    message?: string,
    readonly extra: Record<string, string | number> = {},
  ) {
    super(message ?? S3_ERRORS[code].message);
  }
}

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export function xmlEscape(s: string): string {
  return s.replace(
    /[&<>"'\r]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' })[c]!,
  );
}

function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e[0] === '#')
      return String.fromCodePoint(e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e]!;
  });
}

/** A value of an XML tree: text, a child element, or a list of same-named children. */
export type XmlValue = string | number | boolean | undefined | XmlTree | XmlTree[];
export interface XmlTree {
  [name: string]: XmlValue;
}

function xmlBody(tree: XmlTree): string {
  let out = '';
  for (const [name, v] of Object.entries(tree)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v])
      out +=
        typeof item === 'object'
          ? `<${name}>${xmlBody(item)}</${name}>`
          : `<${name}>${xmlEscape(String(item))}</${name}>`;
  }
  return out;
}

/** An answer document: `<root xmlns="…S3…">…</root>`. */
export function xmlDocument(root: string, tree: XmlTree): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}">${xmlBody(tree)}</${root}>`;
}

/** Answers with an XML document. */
export function answerXml(res: ServerResponse, root: string, tree: XmlTree, status = 200): void {
  const doc = xmlDocument(root, tree);
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(doc) });
  res.end(doc);
}

/** S3's error document (it has no namespace). */
export function errorDocument(err: S3Error, requestId: string): string {
  const extra = xmlBody(err.extra);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message>${extra}<RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`;
}

/** The text of each `<name>…</name>` in `xml`, unescaped. */
function elements(xml: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, 'g');
  for (const m of xml.matchAll(re)) out.push(m[1]!);
  return out;
}

const rootIs = (xml: string, name: string) =>
  new RegExp(`^\\s*(?:<\\?xml[^>]*\\?>\\s*)?<${name}[\\s>]`).test(xml);

/** DeleteObjects' `<Delete>`: the keys (at most 1000) and Quiet. MalformedXML otherwise. */
export function parseDelete(xml: string): { keys: string[]; quiet: boolean } {
  if (!rootIs(xml, 'Delete')) throw new S3Error('MalformedXML');
  const keys = elements(xml, 'Object').map((o) => {
    const k = elements(o, 'Key');
    if (k.length !== 1) throw new S3Error('MalformedXML');
    return xmlUnescape(k[0]!);
  });
  if (keys.length === 0 || keys.length > 1000) throw new S3Error('MalformedXML');
  return { keys, quiet: elements(xml, 'Quiet')[0]?.trim() === 'true' };
}

/** CompleteMultipartUpload's parts in the order given, ETags without quotes. */
export function parseComplete(xml: string): Array<{ number: number; etag: string }> {
  if (!rootIs(xml, 'CompleteMultipartUpload')) throw new S3Error('MalformedXML');
  const parts = elements(xml, 'Part').map((p) => {
    const n = elements(p, 'PartNumber')[0]?.trim() ?? '';
    const etag = elements(p, 'ETag')[0];
    if (!/^\d{1,5}$/.test(n) || etag === undefined) throw new S3Error('MalformedXML');
    return { number: Number(n), etag: unquote(xmlUnescape(etag.trim())) };
  });
  if (parts.length === 0) throw new S3Error('MalformedXML');
  return parts;
}

export const unquote = (etag: string) => etag.replace(/^"|"$/g, '');

/**
 * A Range header as S3 reads it: one `bytes=` range, clamped to the object; undefined when
 * absent or not a valid single range (S3 then answers the whole object); InvalidRange (416)
 * when it starts past the end.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const unsatisfiable = () =>
    new S3Error('InvalidRange', undefined, { RangeRequested: header, ActualObjectSize: size });
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw unsatisfiable();
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}
