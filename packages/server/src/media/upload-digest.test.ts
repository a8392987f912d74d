import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { FileStore } from '@tus/file-store';
import { Upload } from '@tus/utils';
import { COALESCE_BYTES } from './coalesce.js';
import { DigestStore } from './upload-digest.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-digest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function upload(store: DigestStore<FileStore>, size: number): Promise<string> {
  const id = randomBytes(16).toString('hex');
  await store.create(new Upload({ id, size, offset: 0 }));
  return id;
}

describe('DigestStore', () => {
  it('hashes an upload written in order, in several writes, without reading it back', async () => {
    const store = new DigestStore(new FileStore({ directory: dir }));
    const body = randomBytes(300_000);
    const id = await upload(store, body.length);
    let offset = 0;
    for (const end of [1, 100_000, 250_000, 300_000]) {
      offset = await store.write(Readable.from([body.subarray(offset, end)]), id, offset);
      assert.equal(offset, end);
    }
    assert.equal(store.digestOf(id, body.length), sha(body));
    assert.equal(store.digestOf(id, body.length), undefined, 'answers once');
    assert.equal(store.size, 0);
  });

  it('knows nothing of an upload it did not see from the first byte, or saw with a gap', async () => {
    const other = new DigestStore(new FileStore({ directory: dir }));
    const store = new DigestStore(new FileStore({ directory: dir }));
    const body = randomBytes(200_000);
    const id = await upload(store, body.length);
    // Resumed here after another node took the first half.
    await other.write(Readable.from([body.subarray(0, 100_000)]), id, 0);
    await store.write(Readable.from([body.subarray(100_000)]), id, 100_000);
    assert.equal(store.digestOf(id, body.length), undefined);
    // Started here, continued elsewhere, finished here: the running hash is dropped.
    const id2 = await upload(store, body.length);
    await store.write(Readable.from([body.subarray(0, 50_000)]), id2, 0);
    await other.write(Readable.from([body.subarray(50_000, 150_000)]), id2, 50_000);
    await store.write(Readable.from([body.subarray(150_000)]), id2, 150_000);
    assert.equal(store.digestOf(id2, body.length), undefined);
    // Not complete yet.
    const id3 = await upload(store, body.length);
    await store.write(Readable.from([body.subarray(0, 10)]), id3, 0);
    assert.equal(store.digestOf(id3, body.length), undefined);
  });

  it('drops the running hash when a write fails part way', async () => {
    const store = new DigestStore(new FileStore({ directory: dir }));
    const body = randomBytes(3 * COALESCE_BYTES);
    const id = await upload(store, body.length);
    // 1.5 MiB in socket-sized pieces, then an error.
    const piece = 64 * 1024;
    let sent = 0;
    const broken = new Readable({
      read() {
        if (sent < 1.5 * COALESCE_BYTES) {
          this.push(body.subarray(sent, sent + piece));
          sent += piece;
        } else setTimeout(() => this.destroy(new Error('connection reset')), 20);
      },
    });
    await assert.rejects(store.write(broken, id, 0));
    const at = (await store.getUpload(id)).offset ?? 0;
    assert.ok(at >= COALESCE_BYTES && at < sent, 'the failed write left the bytes joined before the error');
    await store.write(Readable.from([body.subarray(at)]), id, at);
    assert.equal(store.digestOf(id, body.length), undefined, 'a read-back decides');
    // A fresh start from byte 0 hashes again.
    const id2 = await upload(store, body.length);
    await store.write(Readable.from([body]), id2, 0);
    assert.equal(store.digestOf(id2, body.length), sha(body));
  });

  it('keeps at most maxRunning hashes, dropping the oldest', async () => {
    const store = new DigestStore(new FileStore({ directory: dir }), 2);
    const body = randomBytes(1000);
    const ids = [await upload(store, 1000), await upload(store, 1000), await upload(store, 1000)];
    for (const id of ids) await store.write(Readable.from([body.subarray(0, 500)]), id, 0);
    assert.equal(store.size, 2);
    for (const id of ids) await store.write(Readable.from([body.subarray(500)]), id, 500);
    assert.deepEqual(
      ids.map((id) => store.digestOf(id, 1000)),
      [undefined, sha(body), sha(body)],
    );
  });
});
