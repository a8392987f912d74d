/** Maps anything thrown to a ParleyError exactly once per edge; unknown errors become INTERNAL and are logged. */
import { type FrameInit, ParleyError } from '@parley/protocol';
import type { Logger } from '../log.js';

export function toParleyError(err: unknown, log: Pick<Logger, 'error'>): ParleyError {
  if (err instanceof ParleyError) {
    if (err.code === 'INTERNAL') log.error({ err: err.cause ?? err }, 'internal error');
    return err;
  }
  log.error({ err }, 'unexpected error');
  return new ParleyError('INTERNAL', 'internal error', { cause: err });
}

/** Longest error message sent on a socket; decoder messages can quote what the client sent. */
const MAX_MESSAGE = 300;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The `error` body of a frame. Its message may quote client input (an unknown JSON key), so it
 * is made well-formed (a lone surrogate would make the frame undecodable) and cut short.
 */
export function errorBody(err: ParleyError): FrameInit['body'] {
  const cut = err.message.length > MAX_MESSAGE ? `${err.message.slice(0, MAX_MESSAGE)}…` : err.message;
  const message = cut.replace(LONE_SURROGATE, '\uFFFD');
  const mismatch =
    err.code === 'DEVICE_MISMATCH' ? (err.details as Record<string, never> | undefined) : undefined;
  return {
    case: 'error',
    value: {
      code: err.code,
      message,
      retryAfterMs: err.retryAfterMs ?? 0,
      ...(mismatch && { deviceMismatch: mismatch }),
    },
  };
}

/** Codes whose details are meant for the client (the others' details stay in the logs). */
const CLIENT_DETAILS: ReadonlySet<string> = new Set(['PIN_REQUIRED', 'PIN_INVALID', 'PIN_LOCKED']);

/** An HTTP `Retry-After` value: the error's wait in whole seconds, rounded up. */
export function retryAfterSeconds(retryAfterMs: number): string {
  return String(Math.ceil(retryAfterMs / 1000));
}

export function errorJson(err: ParleyError): {
  error: { code: string; message: string; retryAfterMs?: number; details?: Record<string, unknown> };
} {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.retryAfterMs !== undefined && { retryAfterMs: err.retryAfterMs }),
      ...(err.details && CLIENT_DETAILS.has(err.code) && { details: err.details }),
    },
  };
}
