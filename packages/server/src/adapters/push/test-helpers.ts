/** Small helpers the providers' tests share. */
import { createServer } from 'node:net';
import { pino } from 'pino';
import type { Logger } from '../../log.js';

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function silentLog(): Logger {
  return pino({ level: 'silent' });
}
