import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ParleyError } from '@parley/sdk';
import { downloadKept, keptPart, removeKeptPart } from './kept-downloads.js';

const root = await mkdtemp(join(tmpdir(), 'parley-kept-downloads-'));
after(() => rm(root, { recursive: true, force: true }));

const MEDIA_ID = 'ab'.repeat(32);
const body = new Uint8Array(Array.from({ length: 100 }, (_, i) => i));

/** A download that delivers `body` from `have.length` in chunks of 10, failing with `fail` after `upTo` bytes. */
function fakeDownload(o: { upTo?: number; fail?: Error; seen?: number[] } = {}) {
  return async (have: Uint8Array, onChunk: (chunk: Uint8Array, offset: number) => Promise<void>) => {
    o.seen?.push(have.length);
    for (let offset = have.length; offset < (o.upTo ?? body.length); offset += 10)
      await onChunk(body.subarray(offset, offset + 10), offset);
    if (o.fail) throw o.fail;
    return body;
  };
}

test('a kept part lives in the downloads directory (0700) as <media id>.part (0600)', async () => {
  const dir = join(root, 'alice.downloads');
  const part = await keptPart(dir, MEDIA_ID);
  assert.equal(part, join(dir, `${MEDIA_ID}.part`));
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  await assert.rejects(downloadKept(part, fakeDownload({ upTo: 30, fail: new Error('cut off') })));
  assert.equal((await stat(part)).mode & 0o777, 0o600);
  await removeKeptPart(part);
  await removeKeptPart(part); // already gone: fine
});

test('a download cut off keeps what arrived, and the next run starts from there', async () => {
  const part = await keptPart(join(root, 'resume.downloads'), MEDIA_ID);
  const seen: number[] = [];
  await assert.rejects(downloadKept(part, fakeDownload({ upTo: 40, fail: new Error('cut off'), seen })), {
    message: 'cut off',
  });
  assert.deepEqual(new Uint8Array(await readFile(part)), body.subarray(0, 40));
  assert.deepEqual(await downloadKept(part, fakeDownload({ seen })), body);
  assert.deepEqual(seen, [0, 40], 'the second run had the first 40 bytes');
  assert.deepEqual(
    new Uint8Array(await readFile(part)),
    body,
    'the part is whole until the caller removes it',
  );
});

test('a kept start that fails its digest is dropped and the download runs once more from zero', async () => {
  const part = await keptPart(join(root, 'digest.downloads'), MEDIA_ID);
  await writeFile(part, new Uint8Array(40).fill(7));
  const seen: number[] = [];
  let calls = 0;
  const bytes = await downloadKept(part, async (have, onChunk) => {
    seen.push(have.length);
    if (calls++ === 0) throw new ParleyError('DIGEST_MISMATCH', 'the kept start is not this body');
    return fakeDownload()(have, onChunk);
  });
  assert.deepEqual(bytes, body);
  assert.deepEqual(seen, [40, 0]);
  assert.deepEqual(new Uint8Array(await readFile(part)), body);

  // Only once: a second mismatch is the caller's, and so is a mismatch from zero.
  await writeFile(part, new Uint8Array(40).fill(7));
  const mismatch = new ParleyError('DIGEST_MISMATCH', 'still wrong');
  await assert.rejects(
    downloadKept(part, async () => Promise.reject(mismatch)),
    mismatch,
  );
  await rm(part);
  await assert.rejects(
    downloadKept(part, async () => Promise.reject(mismatch)),
    mismatch,
  );
});

test('any other failure leaves the kept start for the next run', async () => {
  const part = await keptPart(join(root, 'other.downloads'), MEDIA_ID);
  await writeFile(part, body.subarray(0, 40));
  const unavailable = new ParleyError('UNAVAILABLE', 'the download failed');
  await assert.rejects(
    downloadKept(part, async () => Promise.reject(unavailable)),
    unavailable,
  );
  assert.deepEqual(new Uint8Array(await readFile(part)), body.subarray(0, 40));
});
