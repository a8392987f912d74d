/** The newest code the node's console SMS provider wrote for `phone` to <dataDir>/sms-codes.log. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function readCodeFromLog(dataDir: string, phone: string): string {
  const line = readFileSync(join(dataDir, 'sms-codes.log'), 'utf8')
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.split(' ')[1] === phone);
  const code = line?.split(' ')[2];
  if (!code) throw new Error(`no code for ${phone} in sms-codes.log`);
  return code;
}
