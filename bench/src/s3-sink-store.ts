/**
 * What the bench's S3 endpoint holds: buckets, objects and multipart uploads, all in memory.
 * Invariant: `held` is the sum of the sizes of the distinct bodies alive plus the bytes of
 * bodies still arriving, and never exceeds `maxBytes`. A body is the list of Buffers it arrived
 * in, never concatenated: completing an upload joins its parts' lists, and a copy shares its
 * source's body (counted once, released when its last holder goes).
 */
import { randomBytes } from 'node:crypto';
import { S3Error } from './s3-sink-wire.js';

/** Bytes of one object or part, as they arrived. Shared by copies: `refs` holders. */
export interface Body {
  readonly chunks: readonly Buffer[];
  readonly size: number;
  refs: number;
}

/** What S3 stores beside the bytes and answers on GET and HEAD. */
export interface Attributes {
  contentType: string;
  /** Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires. */
  headers: Record<string, string>;
  /** x-amz-meta-* values, by lower-case name without the prefix. */
  meta: Record<string, string>;
}

export interface StoredObject extends Attributes {
  body: Body;
  /** Quoted, as in the ETag header. */
  etag: string;
  /** Whole seconds, as S3 keeps them. */
  lastModified: Date;
}

export interface Part {
  number: number;
  body: Body;
  etag: string;
  lastModified: Date;
}

export interface Upload extends Attributes {
  id: string;
  key: string;
  initiated: Date;
  parts: Map<number, Part>;
}

export interface Bucket {
  name: string;
  created: Date;
  objects: Map<string, StoredObject>;
  /** By upload id. */
  uploads: Map<string, Upload>;
}

/** S3's bucket naming rules (the general-purpose ones, without the IP-address check). */
export const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Seconds precision, as S3's Last-Modified. */
export const wholeSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

/** Object keys in S3's listing order: by their UTF-8 bytes. */
export function keyOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export class SinkStore {
  readonly buckets = new Map<string, Bucket>();
  private heldBytes = 0;
  private etags = 0;
  /** Makes this process's ETags unlike another's. */
  private readonly tag = randomBytes(4).toString('hex');

  constructor(readonly maxBytes: number) {}

  /** Bytes held: bodies stored plus bodies arriving. */
  get held(): number {
    return this.heldBytes;
  }

  /** Claims room for `n` more arriving bytes; false (nothing claimed) past the cap. */
  claim(n: number): boolean {
    if (this.heldBytes + n > this.maxBytes) return false;
    this.heldBytes += n;
    return true;
  }

  /** Gives back bytes claimed for a body that was not stored. */
  unclaim(n: number): void {
    this.heldBytes -= n;
  }

  /** A body of claimed bytes, with its first holder. */
  body(chunks: Buffer[], size: number): Body {
    return { chunks, size, refs: 1 };
  }

  share(body: Body): Body {
    body.refs++;
    return body;
  }

  release(body: Body): void {
    if (--body.refs === 0) this.heldBytes -= body.size;
  }

  /**
   * A fresh quoted ETag. Not the MD5 S3 would give (hashing every byte costs CPU the node
   * under test needs); unique, which is all a client may rely on without computing MD5 itself.
   */
  etag(parts?: number): string {
    const n = (++this.etags).toString(16).padStart(24, '0');
    return `"${this.tag}${n}${parts === undefined ? '' : `-${parts}`}"`;
  }

  /** The bucket, or NoSuchBucket. */
  bucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
    return b;
  }

  createBucket(name: string, now: number): Bucket | undefined {
    if (this.buckets.has(name)) return undefined;
    const b: Bucket = { name, created: wholeSeconds(now), objects: new Map(), uploads: new Map() };
    this.buckets.set(name, b);
    return b;
  }

  /** Stores `obj` under `key`, releasing what was there. */
  putObject(bucket: Bucket, key: string, obj: StoredObject): void {
    const old = bucket.objects.get(key);
    bucket.objects.set(key, obj);
    if (old) this.release(old.body);
  }

  /** Removes `key` (nothing when absent, as S3). */
  deleteObject(bucket: Bucket, key: string): void {
    const old = bucket.objects.get(key);
    if (!old) return;
    bucket.objects.delete(key);
    this.release(old.body);
  }

  createUpload(bucket: Bucket, key: string, attrs: Attributes, now: number): Upload {
    const id = randomBytes(24).toString('base64url');
    const u: Upload = { ...attrs, id, key, initiated: wholeSeconds(now), parts: new Map() };
    bucket.uploads.set(id, u);
    return u;
  }

  /** Stores a part, replacing (and releasing) one of the same number. */
  putPart(upload: Upload, part: Part): void {
    const old = upload.parts.get(part.number);
    upload.parts.set(part.number, part);
    if (old) this.release(old.body);
  }

  /** Drops an upload and every part it holds. */
  abortUpload(bucket: Bucket, upload: Upload): void {
    bucket.uploads.delete(upload.id);
    for (const p of upload.parts.values()) this.release(p.body);
  }

  /**
   * Makes the named parts (checked by the caller) one object: their chunk lists are joined
   * (no bytes copied) and parts left out are released.
   */
  completeUpload(bucket: Bucket, upload: Upload, numbers: readonly number[], now: number): StoredObject {
    const chunks: Buffer[] = [];
    let size = 0;
    const used = new Set(numbers);
    for (const n of numbers) {
      const p = upload.parts.get(n)!;
      for (const c of p.body.chunks) chunks.push(c);
      size += p.body.size;
    }
    for (const p of upload.parts.values()) if (!used.has(p.number)) this.release(p.body);
    bucket.uploads.delete(upload.id);
    const obj: StoredObject = {
      contentType: upload.contentType,
      headers: upload.headers,
      meta: upload.meta,
      // The parts' bytes move to the object: counted once, as before.
      body: { chunks, size, refs: 1 },
      etag: this.etag(numbers.length),
      lastModified: wholeSeconds(now),
    };
    this.putObject(bucket, upload.key, obj);
    return obj;
  }
}
