/**
 * Incomplete resumable uploads in the media bucket (@tus/s3-store): each is an S3 multipart
 * upload with its info object, so every node that shares the bucket can resume it. The
 * store names its objects by the upload id (32 hex digits, with `.info` and `.part`) at the
 * bucket's root, whatever the media prefix; the blob store's expiry only ever touches
 * 64-hex names, so the two never meet.
 */
import { S3Store } from '@tus/s3-store';
import { parseS3Url } from '../adapters/blobs/s3/s3-blobs.js';
import { UPLOAD_EXPIRY_MS, type UploadStore } from './uploads.js';

export function s3UploadStore(o: {
  url: string;
  region: string;
  forcePathStyle: boolean;
  endpoint?: string | undefined;
}): UploadStore {
  const { bucket } = parseS3Url(o.url);
  return new S3Store({
    partSize: 8 * 1024 * 1024,
    expirationPeriodInMilliseconds: UPLOAD_EXPIRY_MS,
    // Object tags are not on every S3-compatible service; expiry goes by the info objects.
    useTags: false,
    s3ClientConfig: {
      bucket,
      region: o.region,
      forcePathStyle: o.forcePathStyle,
      ...(o.endpoint && { endpoint: o.endpoint }),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    },
  });
}
