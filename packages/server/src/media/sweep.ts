/**
 * The media part of the retention job: lists the blob store page by page and removes the
 * bodies nothing keeps any more (Store.mediaKept): not uploaded, nor uploaded again, in the
 * last 24 h (UNREFERENCED_GRACE_MS, the time a sender has to send the message that names an
 * upload), not declared by a message of the retention period that is still there, not a
 * chat's icon, not a user's newest avatar. Their references and upload records go with them.
 * Incomplete resumable uploads are not bodies (the blob store never lists them; they expire
 * on their own after 24 h), and a body stored in the last 24 h is never even asked about.
 */
import type { BlobStore } from '../ports/blobs.js';
import type { Store } from '../ports/store.js';

/** How long an upload nothing references is kept: time to send the message that names it. */
export const UNREFERENCED_GRACE_MS = 24 * 60 * 60 * 1000;
const PAGE = 500;

export interface MediaSweep {
  store: Pick<Store, 'mediaKept' | 'mediaForget'>;
  blobs: BlobStore;
  now: number;
  /** Messages stored before this (the retention cutoff) keep nothing. */
  messagesSince: number;
}

/** Removes what nothing keeps; returns how many bodies were removed. */
export async function sweepMedia(d: MediaSweep): Promise<number> {
  const uploadedSince = d.now - UNREFERENCED_GRACE_MS;
  let removed = 0;
  let after = '';
  for (;;) {
    const page = await d.blobs.list(after, PAGE);
    if (page.length === 0) break;
    after = page.at(-1)!.id;
    const old = page.filter((b) => b.storedAt < uploadedSince).map((b) => b.id);
    if (old.length > 0) {
      const kept = new Set(await d.store.mediaKept(old, uploadedSince, d.messagesSince));
      const doomed = old.filter((id) => !kept.has(id));
      if (doomed.length > 0) {
        removed += await d.blobs.delete(doomed);
        await d.store.mediaForget(doomed);
      }
    }
    if (page.length < PAGE) break;
    // Yield between pages so traffic is not held up.
    await new Promise((r) => setImmediate(r));
  }
  return removed;
}
