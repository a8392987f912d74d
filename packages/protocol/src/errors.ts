/**
 * The one table of error codes shared by server and SDK. A code is stable once released;
 * `http` is the status used when the error crosses the HTTP edge, `retryable` tells a
 * client whether the same request may succeed later unchanged.
 */
export const ErrorCodes = {
  BAD_FRAME: { http: 400, retryable: false },
  UNKNOWN_TYPE: { http: 400, retryable: false },
  FRAME_TOO_LARGE: { http: 413, retryable: false },
  INVALID_ARGUMENT: { http: 400, retryable: false },
  PAYLOAD_TOO_LARGE: { http: 413, retryable: false },
  INVALID_PHONE: { http: 400, retryable: false },
  PHONE_TYPE_NOT_ALLOWED: { http: 400, retryable: false },
  SMS_DELIVERY_FAILED: { http: 502, retryable: false },
  CODE_INVALID: { http: 400, retryable: false },
  CODE_EXPIRED: { http: 400, retryable: false },
  TOO_MANY_ATTEMPTS: { http: 429, retryable: false },
  PIN_REQUIRED: { http: 403, retryable: false },
  PIN_INVALID: { http: 403, retryable: false },
  PIN_LOCKED: { http: 423, retryable: false },
  RATE_LIMITED: { http: 429, retryable: true },
  UNAUTHENTICATED: { http: 401, retryable: false },
  PERMISSION_DENIED: { http: 403, retryable: false },
  NOT_FOUND: { http: 404, retryable: false },
  ACCOUNT_SUSPENDED: { http: 403, retryable: false },
  USER_BLOCKED: { http: 403, retryable: false },
  CANNOT_ADD_USER: { http: 403, retryable: false },
  BLOCK_LIST_FULL: { http: 409, retryable: false },
  CHAT_NOT_FOUND: { http: 404, retryable: false },
  USER_NOT_FOUND: { http: 404, retryable: false },
  NOT_A_MEMBER: { http: 403, retryable: false },
  ALREADY_MEMBER: { http: 409, retryable: false },
  GROUP_FULL: { http: 409, retryable: false },
  DEVICE_LIMIT: { http: 409, retryable: false },
  DEVICE_MISMATCH: { http: 409, retryable: true },
  IDENTITY_KEY_MISMATCH: { http: 409, retryable: false },
  BAD_SIGNATURE: { http: 400, retryable: false },
  DIGEST_MISMATCH: { http: 400, retryable: false },
  RANGE_NOT_SATISFIABLE: { http: 416, retryable: false },
  MEDIA_URL_INVALID: { http: 403, retryable: false },
  MEDIA_URL_EXPIRED: { http: 403, retryable: false },
  MEDIA_TYPE_MISMATCH: { http: 400, retryable: false },
  IMAGE_TOO_LARGE: { http: 400, retryable: false },
  EDIT_WINDOW_PASSED: { http: 409, retryable: false },
  DELETE_WINDOW_PASSED: { http: 409, retryable: false },
  TOO_MANY_REACTIONS: { http: 409, retryable: false },
  TOO_MANY_PINS: { http: 409, retryable: false },
  PROFILE_VERSION_STALE: { http: 409, retryable: false },
  ACK_UNKNOWN_CHAT: { http: 400, retryable: false },
  ACK_AHEAD: { http: 400, retryable: false },
  UNSUPPORTED_VERSION: { http: 426, retryable: false },
  REQUEST_TIMEOUT: { http: 408, retryable: true },
  SHUTTING_DOWN: { http: 503, retryable: true },
  UNAVAILABLE: { http: 503, retryable: true },
  INTERNAL: { http: 500, retryable: true },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ErrorCodes, code);
}

export interface ParleyErrorOptions {
  cause?: unknown;
  retryAfterMs?: number;
  details?: Record<string, unknown>;
}

/** The error type both sides throw; `code` is one of {@link ErrorCodes}. */
export class ParleyError extends Error {
  override readonly name = 'ParleyError';
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: ParleyErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }

  get retryable(): boolean {
    return ErrorCodes[this.code].retryable;
  }

  get httpStatus(): number {
    return ErrorCodes[this.code].http;
  }
}

/**
 * WebSocket close codes the server uses (4000-4999 is the application range).
 * A client must not reconnect automatically after REPLACED, REVOKED or UNSUPPORTED.
 */
export const CloseCodes = {
  /** Server is shutting down or restarting; reconnect with backoff. */
  GOING_AWAY: 1001,
  /** A frame exceeded the hard size limit. */
  TOO_BIG: 1009,
  /** Too many bad frames; the client is misbehaving. */
  POLICY: 1008,
  /** Another connection for the same device was opened; this one is closed. */
  REPLACED: 4001,
  /** The device credential was revoked (device removed or logged out). */
  REVOKED: 4003,
  /** The account was suspended by an operator; do not reconnect (connecting answers ACCOUNT_SUSPENDED). */
  SUSPENDED: 4004,
  /** No heartbeat answer (pong) within two intervals: the client is gone or stopped reading. */
  HEARTBEAT_TIMEOUT: 4008,
  /** The client did not read what the server sent: the connection's send buffer passed its limit. */
  SLOW_CONSUMER: 4009,
  /** The server failed while handling this connection (a bug); reconnect with backoff. */
  INTERNAL_ERROR: 1011,
} as const;
