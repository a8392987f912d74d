/**
 * A video's poster frame in a page: the file is loaded into a detached `<video>` element from
 * a `blob:` URL, seeked to min(1 s, half its duration) and handed to `createImageBitmap`, which
 * the thumbnailer scales and encodes like a photo (when the drawing fails, `again` shows another
 * frame of the clip). Its size and duration come from the element.
 * A codec the browser cannot decode ends in the element's `error` event, a file that never
 * loads in the timeout; either way the caller gets the reason, never an exception. Workers
 * have no `document`, so no `<video>`: there the caller says so instead.
 */

/** The little of HTMLVideoElement used here, typed structurally (the SDK builds without the DOM library). */
export interface VideoElement {
  src: string;
  muted: boolean;
  preload: string;
  currentTime: number;
  readonly duration: number;
  readonly videoWidth: number;
  readonly videoHeight: number;
  readonly readyState: number;
  readonly error: { code: number; message?: string } | null;
  addEventListener(type: string, listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: string, listener: () => void): void;
  removeAttribute(name: string): void;
  load(): void;
}
interface DocumentLike {
  createElement(tag: 'video'): VideoElement;
}
interface UrlApi {
  createObjectURL(blob: Blob): string;
  revokeObjectURL(url: string): void;
}

/** True where a `<video>` element can be made (a page, not a worker). */
export const canMakePosters = () =>
  typeof (globalThis as { document?: DocumentLike }).document?.createElement === 'function';

// MediaError codes: 3 the decoder failed, 4 the format or codec is not supported.
const MEDIA_ERRORS: Record<number, string> = {
  1: 'loading was stopped',
  2: 'a network error',
  3: 'the video could not be decoded',
  4: 'this browser cannot play its format or codec',
};

/** How far past the start a retry seeks when the poster is the first frame (a clip of unknown length). */
const OTHER_FRAME_S = 0.1;

/** Waits for `type` on the element, failing on its `error` event. */
function eventOf(video: VideoElement, type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      video.removeEventListener(type, ok);
      video.removeEventListener('error', failed);
    };
    const ok = () => {
      done();
      resolve();
    };
    const failed = () => {
      done();
      reject(new Error(MEDIA_ERRORS[video.error?.code ?? 0] ?? 'the video could not be read'));
    };
    video.addEventListener(type, ok);
    video.addEventListener('error', failed);
  });
}

/** `work`, or an Error once `ms` have passed. */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the browser did not read it within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface LoadedVideo {
  video: VideoElement;
  width: number;
  height: number;
  /** Absent when the file does not say (a live-recorded WebM may not). */
  durationMs?: number;
  /**
   * Shows another frame and waits until it can be drawn: a busy browser may let the decoded
   * frame go before it is drawn (drawing then fails). A seek to where the video already is may
   * be skipped by the browser, the lost frame with it, so the tries go back and forth between
   * the poster frame and one halfway to the start: each is a real seek that decodes anew.
   */
  again(): Promise<void>;
  /** Lets the element and its `blob:` URL go. */
  release(): void;
}

/**
 * The video loaded and showing its poster frame, or an Error whose message says why not.
 * The caller draws `video` and then calls `release`.
 */
export async function loadPosterFrame(
  bytes: Uint8Array,
  type: string,
  timeoutMs: number,
): Promise<LoadedVideo> {
  const doc = (globalThis as unknown as { document: DocumentLike }).document;
  const urls = (globalThis as unknown as { URL: UrlApi }).URL;
  const url = urls.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const video = doc.createElement('video');
  const release = () => {
    video.removeAttribute('src');
    video.load();
    urls.revokeObjectURL(url);
  };
  /** Seeks to `at` and waits until the frame at that point can be drawn. */
  const show = async (at: number) => {
    const seeked = eventOf(video, 'seeked');
    video.currentTime = at;
    await seeked;
    // HAVE_CURRENT_DATA (2): the frame at the current position is there to draw.
    if (video.readyState < 2) await eventOf(video, 'loadeddata');
  };
  let posterAt = 0;
  let atPoster = true;
  const again = () => {
    atPoster = !atPoster;
    // The other point: earlier in the clip, or a frame on when the poster is the first.
    const otherAt = posterAt > 0 ? posterAt / 2 : OTHER_FRAME_S;
    return within(show(atPoster ? posterAt : otherAt), timeoutMs);
  };
  const load = async (): Promise<LoadedVideo> => {
    video.muted = true;
    video.preload = 'auto';
    const metadata = eventOf(video, 'loadedmetadata');
    video.src = url;
    await metadata;
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (!width || !height) throw new Error('it has no picture this browser can show');
    const seconds = video.duration;
    const known = Number.isFinite(seconds) && seconds > 0;
    // A frame past the first (which is often black), but inside a short clip.
    posterAt = known ? Math.min(1, seconds / 2) : 0;
    await show(posterAt);
    return {
      video,
      width,
      height,
      ...(known && { durationMs: Math.round(seconds * 1000) }),
      again,
      release,
    };
  };
  try {
    return await within(load(), timeoutMs);
  } catch (err) {
    release();
    throw err;
  }
}
