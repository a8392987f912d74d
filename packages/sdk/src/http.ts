/**
 * HTTP API helpers (auth, linking, device management) over the global fetch. Errors come
 * back as ParleyError with the server's code; a network failure is UNAVAILABLE. Tokens
 * and codes are never put in error messages.
 */

import { type ErrorCode, isErrorCode, ParleyError } from '@parley/protocol';
import type { MediaClass } from './crypto/media-type.js';
import { hex } from './discover.js';
import type { CodeRequested, Credentials, DeviceInfo, LinkCode, RegistrationLockStatus } from './types.js';
import { apiUrl, normalizeServerUrl } from './urls.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface HttpOptions {
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
}

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  token?: string;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

/**
 * Turns a non-2xx response into a ParleyError, trusting the body's code when it is known.
 * `details` (PIN_REQUIRED and PIN_INVALID carry `pinTriesLeft`, PIN_LOCKED `lockedUntil`) are kept.
 */
export async function errorFromResponse(res: Response): Promise<ParleyError> {
  let body:
    | { error?: { code?: unknown; message?: unknown; retryAfterMs?: unknown; details?: unknown } }
    | undefined;
  try {
    body = (await res.json()) as typeof body;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  const code: ErrorCode =
    typeof e?.code === 'string' && isErrorCode(e.code)
      ? e.code
      : (STATUS_CODES[res.status] ?? (res.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL'));
  const message = typeof e?.message === 'string' ? e.message : `HTTP ${res.status}`;
  const retryAfterMs = typeof e?.retryAfterMs === 'number' ? e.retryAfterMs : undefined;
  const details =
    typeof e?.details === 'object' && e.details !== null && !Array.isArray(e.details)
      ? (e.details as Record<string, unknown>)
      : undefined;
  return new ParleyError(code, message, {
    ...(retryAfterMs !== undefined && { retryAfterMs }),
    ...(details && { details }),
  });
}

/** One request; a network failure is UNAVAILABLE and a non-2xx answer the server's error. */
async function request(
  serverUrl: string,
  path: string,
  init: RequestInit,
  options: HttpOptions,
): Promise<Response> {
  const doFetch = options.fetch ?? ((url, i) => fetch(url, i));
  let res: Response;
  try {
    res = await doFetch(apiUrl(serverUrl, path), init);
  } catch (err) {
    throw new ParleyError('UNAVAILABLE', `cannot reach ${normalizeServerUrl(serverUrl)}`, { cause: err });
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res;
}

async function call<T>(serverUrl: string, req: Call, options: HttpOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  if (req.token !== undefined) headers.authorization = `Bearer ${req.token}`;
  const res = await request(
    serverUrl,
    req.path,
    { method: req.method, headers, body: req.body === undefined ? undefined : JSON.stringify(req.body) },
    options,
  );
  if (res.status === 204) return undefined as T;
  try {
    return (await res.json()) as T;
  } catch (err) {
    throw new ParleyError('INTERNAL', `bad JSON answer from ${req.method} ${req.path}`, { cause: err });
  }
}

function credentialsFrom(
  serverUrl: string,
  body: { userId: string; deviceId: string; token: string; primary: boolean },
): Credentials {
  return {
    serverUrl: normalizeServerUrl(serverUrl),
    userId: body.userId,
    deviceId: body.deviceId,
    token: body.token,
    primary: body.primary,
  };
}

/** Asks the server to send a one-time code by SMS to an E.164 phone number. */
export function requestCode(serverUrl: string, phone: string, options?: HttpOptions): Promise<CodeRequested> {
  return call(serverUrl, { method: 'POST', path: '/v1/auth/code', body: { phone } }, options);
}

/**
 * Trades the SMS code for credentials of a new primary device. A number with a registration
 * lock answers PIN_REQUIRED (`details.pinTriesLeft`) without `pin`: call again with the same
 * code and the PIN. A wrong PIN is PIN_INVALID, too many are PIN_LOCKED (`retryAfterMs`).
 */
export async function verifyCode(
  serverUrl: string,
  input: { phone: string; code: string; deviceName?: string; pin?: string },
  options?: HttpOptions,
): Promise<Credentials> {
  const body = await call<Credentials>(
    serverUrl,
    { method: 'POST', path: '/v1/auth/verify', body: input },
    options,
  );
  return credentialsFrom(serverUrl, body);
}

/** On the primary device: a short-lived code that links one new device. */
export function createLinkCode(credentials: Credentials, options?: HttpOptions): Promise<LinkCode> {
  const req: Call = { method: 'POST', path: '/v1/devices/link-code', body: {}, token: credentials.token };
  return call(credentials.serverUrl, req, options);
}

/**
 * A one-use ticket that opens one WebSocket of this device within 30 s, as `/v1/ws?ticket=…`
 * (for browsers, which cannot send the Authorization header; see ticketWebSocketFactory).
 */
export function createSocketTicket(
  credentials: Pick<Credentials, 'serverUrl' | 'token'>,
  options?: HttpOptions,
): Promise<{ ticket: string; expiresAt: number }> {
  const req: Call = { method: 'POST', path: '/v1/socket-tickets', token: credentials.token };
  return call(credentials.serverUrl, req, options);
}

/** On the new device: trades a link code for credentials of a linked (non-primary) device. */
export async function linkDevice(
  serverUrl: string,
  input: { code: string; deviceName?: string },
  options?: HttpOptions,
): Promise<Credentials> {
  const body = await call<Credentials>(
    serverUrl,
    { method: 'POST', path: '/v1/devices/link', body: input },
    options,
  );
  return credentialsFrom(serverUrl, body);
}

/** The caller's own devices. */
export async function listDevices(credentials: Credentials, options?: HttpOptions): Promise<DeviceInfo[]> {
  const req: Call = { method: 'GET', path: '/v1/devices', token: credentials.token };
  const body = await call<{ devices: DeviceInfo[] }>(credentials.serverUrl, req, options);
  return body.devices;
}

/** Removes one of the caller's devices (its socket closes with 4003). */
export async function removeDevice(
  credentials: Credentials,
  deviceId: string,
  options?: HttpOptions,
): Promise<void> {
  const path = `/v1/devices/${encodeURIComponent(deviceId)}`;
  await call<void>(credentials.serverUrl, { method: 'DELETE', path, token: credentials.token }, options);
}

/** Whether the account has a registration-lock PIN (any device may ask). */
export function registrationLockStatus(
  credentials: Credentials,
  options?: HttpOptions,
): Promise<RegistrationLockStatus> {
  const req: Call = { method: 'GET', path: '/v1/account/pin', token: credentials.token };
  return call(credentials.serverUrl, req, options);
}

/**
 * On the primary device: sets or changes the registration-lock PIN (6 to 20 digits; no current
 * PIN needed). Registering the number on a new phone then needs it after the SMS code. Also
 * ends a lockout.
 */
export function setRegistrationLock(
  credentials: Credentials,
  pin: string,
  options?: HttpOptions,
): Promise<RegistrationLockStatus> {
  const req: Call = { method: 'PUT', path: '/v1/account/pin', body: { pin }, token: credentials.token };
  return call(credentials.serverUrl, req, options);
}

/** On the primary device: removes the registration-lock PIN (and ends any lockout). */
export function removeRegistrationLock(
  credentials: Credentials,
  options?: HttpOptions,
): Promise<RegistrationLockStatus> {
  const req: Call = { method: 'DELETE', path: '/v1/account/pin', token: credentials.token };
  return call(credentials.serverUrl, req, options);
}

/** On the primary device: asks for an SMS code, sent to the account's number, that deletes the account. */
export function requestAccountDeletionCode(
  credentials: Credentials,
  options?: HttpOptions,
): Promise<CodeRequested> {
  const req: Call = { method: 'POST', path: '/v1/account/delete-code', body: {}, token: credentials.token };
  return call(credentials.serverUrl, req, options);
}

/**
 * On the primary device: deletes the account for good with the code from
 * requestAccountDeletionCode. Every device's socket closes with 4003; the number can register
 * again as a new user.
 */
export function deleteAccount(
  credentials: Credentials,
  code: string,
  options?: HttpOptions,
): Promise<{ chatsLeft: number; chatsDropped: number }> {
  const req: Call = { method: 'DELETE', path: '/v1/account', body: { code }, token: credentials.token };
  return call(credentials.serverUrl, req, options);
}

/** SHA-256 of the bytes as lowercase hex: the id the server stores media under. */
export async function mediaIdOf(bytes: Uint8Array): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

/**
 * Uploads a media body (ciphertext, with end-to-end encryption); returns its id. Idempotent.
 * `use: 'avatar'` marks the profile avatar, which users who may read this user's profile may
 * fetch; any other body is fetched by its uploader and by members of chats whose messages
 * declare it (`mediaIds`, which SecureMessaging sends with every attachment).
 */
export async function uploadMedia(
  credentials: Credentials,
  body: Uint8Array,
  options: HttpOptions & { mediaClass?: MediaClass; use?: 'attachment' | 'avatar' } = {},
): Promise<{ mediaId: string; size: number }> {
  const mediaId = await mediaIdOf(body);
  const res = await request(
    credentials.serverUrl,
    `/v1/media/${mediaId}`,
    {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${credentials.token}`,
        'content-type': 'application/octet-stream',
        'x-media-class': options.mediaClass ?? 'document',
        ...(options.use && { 'x-media-use': options.use }),
      },
      body: body as Uint8Array<ArrayBuffer>,
    },
    options,
  );
  await res.body?.cancel();
  return { mediaId, size: body.length };
}

export interface DownloadOptions extends HttpOptions {
  /** Bytes received so far and the whole size, as they arrive. */
  onProgress?: (received: number, total: number) => void;
  signal?: AbortSignal;
  /** Times a dropped download goes on from where it stopped (a Range request); default 5. */
  retries?: number;
  /**
   * The start of the body, kept by an earlier run that was cut off: only the rest is asked
   * for (`Range` + `If-Range`); if the server sends the whole body instead, it starts over.
   */
  have?: Uint8Array;
  /** Each chunk as it arrives and its offset in the body (to keep it, for a later `have`). */
  onChunk?: (chunk: Uint8Array, offset: number) => void | Promise<void>;
}

/** A signed URL for a media body, for this device (path and query; see `mediaUrl`). */
export interface MediaUrl {
  url: string;
  /** Milliseconds since the Unix epoch; after it the server answers MEDIA_URL_EXPIRED. */
  expiresAt: number;
}

/**
 * Asks for a short-lived URL (1 h by default) that downloads the body; it works only with
 * this device's credentials, on any node. NOT_FOUND when there is no such body or this user
 * may not fetch it (not its uploader, nor a member of a chat whose messages declare it).
 */
export async function mediaUrl(
  credentials: Credentials,
  mediaId: string,
  options: HttpOptions = {},
): Promise<MediaUrl> {
  if (!/^[0-9a-f]{64}$/.test(mediaId)) throw new ParleyError('INVALID_ARGUMENT', 'not a media id');
  const req: Call = { method: 'POST', path: `/v1/media/${mediaId}/url`, token: credentials.token };
  const got = await call<MediaUrl>(credentials.serverUrl, req, options);
  // Only ever a path on the same server: the bearer token goes nowhere else.
  if (typeof got?.url !== 'string' || !got.url.startsWith(`/v1/media/${mediaId}?`))
    throw new ParleyError('INTERNAL', 'the server answered a media URL of another shape');
  return got;
}

/**
 * Downloads a media body through a signed URL (`mediaUrl`, asked for again when it expires)
 * and checks it hashes to its id. The bytes stream in with progress; when the connection
 * drops, the download goes on from the byte it got to (`Range`, with `If-Range` so a changed
 * body would start over) instead of from zero.
 */
export async function downloadMedia(
  credentials: Credentials,
  mediaId: string,
  options: DownloadOptions = {},
): Promise<Uint8Array> {
  if (!/^[0-9a-f]{64}$/.test(mediaId)) throw new ParleyError('INVALID_ARGUMENT', 'not a media id');
  const parts: Uint8Array[] = options.have?.length ? [options.have] : [];
  let received = options.have?.length ?? 0;
  let total: number | undefined;
  let failures = 0;
  let signed: MediaUrl | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const headers: Record<string, string> = { authorization: `Bearer ${credentials.token}` };
    if (received > 0) Object.assign(headers, { range: `bytes=${received}-`, 'if-range': `"${mediaId}"` });
    try {
      signed ??= await mediaUrl(credentials, mediaId, options);
      const res = await request(
        credentials.serverUrl,
        signed.url,
        { method: 'GET', headers, ...(options.signal && { signal: options.signal }) },
        options,
      ).catch((err: unknown) => {
        // A URL that ran out while the download went on: the next try asks for a new one.
        if (err instanceof ParleyError && err.code === 'MEDIA_URL_EXPIRED') {
          signed = undefined;
          throw new ParleyError('UNAVAILABLE', 'the media URL expired', { cause: err });
        }
        throw err;
      });
      if (received > 0 && res.status !== 206) {
        parts.length = 0; // the whole body came instead of the rest
        received = 0;
      }
      total ??= sizeOf(res, received);
      const reader = res.body?.getReader();
      if (!reader) throw new ParleyError('UNAVAILABLE', 'the download has no body');
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await options.onChunk?.(value, received);
        parts.push(value);
        received += value.length;
        failures = 0;
        options.onProgress?.(received, total ?? received);
      }
      if (total !== undefined && received < total)
        throw new ParleyError('UNAVAILABLE', 'the download was cut off');
      break;
    } catch (err) {
      if (options.signal?.aborted) throw err;
      if (err instanceof ParleyError && err.code === 'RANGE_NOT_SATISFIABLE' && received > 0) {
        // Nothing after the kept bytes: they are the whole body, or not this body at all.
        if ((await mediaIdOf(concatParts(parts, received))) === mediaId) break;
        parts.length = 0;
        received = 0;
        continue;
      }
      const retryable = err instanceof ParleyError ? err.retryable : true; // a dropped stream
      if (!retryable || ++failures > (options.retries ?? 5)) {
        throw err instanceof ParleyError
          ? err
          : new ParleyError('UNAVAILABLE', 'the download failed', { cause: err });
      }
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** failures, 5000)));
    }
  }
  if (total !== undefined && received > total)
    throw new ParleyError('DIGEST_MISMATCH', 'the kept start of the download is longer than the body');
  const body = concatParts(parts, received);
  if ((await mediaIdOf(body)) !== mediaId) {
    throw new ParleyError('DIGEST_MISMATCH', 'the downloaded media does not match its id');
  }
  return body;
}

/** The whole body's size from a 200's Content-Length or a 206's Content-Range. */
function sizeOf(res: Response, offset: number): number | undefined {
  const range = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
  if (range) return Number(range[1]);
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  return Number.isSafeInteger(length) ? length + (res.status === 206 ? offset : 0) : undefined;
}

function concatParts(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
