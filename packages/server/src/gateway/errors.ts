/** Maps anything thrown to a ParleyError exactly once per edge; unknown errors become INTERNAL and are logged. */
import { type FrameInit, ParleyError } from '@parley/protocol';
import type { Logger } from '../log.js';

export function toParleyError(err: unknown, log: Logger): ParleyError {
  if (err instanceof ParleyError) {
    if (err.code === 'INTERNAL') log.error({ err: err.cause ?? err }, 'internal error');
    return err;
  }
  log.error({ err }, 'unexpected error');
  return new ParleyError('INTERNAL', 'internal error', { cause: err });
}

export function errorBody(err: ParleyError): FrameInit['body'] {
  const mismatch =
    err.code === 'DEVICE_MISMATCH' ? (err.details as Record<string, never> | undefined) : undefined;
  return {
    case: 'error',
    value: {
      code: err.code,
      message: err.message,
      retryAfterMs: err.retryAfterMs ?? 0,
      ...(mismatch && { deviceMismatch: mismatch }),
    },
  };
}

export function errorJson(err: ParleyError): {
  error: { code: string; message: string; retryAfterMs?: number };
} {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.retryAfterMs !== undefined && { retryAfterMs: err.retryAfterMs }),
    },
  };
}
