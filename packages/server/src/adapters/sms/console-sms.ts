/**
 * The default SmsProvider: a stand-in for an SMS gateway. In dev mode it writes the code to
 * the log and appends it to <dataDir>/sms-codes.log so a person trying Parley can register;
 * outside dev mode it refuses, because a code that reaches nobody would lock users out.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { ParleyError } from '@parley/protocol';
import type { Logger } from '../../log.js';
import type { SmsProvider } from '../../ports/sms.js';

export class ConsoleSms implements SmsProvider {
  readonly name = 'console';

  constructor(private readonly options: { dev: boolean; dataDir: string; log: Logger }) {}

  async sendCode(phone: string, code: string): Promise<void> {
    if (!this.options.dev) {
      throw new ParleyError(
        'UNAVAILABLE',
        'no SMS provider is configured (the console provider works in dev mode only)',
      );
    }
    // Dev sink by design: this line is the SMS a real provider would send.
    this.options.log.warn({ devSms: { to: phone, text: `Parley code ${code}` } }, 'dev SMS (not sent)');
    // Owner-only, also when an older version created the file with a wider mode.
    const file = await open(join(this.options.dataDir, 'sms-codes.log'), 'a', 0o600);
    try {
      await file.chmod(0o600);
      await file.appendFile(`${new Date().toISOString()} ${phone} ${code}\n`);
    } finally {
      await file.close();
    }
  }
}
