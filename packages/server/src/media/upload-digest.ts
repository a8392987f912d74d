/**
 * The SHA-256 of an upload, taken while its bytes pass through this node, so that the PATCH
 * completing it does not read the whole body back to check its digest. `DigestStore` wraps a
 * tus store: each write from the offset the running hash has reached feeds the hash, and a
 * write that ends anywhere but at that offset plus the bytes hashed (an error, a short write,
 * a PATCH served by another node in between) drops the running hash. `digestOf` answers only
 * for an upload hashed from its first byte to its declared length on this node; otherwise the
 * caller hashes the stored body as before. Running hashes live in memory, at most
 * `maxRunning` at once (the oldest are dropped, which costs only that read-back).
 */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { DataStore } from '@tus/utils';
import { coalesced } from './coalesce.js';
import { DelegatingStore } from './delegating-store.js';

interface Running {
  hash: Hash;
  /** Bytes hashed so far, from the upload's first byte. */
  offset: number;
  /** A write is in flight (a second one at the same time drops the hash). */
  busy: boolean;
}

export class DigestStore<
  S extends DataStore & {
    read(id: string): Readable | Promise<Readable>;
    /** The store joins the body's chunks itself: they are passed on as they come. */
    readonly joinsChunks?: boolean;
  },
> extends DelegatingStore<S> {
  private readonly running = new Map<string, Running>();

  constructor(
    inner: S,
    private readonly maxRunning = 1024,
  ) {
    super(inner);
  }

  override async write(stream: Readable, id: string, offset: number): Promise<number> {
    // Chunks are joined here unless the store joins them itself where its writes need it.
    const pieces = this.inner.joinsChunks ? 1 : undefined;
    let r = this.running.get(id);
    if (offset === 0 && !r?.busy) {
      r = { hash: createHash('sha256'), offset: 0, busy: false };
      this.keep(id, r);
    }
    if (!r || r.busy || r.offset !== offset) {
      this.running.delete(id);
      return this.inner.write(coalesced(stream, undefined, pieces), id, offset);
    }
    const run = r;
    run.busy = true;
    let hashed = 0;
    const tap = coalesced(
      stream,
      (chunk) => {
        run.hash.update(chunk);
        hashed += chunk.length;
      },
      pieces,
    );
    try {
      const next = await this.inner.write(tap, id, offset);
      run.busy = false;
      if (next !== offset + hashed || this.running.get(id) !== run) {
        this.running.delete(id);
        return next;
      }
      run.offset = next;
      return next;
    } catch (err) {
      if (this.running.get(id) === run) this.running.delete(id);
      throw err;
    }
  }

  /**
   * The SHA-256 (hex) of the upload's `size` bytes, when this node hashed all of them in
   * order; undefined when the caller has to hash the stored body itself. Answers once.
   */
  digestOf(id: string, size: number): string | undefined {
    const r = this.running.get(id);
    this.running.delete(id);
    if (!r || r.busy || r.offset !== size) return undefined;
    return r.hash.digest('hex');
  }

  /** Hashes being kept (for tests and metrics). */
  get size(): number {
    return this.running.size;
  }

  private keep(id: string, r: Running): void {
    this.running.delete(id);
    if (this.running.size >= this.maxRunning) {
      const oldest = this.running.keys().next();
      if (!oldest.done) this.running.delete(oldest.value);
    }
    this.running.set(id, r);
  }

  read(id: string): Readable | Promise<Readable> {
    return this.inner.read(id);
  }

  override remove(id: string) {
    this.running.delete(id);
    return this.inner.remove(id);
  }
}
