/**
 * `/icon PATH` of `parley chat`: a group icon is group information the server sees (like the
 * group's name), so the image is uploaded as it is, unencrypted, for every member to download.
 */
import { type ParleyClient, uploadMedia } from '@parley/sdk';
import { readImageFile } from './attachments.js';

export const MAX_ICON_BYTES = 5 * 1024 * 1024;

/** Uploads the image and returns its media id. */
export async function uploadIconFile(client: ParleyClient, path: string): Promise<string> {
  const { bytes } = await readImageFile(path, MAX_ICON_BYTES, 'a group icon');
  const { mediaId } = await uploadMedia(client.credentials, bytes, { mediaClass: 'image' });
  return mediaId;
}
