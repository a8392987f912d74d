/** Registers a user against a child-process node in dev mode, reading the code from sms-codes.log. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { http } from './harness.js';

export async function registerViaLog(url: string, dataDir: string, phone: string) {
  const r1 = await http(`${url}/v1/auth/code`, 'POST', { phone });
  if (r1.status !== 200) throw new Error(`code request failed: ${JSON.stringify(r1.body)}`);
  const line = readFileSync(join(dataDir, 'sms-codes.log'), 'utf8')
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.split(' ')[1] === phone);
  const r2 = await http(`${url}/v1/auth/verify`, 'POST', { phone, code: line?.split(' ')[2] });
  if (r2.status !== 200) throw new Error(`verify failed: ${JSON.stringify(r2.body)}`);
  return r2.body as { userId: string; deviceId: string; token: string };
}
