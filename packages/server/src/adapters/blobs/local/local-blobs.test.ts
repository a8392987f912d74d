import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { blobStoreContract } from '../../../ports/blobs.contract.js';
import { LocalBlobStore } from './local-blobs.js';

blobStoreContract('local disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-blobs-'));
  return {
    blobs: new LocalBlobStore(dir),
    setAge: async (id, ms) => {
      const t = (Date.now() - ms) / 1000;
      await utimes(join(dir, id.slice(0, 2), id), t, t);
    },
  };
});

it('adopts a file on the same disk by a hard link, checked like an upload', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-blobs-'));
  const blobs = new LocalBlobStore(dir);
  const body = randomBytes(100_000);
  const id = createHash('sha256').update(body).digest('hex');
  const source = join(dir, 'finished-upload');
  await writeFile(source, body);
  await assert.rejects(blobs.adoptFile(createHash('sha256').update('x').digest('hex'), source, 200_000), {
    code: 'DIGEST_MISMATCH',
  });
  await assert.rejects(blobs.adoptFile(id, source, 99_999), { code: 'PAYLOAD_TOO_LARGE' });
  assert.equal(await blobs.has(id), false, 'nothing was stored by the refusals');
  assert.deepEqual(await blobs.adoptFile(id, source, 200_000), { size: 100_000, created: true });
  assert.equal((await stat(source)).nlink, 2, 'linked, not copied');
  assert.deepEqual(await blobs.adoptFile(id, source, 200_000), { size: 100_000, created: false });
  assert.deepEqual(await readFile(join(dir, id.slice(0, 2), id)), body);
});

it('adopts a file whose digest was taken as it was written without reading it, with the same refusals', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-blobs-'));
  const blobs = new LocalBlobStore(dir);
  const body = randomBytes(50_000);
  const id = createHash('sha256').update(body).digest('hex');
  const other = createHash('sha256').update('x').digest('hex');
  const source = join(dir, 'finished-upload');
  await writeFile(source, body);
  const known = { sha256: id, size: body.length };
  await assert.rejects(blobs.adoptFile(other, source, 100_000, known), { code: 'DIGEST_MISMATCH' });
  await assert.rejects(blobs.adoptFile(id, source, 49_999, known), { code: 'PAYLOAD_TOO_LARGE' });
  await assert.rejects(blobs.adoptFile(id, source, 100_000, { sha256: id, size: 49_999 }), {
    code: 'DIGEST_MISMATCH',
  });
  assert.equal(await blobs.has(id), false, 'nothing was stored by the refusals');
  assert.deepEqual(await blobs.adoptFile(id, source, 100_000, known), { size: 50_000, created: true });
  assert.deepEqual(await readFile(join(dir, id.slice(0, 2), id)), body);
});
