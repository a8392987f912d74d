/** The conformance suite every BlobStore backend passes; `make` returns a fresh, empty store. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { BlobStore } from './blobs.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function* chunks(b: Uint8Array, size = 1000): AsyncIterable<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

export function blobStoreContract(
  name: string,
  make: () => Promise<{ blobs: BlobStore; setAge?: (id: string, ms: number) => Promise<void> }>,
): void {
  describe(`BlobStore contract: ${name}`, () => {
    it('stores a body under its hash and reads it back; a repeat stores nothing new', async () => {
      const { blobs } = await make();
      const body = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);
      const id = sha(body);
      assert.deepEqual(await blobs.put(id, chunks(body), 20_000), { size: 10_000, created: true });
      assert.deepEqual(await blobs.put(id, chunks(body), 20_000), { size: 10_000, created: false });
      const got = await blobs.get(id);
      assert.equal(got?.size, 10_000);
      assert.deepEqual(await readAll(got!.body), Buffer.from(body));
      await blobs.close();
    });

    it('reads any range of a body, and tells its size', async () => {
      const { blobs } = await make();
      const body = new Uint8Array(200_003).map((_, i) => (i * 31 + 7) & 0xff);
      const id = sha(body);
      await blobs.put(id, chunks(body, 65_536), 300_000);
      assert.equal(await blobs.size(id), body.length);
      assert.equal(await blobs.size(sha(new Uint8Array([42]))), undefined);
      assert.equal(await blobs.get(sha(new Uint8Array([42])), { start: 0, end: 0 }), undefined);
      for (const [start, end] of [
        [0, 0],
        [0, body.length - 1],
        [body.length - 1, body.length - 1],
        [1, 65_537],
        [100_000, 199_999],
      ] as const) {
        const got = await blobs.get(id, { start, end });
        assert.equal(got?.size, body.length, 'the whole size, also for a range');
        assert.deepEqual(
          await readAll(got!.body),
          Buffer.from(body.subarray(start, end + 1)),
          `${start}-${end}`,
        );
      }
      await blobs.close();
    });

    it('refuses a body that does not match its id or is too large, and keeps nothing of it', async () => {
      const { blobs } = await make();
      const body = new Uint8Array(5000).fill(3);
      const wrong = sha(new Uint8Array([1]));
      await assert.rejects(blobs.put(wrong, chunks(body), 10_000), { code: 'DIGEST_MISMATCH' });
      assert.equal(await blobs.has(wrong), false);
      await assert.rejects(blobs.put(sha(body), chunks(body), 4999), { code: 'PAYLOAD_TOO_LARGE' });
      assert.equal(await blobs.get(sha(body)), undefined);
      await assert.rejects(blobs.put('../etc/passwd', chunks(body), 10_000), { code: 'INVALID_ARGUMENT' });
      await blobs.close();
    });

    it('deletes the given bodies at once and skips ids it does not hold', async () => {
      const { blobs } = await make();
      const a = new Uint8Array([7, 7, 7]);
      const b = new Uint8Array([8, 8, 8]);
      await blobs.put(sha(a), chunks(a), 100);
      await blobs.put(sha(b), chunks(b), 100);
      assert.equal(await blobs.delete([sha(a), sha(new Uint8Array([9]))]), 1);
      assert.equal(await blobs.has(sha(a)), false);
      assert.equal(await blobs.get(sha(a)), undefined);
      assert.equal(await blobs.has(sha(b)), true);
      assert.equal(await blobs.delete([]), 0);
      await blobs.close();
    });

    it('lists bodies in id order, page by page, with when each was stored', async () => {
      const { blobs, setAge } = await make();
      const bodies = [1, 2, 3, 4, 5].map((n) => new Uint8Array([n, n, n]));
      const before = Date.now() - 5_000;
      for (const b of bodies) await blobs.put(sha(b), chunks(b), 100);
      const ids = bodies.map(sha).sort();
      assert.deepEqual(await blobs.list('', 0), []);
      const all = await blobs.list('', 100);
      assert.deepEqual(
        all.map((b) => b.id),
        ids,
      );
      for (const b of all)
        assert.ok(b.storedAt >= before && b.storedAt <= Date.now() + 5_000, 'stored just now');
      const first = await blobs.list('', 2);
      assert.deepEqual(
        first.map((b) => b.id),
        ids.slice(0, 2),
      );
      const rest = await blobs.list(first.at(-1)!.id, 100);
      assert.deepEqual(
        rest.map((b) => b.id),
        ids.slice(2),
        'the next page starts after the last id',
      );
      assert.deepEqual(await blobs.list(ids.at(-1)!, 100), []);
      if (setAge) {
        await setAge(ids[0]!, 40 * 86_400_000);
        const [aged] = await blobs.list('', 1);
        assert.ok(aged!.storedAt < Date.now() - 39 * 86_400_000, 'the time it was stored');
      }
      await blobs.delete([ids[1]!]);
      assert.deepEqual(
        (await blobs.list('', 100)).map((b) => b.id),
        [ids[0], ...ids.slice(2)],
        'a deleted body is not listed',
      );
      await blobs.close();
    });
  });
}
