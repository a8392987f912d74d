import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatSize, MAX_FILE_BYTES, mimeOf, readFileToSend, writeReceivedFile } from './attachments.js';
import { CliError } from './errors.js';

const root = await mkdtemp(join(tmpdir(), 'parley-attachments-'));
after(() => rm(root, { recursive: true, force: true }));

test('mime types come from the extension, with a default', () => {
  assert.equal(mimeOf('plan.PDF'), 'application/pdf');
  assert.equal(mimeOf('photo.jpeg'), 'image/jpeg');
  assert.equal(mimeOf('notes.txt'), 'text/plain');
  assert.equal(mimeOf('archive.weird'), 'application/octet-stream');
  assert.equal(mimeOf('Makefile'), 'application/octet-stream');
});

test('sizes read as B, KB, MB and GB', () => {
  assert.deepEqual([0, 1023, 1024, 12_595, 5 * 1024 ** 2, 3 * 1024 ** 3].map(formatSize), [
    '0 B',
    '1023 B',
    '1.0 KB',
    '12.3 KB',
    '5.0 MB',
    '3.0 GB',
  ]);
});

test('a file to send is read with its base name; missing, directory and too large are refused', async () => {
  const path = join(root, 'plan.pdf');
  await writeFile(path, 'content');
  const f = await readFileToSend(path);
  assert.deepEqual(
    [Buffer.from(f.bytes).toString(), f.name, f.mime],
    ['content', 'plan.pdf', 'application/pdf'],
  );

  await assert.rejects(readFileToSend(join(root, 'nope.txt')), (err: Error) => {
    assert.ok(err instanceof CliError);
    assert.equal(err.message, `no such file: ${join(root, 'nope.txt')}`);
    return true;
  });
  await assert.rejects(readFileToSend(root), { name: 'CliError', message: `not a file: ${root}` });
  // Sparse: the size is checked before anything is read.
  const big = join(root, 'big.bin');
  await writeFile(big, '');
  await truncate(big, MAX_FILE_BYTES + 1);
  await assert.rejects(readFileToSend(big), {
    name: 'CliError',
    message: `${big} is 100.0 MB: files over 100 MiB cannot be sent`,
  });
  await truncate(big, MAX_FILE_BYTES);
  assert.equal((await readFileToSend(big)).bytes.length, MAX_FILE_BYTES, 'exactly 100 MiB is allowed');
  await rm(big);
});

test('a received file goes to a new path (0600) or into a directory under a safe name', async () => {
  const out = join(root, 'out');
  await mkdir(out);
  const bytes = new Uint8Array([1, 2, 3]);
  const direct = await writeReceivedFile(join(out, 'a.bin'), { name: 'ignored.bin' }, 4, bytes);
  assert.equal(direct, join(out, 'a.bin'));
  assert.deepEqual(new Uint8Array(await readFile(direct)), bytes);
  assert.equal((await stat(direct)).mode & 0o777, 0o600);

  // The sender's name is only a base name: no climbing out of the directory.
  assert.equal(await writeReceivedFile(out, { name: '../../etc/passwd' }, 5, bytes), join(out, 'passwd'));
  assert.equal(await writeReceivedFile(out, { name: '..' }, 6, bytes), join(out, 'file-6'));
  assert.equal(await writeReceivedFile(out, {}, 7, bytes), join(out, 'file-7'));

  await assert.rejects(writeReceivedFile(direct, {}, 4, bytes), {
    name: 'CliError',
    message: `${direct} exists: give another path`,
  });
  await assert.rejects(writeReceivedFile(join(out, 'missing', 'x'), {}, 4, bytes), {
    name: 'CliError',
    message: `no such directory for ${join(out, 'missing', 'x')}`,
  });
});
