/**
 * Downloads that survive being cut off, for `parley download` and `/save`: the encrypted bytes
 * of a file are kept as they arrive in `<media id>.part` under the profile's downloads
 * directory (0700; the part 0600), and a later run starts from them. Only ciphertext is kept:
 * the key stays in the profile's history. One command holds a profile at a time
 * (KEY_STORE_BUSY), so a part has one writer.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the kept bytes of media `mediaId` go under `dir`, which is made (0700) if missing. */
export async function keptPart(dir: string, mediaId: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${mediaId}.part`);
}

/** Removes a kept part once its file is saved (a missing one is fine). */
export function removeKeptPart(part: string): Promise<void> {
  return rm(part, { force: true });
}

/**
 * Runs a download that keeps its encrypted bytes in `part` as they arrive and starts from
 * what an earlier run kept there (`have`, empty when nothing was). A kept start that does not
 * check out (DIGEST_MISMATCH) is dropped and the download runs once more from zero; any other
 * failure leaves the part for the next run. The caller removes the part once the file is saved.
 */
export async function downloadKept(
  part: string,
  download: (
    have: Uint8Array,
    onChunk: (chunk: Uint8Array, offset: number) => Promise<void>,
  ) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  for (let attempt = 0; ; attempt++) {
    const have = await readFile(part).catch(() => Buffer.alloc(0));
    const fh = await open(part, have.length > 0 ? 'r+' : 'w', 0o600);
    try {
      return await download(new Uint8Array(have), async (chunk, offset) => {
        await fh.write(chunk, 0, chunk.length, offset);
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt > 0 || have.length === 0 || code !== 'DIGEST_MISMATCH') throw err;
      await rm(part, { force: true });
    } finally {
      await fh.close();
    }
  }
}
