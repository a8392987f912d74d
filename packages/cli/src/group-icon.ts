/**
 * `/icon PATH` of `parley chat`: a group icon is group information the server sees (like the
 * group's name), so the image is uploaded as it is, unencrypted, for every member to download.
 */
import { readFile, stat } from 'node:fs/promises';
import { type ParleyClient, uploadMedia } from '@parley/sdk';
import { formatSize, mimeOf } from './attachments.js';
import { CliError } from './errors.js';

export const MAX_ICON_BYTES = 5 * 1024 * 1024;

/** Uploads the image and returns its media id. */
export async function uploadIconFile(client: ParleyClient, path: string): Promise<string> {
  if (!mimeOf(path).startsWith('image/'))
    throw new CliError(`${path} is not an image (.png, .jpg, .gif, .webp)`);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new CliError(`cannot read ${path}`);
  }
  if (size === 0) throw new CliError(`${path} is empty`);
  if (size > MAX_ICON_BYTES) throw new CliError(`a group icon is at most ${formatSize(MAX_ICON_BYTES)}`);
  const { mediaId } = await uploadMedia(client.credentials, new Uint8Array(await readFile(path)));
  return mediaId;
}
