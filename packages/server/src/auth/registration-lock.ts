/**
 * The registration lock (two-step PIN). A user may set a 6-20 digit PIN from the primary
 * device; registering a new primary for the number then needs the PIN after the right SMS
 * code. Wrong PINs are counted in the store before the PIN is compared (so racing tries, on
 * any node, never get more than pinMaxAttempts), and the last one starts a lockout of
 * pinLockoutMs. The primary device may change or remove the PIN at any time without the
 * current one (holding the primary is holding the account), and that also ends a lockout: it
 * is how the old phone lets a new one in. The lock stops applying once no device of the
 * account has been seen for pinLockIdleMs. The account's connected devices are told of every
 * try. The PIN itself is never logged or stored, only its Argon2id hash (pin-hash.ts).
 */
import { ParleyError, RegistrationAttemptStage } from '@parley/protocol';
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import type { Limiters } from '../limits/limiters.js';
import type { Logger } from '../log.js';
import type { Clock } from '../ports/clock.js';
import type { RegistrationLock, Store } from '../ports/store.js';
import type { Device, UserId } from '../ports/types.js';
import { hashPin, pinMatches } from './pin-hash.js';

export interface RegistrationAttemptNotice {
  stage: RegistrationAttemptStage;
  pinTriesLeft: number;
  lockedUntil: number;
}

export interface RegistrationLockDeps {
  store: Store;
  clock: Clock;
  config: Config;
  limiters: Limiters;
  log: Logger;
  /** Tells the user's connected devices that someone is registering the number elsewhere. */
  notify: (userId: UserId, notice: RegistrationAttemptNotice) => void;
}

export interface RegistrationLockStatus {
  enabled: boolean;
  /** When the PIN was set (ms since epoch); only when enabled. */
  setAt?: number;
}

/** A PIN: 6 to 20 ASCII digits. The messages never quote the value. */
export const pinSchema = z
  .string({ error: 'pin must be a string of 6 to 20 digits' })
  .regex(/^[0-9]{6,20}$/, { error: 'pin must be 6 to 20 digits (0-9)' });

const setBody = z.strictObject({ pin: pinSchema }, { error: 'the body must be {"pin": "<6 to 20 digits>"}' });

/** The value, or INVALID_ARGUMENT with the schema's first message (never the input). */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  const message =
    issue?.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : issue?.message;
  throw new ParleyError('INVALID_ARGUMENT', `${where}${message ?? 'invalid request'}`);
}

/** PERMISSION_DENIED unless `device` is the primary: only it sets, changes or removes the PIN. */
export function assertMayChangePin(device: Device): void {
  if (!device.primary) {
    throw new ParleyError('PERMISSION_DENIED', 'only the primary device can set, change or remove the PIN');
  }
}

export class RegistrationLockService {
  constructor(private readonly d: RegistrationLockDeps) {}

  async status(device: Device): Promise<RegistrationLockStatus> {
    const lock = await this.d.store.registrationLockGet(device.userId);
    return lock ? { enabled: true, setAt: lock.setAt } : { enabled: false };
  }

  /** Sets or changes the PIN (primary only, no current PIN needed); ends any lockout. */
  async set(device: Device, body: unknown): Promise<RegistrationLockStatus> {
    assertMayChangePin(device);
    const { pin } = parseInput(setBody, body);
    await this.d.limiters.take('pinChange', device.userId);
    const now = this.d.clock.now();
    await this.d.store.registrationLockSet(device.userId, await hashPin(pin), now);
    this.d.log.info({ userId: device.userId, deviceId: device.id }, 'registration lock PIN set');
    return { enabled: true, setAt: now };
  }

  /** Removes the PIN (primary only); ends any lockout. */
  async remove(device: Device): Promise<RegistrationLockStatus> {
    assertMayChangePin(device);
    await this.d.limiters.take('pinChange', device.userId);
    if (await this.d.store.registrationLockDelete(device.userId)) {
      this.d.log.info({ userId: device.userId, deviceId: device.id }, 'registration lock PIN removed');
    }
    return { enabled: false };
  }

  /**
   * After the right SMS code for an existing user's number: returns when registration may go
   * on (no PIN, the right PIN, or a lock that expired, which is then removed), and throws
   * PIN_REQUIRED, PIN_INVALID or PIN_LOCKED otherwise. `whileLocked` runs first whenever the
   * lock is in force (the caller gives back the SMS code's attempt, so the code stays usable
   * for the PIN step). `pin` was validated by the caller.
   */
  async admit(
    userId: UserId,
    pin: string | undefined,
    now: number,
    whileLocked: () => Promise<void>,
  ): Promise<void> {
    const { store, config } = this.d;
    const lock = await store.registrationLockGet(userId);
    if (!lock) return;
    if (now - lock.lastDeviceSeenAt >= config.pinLockIdleMs) {
      // As WhatsApp's: an account unused this long can be registered again; its PIN goes so
      // the new primary is not held to a PIN it may not know.
      await store.registrationLockDelete(userId);
      this.d.log.info({ userId }, 'registration lock expired: no device seen for pinLockIdleMs');
      return;
    }
    await whileLocked();
    if (lock.lockedUntil > now) throw this.lockedOut(userId, lock.lockedUntil, now);
    if (pin === undefined) {
      const pinTriesLeft = lock.lockedUntil > 0 ? config.pinMaxAttempts : this.triesLeft(lock);
      this.notify(userId, RegistrationAttemptStage.PIN_REQUESTED, pinTriesLeft, 0);
      throw new ParleyError('PIN_REQUIRED', 'this number has a registration lock: send the PIN too', {
        details: { pinTriesLeft },
      });
    }
    const taken = await store.registrationLockAttemptTake(
      userId,
      now,
      config.pinMaxAttempts,
      config.pinLockoutMs,
    );
    if (!taken) {
      const current = await store.registrationLockGet(userId);
      // Removed meanwhile by the primary: nothing to check any more.
      if (!current) return;
      throw this.lockedOut(userId, current.lockedUntil, now);
    }
    if (await pinMatches(taken.pinHash, pin)) {
      await store.registrationLockAttemptsReset(userId, taken.pinHash);
      return;
    }
    this.d.log.info({ userId, failedAttempts: taken.failedAttempts }, 'wrong registration lock PIN');
    if (taken.lockedUntil > now) throw this.lockedOut(userId, taken.lockedUntil, now);
    const pinTriesLeft = this.triesLeft(taken);
    this.notify(userId, RegistrationAttemptStage.WRONG_PIN, pinTriesLeft, 0);
    throw new ParleyError('PIN_INVALID', `wrong PIN (${pinTriesLeft} tries left)`, {
      details: { pinTriesLeft },
    });
  }

  private triesLeft(lock: RegistrationLock): number {
    return Math.max(0, this.d.config.pinMaxAttempts - lock.failedAttempts);
  }

  private lockedOut(userId: UserId, lockedUntil: number, now: number): ParleyError {
    this.notify(userId, RegistrationAttemptStage.LOCKED_OUT, 0, lockedUntil);
    return new ParleyError(
      'PIN_LOCKED',
      'too many wrong PINs: registration is locked; wait, or remove the PIN on the primary device',
      { retryAfterMs: Math.max(1, lockedUntil - now), details: { lockedUntil } },
    );
  }

  private notify(
    userId: UserId,
    stage: RegistrationAttemptStage,
    pinTriesLeft: number,
    lockedUntil: number,
  ): void {
    try {
      this.d.notify(userId, { stage, pinTriesLeft, lockedUntil });
    } catch (err) {
      // Telling the devices is best effort; the answer to the registering client is not.
      this.d.log.warn({ err, userId }, 'could not tell devices about a registration attempt');
    }
  }
}
