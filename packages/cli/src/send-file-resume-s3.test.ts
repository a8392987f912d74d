/**
 * `parley send --file` killed halfway resumes when run again, with the node's media in S3
 * (PARLEY_TEST_S3_ENDPOINT, with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY): the upload's
 * offset is what the bucket holds.
 */
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { ensureTestBucket, TEST_BUCKET } from '@parley/server';
import { useTestNode } from './testing/node.js';
import { useParleyProcesses } from './testing/processes.js';
import { killedUploadResumes } from './testing/send-file-resume.js';

const endpoint = process.env.PARLEY_TEST_S3_ENDPOINT;
if (endpoint === undefined) {
  const skip = 'PARLEY_TEST_S3_ENDPOINT is not set';
  console.log(`parley send --file on S3 skipped: ${skip}`);
  describe('parley send --file on S3', { skip }, () => {});
} else {
  const run = useParleyProcesses();
  const t = useTestNode('parley-send-resume-s3-', {
    argv: async () => {
      await ensureTestBucket(endpoint);
      const media = `s3://${TEST_BUCKET}/cli-resume-${randomBytes(6).toString('hex')}`;
      return ['--media', media, '--s3-endpoint', endpoint, '--s3-force-path-style', 'true'];
    },
  });

  test('parley send --file killed halfway resumes from the bucket offset when run again', () =>
    // 6 MiB chunks: each PATCH is at least one S3 part (5 MiB), so half the file is parts.
    killedUploadResumes(t, run, {
      phones: ['+14155558311', '+14155558312'],
      chunkBytes: 6 * 1024 * 1024,
    }));
}
