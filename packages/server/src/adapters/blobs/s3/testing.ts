/** Test support: the suites that need S3 share one bucket, created on first use. */
import { CreateBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';

export const TEST_BUCKET = 'parley-test';

export async function ensureTestBucket(endpoint: string): Promise<void> {
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: TEST_BUCKET }));
  } catch (err) {
    const exists =
      err instanceof S3ServiceException &&
      (err.name === 'BucketAlreadyOwnedByYou' || err.name === 'BucketAlreadyExists');
    if (!exists) throw err;
  } finally {
    s3.destroy();
  }
}
