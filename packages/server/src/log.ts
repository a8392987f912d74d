/** Structured JSON logs (pino). Callers log ids and counts only, never payloads, codes or tokens. */
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    redact: { paths: ['token', 'payload', '*.token', '*.payload'], censor: '[redacted]' },
  });
}
