/**
 * The tus requests the upload tests make by hand (create, PATCH, HEAD against a node's
 * `/v1/uploads`), and an in-memory store of kept upload URLs for the SDK's resume, which can
 * hand a URL back pointed at another node.
 */
import type { UploadResumeStore } from '@parley/sdk';

export const TUS = { 'tus-resumable': '1.0.0' };
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** POST /v1/uploads with the length and `meta` as Upload-Metadata. */
export const tusCreate = (
  base: string,
  token: string,
  length: number,
  meta: Record<string, string>,
  extra: Record<string, string> = {},
) =>
  fetch(`${base}/v1/uploads`, {
    method: 'POST',
    headers: {
      ...TUS,
      authorization: `Bearer ${token}`,
      'upload-length': String(length),
      'upload-metadata': Object.entries(meta)
        .map(([k, v]) => `${k} ${b64(v)}`)
        .join(','),
      ...extra,
    },
  });

/** The headers of a PATCH at `offset`. */
export const tusPatchHeaders = (token: string, offset: number, extra: Record<string, string> = {}) => ({
  ...TUS,
  authorization: `Bearer ${token}`,
  'content-type': 'application/offset+octet-stream',
  'upload-offset': String(offset),
  ...extra,
});

/** PATCH of `body` at `offset` to an upload's URL (relative to `base`). */
export const tusPatch = (
  base: string,
  url: string,
  token: string,
  offset: number,
  body: Uint8Array | string,
  extra: Record<string, string> = {},
) => fetch(new URL(url, base), { method: 'PATCH', headers: tusPatchHeaders(token, offset, extra), body });

export const tusHead = (base: string, url: string, token: string) =>
  fetch(new URL(url, base), { method: 'HEAD', headers: { ...TUS, authorization: `Bearer ${token}` } });

/** Kept upload URLs in memory; `rewrite` changes a URL as it is read back (to another node). */
export function keptUploads(
  rewrite: (url: string) => string = (url) => url,
  initial: Iterable<[string, string]> = [],
): UploadResumeStore & { kept: Map<string, string> } {
  const kept = new Map(initial);
  return {
    kept,
    get: async (k) => {
      const url = kept.get(k);
      return url === undefined ? undefined : rewrite(url);
    },
    set: async (k, v) => void kept.set(k, v),
    delete: async (k) => void kept.delete(k),
  };
}
