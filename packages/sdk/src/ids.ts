/**
 * Identifiers the client chooses: request frame ids (1..2^32-1, wrapping, never one still
 * in use) and clientMessageIds (16 random bytes, base64url: 22 printable ASCII characters).
 */

const MAX_FRAME_ID = 0xffff_ffff;

/** Hands out frame ids; `inUse` lets it skip ids whose answer is still awaited. */
export class FrameIdAllocator {
  private last: number;

  constructor(start = 0) {
    this.last = start;
  }

  next(inUse: (id: number) => boolean): number {
    // Bounded: at most a handful of ids are in use, far fewer than 2^32.
    for (;;) {
      this.last = this.last >= MAX_FRAME_ID ? 1 : this.last + 1;
      if (!inUse(this.last)) return this.last;
    }
  }
}

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A fresh clientMessageId from WebCrypto randomness. */
export function newClientMessageId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}
