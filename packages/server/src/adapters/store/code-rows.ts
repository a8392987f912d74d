/** The `codes` table row as both SQL stores read it, and the OneTimeCode it stands for. */
import type { OneTimeCode } from '../../ports/store.js';

export interface CodeRow {
  phone: string;
  code_hash: string;
  expires_at: number;
  attempts: number;
  sent_at: number;
}

export function toCode(r: CodeRow | undefined): OneTimeCode | undefined {
  return (
    r && {
      phone: r.phone,
      codeHash: r.code_hash,
      expiresAt: Number(r.expires_at),
      attempts: Number(r.attempts),
      sentAt: Number(r.sent_at),
    }
  );
}
