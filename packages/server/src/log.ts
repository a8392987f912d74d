/** Structured JSON logs (pino). Callers log ids and counts only, never payloads, codes or tokens. */
import { pino } from 'pino';

export type Logger = pino.Logger;

/** `fd` 2 writes to stderr (commands whose stdout is their output); stdout by default. */
export function createLogger(level: string, fd?: 1 | 2): Logger {
  const options = {
    level,
    base: undefined,
    redact: { paths: ['token', 'payload', '*.token', '*.payload'], censor: '[redacted]' },
  };
  return fd === undefined ? pino(options) : pino(options, pino.destination({ fd, sync: true }));
}
