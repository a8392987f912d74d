/** The `registration_locks` table row as both SQL stores read it, and the RegistrationLock it stands for. */
import type { RegistrationLock } from '../../ports/store.js';
import type { UserId } from '../../ports/types.js';

export interface LockRow {
  user_id: string;
  pin_hash: string;
  set_at: number;
  failed_attempts: number;
  locked_until: number;
}

export function toLock(r: LockRow | undefined): RegistrationLock | undefined {
  return (
    r && {
      userId: r.user_id as UserId,
      pinHash: r.pin_hash,
      setAt: Number(r.set_at),
      failedAttempts: Number(r.failed_attempts),
      lockedUntil: Number(r.locked_until),
    }
  );
}
