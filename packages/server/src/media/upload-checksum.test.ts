/** Upload-Checksum parsing: the algorithms tus names, digests of the right length, nothing else. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { it } from 'node:test';
import { parseUploadChecksum } from './upload-checksum.js';

const digest = (alg: string) => createHash(alg).update('x').digest('base64');

it('reads sha256, sha1, sha512 and md5 digests, in any case of the name', () => {
  for (const alg of ['sha256', 'sha1', 'sha512', 'md5']) {
    const got = parseUploadChecksum(`${alg.toUpperCase()} ${digest(alg)}`);
    assert.equal(got?.algorithm, alg);
    assert.deepEqual(got?.digest, createHash(alg).update('x').digest());
  }
  assert.equal(parseUploadChecksum(undefined), undefined);
});

it('refuses unknown algorithms, wrong lengths and malformed headers with INVALID_ARGUMENT', () => {
  for (const bad of [
    `crc32 ${digest('md5')}`,
    `sha256 ${digest('sha1')}`,
    'sha256',
    `sha256  ${digest('sha256')}`,
    'sha256 not*base64',
    '',
    `sha256 ${digest('sha256')} extra`,
  ]) {
    assert.throws(
      () => parseUploadChecksum(bad),
      (err: { code?: string }) => err.code === 'INVALID_ARGUMENT',
      bad,
    );
  }
});
