/**
 * A tus store that hands every call to another one: the base of the wrappers that change
 * one thing about a store (ChecksumStore checks writes, DigestStore hashes them).
 */
import type { Readable } from 'node:stream';
import { DataStore, type Upload } from '@tus/utils';

export class DelegatingStore<S extends DataStore> extends DataStore {
  constructor(readonly inner: S) {
    super();
    this.extensions = inner.extensions;
  }

  override write(stream: Readable, id: string, offset: number): Promise<number> {
    return this.inner.write(stream, id, offset);
  }
  override create(upload: Upload) {
    return this.inner.create(upload);
  }
  override remove(id: string) {
    return this.inner.remove(id);
  }
  override getUpload(id: string) {
    return this.inner.getUpload(id);
  }
  override declareUploadLength(id: string, length: number) {
    return this.inner.declareUploadLength(id, length);
  }
  override deleteExpired() {
    return this.inner.deleteExpired();
  }
  override getExpiration() {
    return this.inner.getExpiration();
  }
}
