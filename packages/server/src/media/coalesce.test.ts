import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { coalescer } from './coalesce.js';

/** The pieces `input` comes out as, and the chunks `onChunk` saw. */
async function run(input: Buffer[], minBytes: number): Promise<{ out: Buffer[]; seen: number[] }> {
  const out: Buffer[] = [];
  const seen: number[] = [];
  // A Writable, as the stores' file streams are: it is handed each piece as pushed.
  const sink = new Writable({
    write(piece: Buffer, _encoding, callback) {
      out.push(piece);
      callback();
    },
  });
  await pipeline(
    Readable.from(input),
    coalescer((c) => seen.push(c.length), minBytes),
    sink,
  );
  return { out, seen };
}

describe('coalescer', () => {
  it('joins small chunks into pieces of at least minBytes, the rest at the end, bytes in order', async () => {
    const body = randomBytes(10 * 1000 + 7);
    const chunks = Array.from({ length: 11 }, (_, i) => body.subarray(i * 1000, (i + 1) * 1000));
    const { out, seen } = await run(chunks, 3000);
    assert.deepEqual(
      out.map((b) => b.length),
      [3000, 3000, 3000, 1007],
    );
    assert.deepEqual(Buffer.concat(out), body);
    assert.deepEqual(seen, [...chunks.map((c) => c.length)], 'every chunk seen as it arrived');
  });

  it('passes a chunk of minBytes or more on by itself, without copying it', async () => {
    const big = randomBytes(5000);
    const { out } = await run([big], 3000);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.buffer, big.buffer);
  });

  it('a body that ends early (tus ends it so when the client goes) still gives every byte it had', async () => {
    const body = randomBytes(2500);
    const { out } = await run([body.subarray(0, 1000), body.subarray(1000)], 1 << 20);
    assert.deepEqual(Buffer.concat(out), body);
  });

  it('gives nothing for an empty body', async () => {
    assert.deepEqual((await run([], 3000)).out, []);
  });
});
