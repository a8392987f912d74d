/**
 * Registration and device credentials. A code is 6 digits, expires (codeTtlMs), allows
 * codeMaxAttempts tries and can be re-sent only after codeResendMs. Each try first takes an
 * attempt in the store, atomically, and only then is the code compared, so racing requests
 * never get more than codeMaxAttempts guesses; of racing right answers one wins. Codes are
 * stored as keyed digests, tokens (returned once) as SHA-256 digests. A code the SMS provider
 * did not take is withdrawn, and the budgets that count SMS are given back when it surely
 * was not sent (see giveBackCodeRequest). A number with a registration-lock PIN needs the PIN
 * too (registration-lock.ts); the right code then costs no attempt, so it stays usable for the
 * PIN step, and wrong PINs are counted apart from wrong codes.
 */
import { ParleyError } from '@parley/protocol';
import type { Config } from '../config/schema.js';
import type { Limiters } from '../limits/limiters.js';
import type { Logger } from '../log.js';
import type { Clock } from '../ports/clock.js';
import type { Ids } from '../ports/ids.js';
import { type SmsProvider, smsCertainlyNotSent } from '../ports/sms.js';
import type { Store } from '../ports/store.js';
import type { Device, DeviceId, UserId } from '../ports/types.js';
import { checkPhoneTypeAllowed, maskPhone, normalizePhone, phoneHash } from './phone.js';
import { parseInput, pinSchema, type RegistrationLockService } from './registration-lock.js';
import { type CodeDigests, digestsEqual, tokenDigest } from './secrets.js';
import type { IssuedTicket, SocketTickets } from './socket-tickets.js';

export interface IssuedCredentials {
  userId: UserId;
  deviceId: DeviceId;
  token: string;
  primary: boolean;
}

export interface AuthDeps {
  store: Store;
  sms: SmsProvider;
  clock: Clock;
  ids: Ids;
  config: Config;
  limiters: Limiters;
  /** Keyed digests of codes (the key is the server secret). */
  digests: CodeDigests;
  /** One-use tickets that open a WebSocket in place of the token (browsers). */
  tickets: SocketTickets;
  log: Logger;
  registrationLock: RegistrationLockService;
  /** Called with devices whose credentials were revoked, so their sockets can be closed. */
  onRevoked: (deviceIds: DeviceId[]) => void;
  /** Called when a user's set of active devices changed (registered, linked, removed). */
  onDevicesChanged: (userId: UserId) => void;
}

export const DEVICE_NAME_MAX = 64;

/** What a one-time code is for: a code works only for the purpose it was requested for. */
export type CodePurpose = 'register' | 'delete_account';

/** The codes-table key of a phone's code for `purpose` (registration keeps the bare number). */
export function codeKey(phone: string, purpose: CodePurpose): string {
  return purpose === 'register' ? phone : `${purpose}:${phone}`;
}

/** A one-time code's form (6 digits), or CODE_INVALID before any attempt is taken. */
function codeFormatChecked(raw: unknown): string {
  if (typeof raw !== 'string' || !/^\d{6}$/.test(raw)) {
    throw new ParleyError('CODE_INVALID', 'code must be 6 digits');
  }
  return raw;
}

function deviceName(raw: unknown, fallback: string): string {
  if (raw === undefined || raw === null || raw === '') return fallback;
  if (typeof raw !== 'string' || raw.length > DEVICE_NAME_MAX) {
    throw new ParleyError(
      'INVALID_ARGUMENT',
      `deviceName must be a string of at most ${DEVICE_NAME_MAX} characters`,
    );
  }
  return raw;
}

export class AuthService {
  constructor(private readonly d: AuthDeps) {}

  async requestCode(
    rawPhone: unknown,
    ip: string,
    purpose: CodePurpose = 'register',
  ): Promise<{ phone: string; expiresInMs: number; resendAfterMs: number }> {
    const phone = normalizePhone(rawPhone);
    const key = codeKey(phone, purpose);
    const { store, clock, config, limiters } = this.d;
    checkPhoneTypeAllowed(phone, config.smsBlockedNumberTypes);
    const now = clock.now();
    const existing = await store.codeGet(key);
    if (existing && now - existing.sentAt < config.codeResendMs) {
      throw new ParleyError('RATE_LIMITED', 'a code was sent recently; wait before asking again', {
        retryAfterMs: config.codeResendMs - (now - existing.sentAt),
      });
    }
    // The caller's own budgets (its IP, the number) before the shared ones (the number's
    // prefix, the deployment), so a request refused for its own excess spends nothing shared.
    await limiters.take('codeRequestIp', ip);
    await limiters.take('codeRequestPhone', phone);
    await limiters.take('codeRequestPhoneDay', phone);
    await limiters.take('codeRequestPrefix', phone.slice(0, config.codeRequestPrefixLength));
    await limiters.take('codeRequestTotal', 'all');
    const code = this.d.ids.numericCode(6);
    const codeHash = this.d.digests.code(key, code);
    await store.codePut({
      phone: key,
      codeHash,
      expiresAt: now + config.codeTtlMs,
      attempts: 0,
      sentAt: now,
    });
    try {
      await this.d.sms.sendCode(phone, code);
    } catch (err) {
      await this.giveBackCodeRequest(phone, key, codeHash, err);
      throw err;
    }
    this.d.log.info({ phone: maskPhone(phone), purpose }, 'one-time code sent');
    return { phone, expiresInMs: config.codeTtlMs, resendAfterMs: config.codeResendMs };
  }

  /**
   * After a failed send: the code is withdrawn (unless a newer one replaced it), so the next
   * request is not held back by codeResendMs. When the SMS surely did not go out, the budgets
   * that count SMS to the number, its prefix and the deployment are given back; the caller's
   * per-IP budget counts requests and keeps this one. A send that may have gone out (a try timed
   * out) keeps every budget spent.
   */
  private async giveBackCodeRequest(
    phone: string,
    key: string,
    codeHash: string,
    err: unknown,
  ): Promise<void> {
    const { store, limiters, config, log } = this.d;
    const notSent = smsCertainlyNotSent(err);
    log.warn(
      { phone: maskPhone(phone), error: err instanceof ParleyError ? err.code : 'INTERNAL', notSent },
      'one-time code not sent',
    );
    try {
      await store.codeConsume(key, codeHash);
      if (!notSent) return;
      await limiters.give('codeRequestPhone', phone);
      await limiters.give('codeRequestPhoneDay', phone);
      await limiters.give('codeRequestPrefix', phone.slice(0, config.codeRequestPrefixLength));
      await limiters.give('codeRequestTotal', 'all');
    } catch (undoErr) {
      // The client still gets the provider's error; a code left behind expires on its own.
      log.warn({ err: undoErr }, 'withdrawing an unsent one-time code failed');
    }
  }

  async verifyCode(
    rawPhone: unknown,
    rawCode: unknown,
    rawName: unknown,
    ip: string,
    rawPin?: unknown,
  ): Promise<IssuedCredentials> {
    const phone = normalizePhone(rawPhone);
    const name = deviceName(rawName, 'primary');
    // A malformed code is CODE_INVALID, then a malformed PIN INVALID_ARGUMENT, both before any
    // code attempt, PIN try or registration is counted.
    codeFormatChecked(rawCode);
    const pin = rawPin === undefined || rawPin === null ? undefined : parseInput(pinSchema, rawPin);
    const { store, limiters } = this.d;
    // Taken first, so racing verifications cannot pass the limit; given back unless a device is made.
    await limiters.take('registrationIp', ip);
    const token = this.d.ids.secret();
    const deviceId = this.d.ids.deviceId();
    let registered: Awaited<ReturnType<typeof store.primaryRegister>>;
    try {
      const now = await this.consumeCode(phone, rawCode, 'register', ip, async (at, returnAttempt) => {
        const existing = await store.userByPhone(phone);
        if (existing) await this.refuseSuspended(existing.id);
        if (existing) await this.d.registrationLock.admit(existing.id, pin, at, returnAttempt);
      });
      registered = await store.primaryRegister({
        userId: this.d.ids.userId(),
        phone,
        phoneHash: phoneHash(phone),
        deviceId,
        tokenHash: tokenDigest(token),
        name,
        now,
      });
    } catch (err) {
      await limiters.give('registrationIp', ip);
      throw err;
    }
    const { userId, revokedDeviceIds } = registered;
    this.d.onDevicesChanged(userId);
    if (revokedDeviceIds.length) this.d.onRevoked(revokedDeviceIds);
    this.d.log.info({ userId, deviceId }, 'primary device registered');
    return { userId, deviceId, token, primary: true };
  }

  /**
   * Takes one attempt on the phone's code for `purpose` and consumes the code when `rawCode`
   * is right; throws CODE_INVALID, CODE_EXPIRED or TOO_MANY_ATTEMPTS otherwise. `whenRight`
   * runs once the code is known right and before it is consumed; an error it throws keeps the
   * code, and its `returnAttempt` gives the attempt back (the registration lock's PIN step).
   * Returns the time the attempt was taken at.
   */
  async consumeCode(
    phone: string,
    rawCode: unknown,
    purpose: CodePurpose,
    ip: string,
    whenRight?: (now: number, returnAttempt: () => Promise<void>) => Promise<void>,
  ): Promise<number> {
    const code = codeFormatChecked(rawCode);
    await this.d.limiters.take('verifyIp', ip);
    const { store, clock, config } = this.d;
    const key = codeKey(phone, purpose);
    const now = clock.now();
    const max = config.codeMaxAttempts;
    const taken = await store.codeAttemptTake(key, now, max);
    if (!taken) throw await this.noAttemptLeft(key, now);
    if (!digestsEqual(this.d.digests.code(key, code), taken.codeHash)) {
      if (taken.attempts >= max) {
        throw new ParleyError('TOO_MANY_ATTEMPTS', 'too many wrong codes; request a new one');
      }
      throw new ParleyError('CODE_INVALID', `wrong code (${max - taken.attempts} attempts left)`);
    }
    await whenRight?.(now, () => store.codeAttemptReturn(key, taken.codeHash));
    // Of two requests with the right code, only the one that deletes it goes on.
    if (!(await store.codeConsume(key, taken.codeHash))) {
      throw new ParleyError('CODE_INVALID', 'no code was requested for this number, or it was used');
    }
    return now;
  }

  /** Why no attempt could be taken on the phone's code, as the error to answer with. */
  private async noAttemptLeft(phone: string, now: number): Promise<ParleyError> {
    const stored = await this.d.store.codeGet(phone);
    if (!stored)
      return new ParleyError('CODE_INVALID', 'no code was requested for this number, or it was used');
    if (stored.expiresAt <= now) {
      await this.d.store.codeConsume(phone, stored.codeHash);
      return new ParleyError('CODE_EXPIRED', 'the code has expired; request a new one');
    }
    if (stored.attempts >= this.d.config.codeMaxAttempts) {
      return new ParleyError('TOO_MANY_ATTEMPTS', 'too many wrong codes; request a new one');
    }
    // A new code replaced the one this request raced for.
    return new ParleyError('CODE_INVALID', 'the code was replaced by a newer one; try again');
  }

  async createLinkCode(device: Device): Promise<{ code: string; expiresInMs: number }> {
    if (!device.primary)
      throw new ParleyError('PERMISSION_DENIED', 'only the primary device can link devices');
    const code = this.d.ids.secret().slice(0, 16);
    const ttl = this.d.config.linkCodeTtlMs;
    await this.d.store.linkCodePut(this.d.digests.linkCode(code), device.userId, this.d.clock.now() + ttl);
    return { code, expiresInMs: ttl };
  }

  async linkDevice(rawCode: unknown, rawName: unknown, ip: string): Promise<IssuedCredentials> {
    if (typeof rawCode !== 'string' || rawCode.length < 8 || rawCode.length > 64) {
      throw new ParleyError('CODE_INVALID', 'invalid link code');
    }
    const name = deviceName(rawName, 'linked');
    await this.d.limiters.take('linkIp', ip);
    const now = this.d.clock.now();
    const userId = await this.d.store.linkCodeTake(this.d.digests.linkCode(rawCode), now);
    if (!userId) throw new ParleyError('CODE_INVALID', 'unknown, used or expired link code');
    await this.refuseSuspended(userId);
    const token = this.d.ids.secret();
    const deviceId = this.d.ids.deviceId();
    await this.d.store.deviceLink({
      userId,
      deviceId,
      tokenHash: tokenDigest(token),
      name,
      now,
      maxDevices: this.d.config.maxDevicesPerUser,
    });
    this.d.onDevicesChanged(userId);
    this.d.log.info({ userId, deviceId }, 'device linked');
    return { userId, deviceId, token, primary: false };
  }

  /** The device for a bearer token, or undefined; ACCOUNT_SUSPENDED for a suspended account. */
  async authenticate(token: string | undefined): Promise<Device | undefined> {
    if (!token || token.length > 256) return undefined;
    const device = await this.d.store.deviceByTokenHash(tokenDigest(token));
    if (device?.suspendedAt !== undefined) throw suspended();
    return device;
  }

  /** A ticket that opens one socket of this device within 30 s; RATE_LIMITED past socketTicket. */
  async issueSocketTicket(device: Device): Promise<IssuedTicket> {
    await this.d.limiters.take('socketTicket', device.id);
    return this.d.tickets.issue({ userId: device.userId, deviceId: device.id });
  }

  /**
   * The active device a socket ticket names, using the ticket up; undefined for a malformed,
   * forged, expired or used ticket and for a device revoked since, like a bad token.
   */
  async authenticateTicket(ticket: string): Promise<Device | undefined> {
    const owner = await this.d.tickets.redeem(ticket);
    if (!owner) return undefined;
    const device = (await this.d.store.deviceList(owner.userId)).find((x) => x.id === owner.deviceId);
    if (device && (await this.d.store.userSuspension(owner.userId))) throw suspended();
    return device;
  }

  /** ACCOUNT_SUSPENDED when the user is suspended (registration and linking). */
  private async refuseSuspended(userId: UserId): Promise<void> {
    if (await this.d.store.userSuspension(userId)) throw suspended();
  }

  listDevices(device: Device): Promise<Device[]> {
    return this.d.store.deviceList(device.userId);
  }

  /** A primary may remove any of its user's devices; any device may remove itself. */
  async removeDevice(actor: Device, target: DeviceId): Promise<void> {
    if (target !== actor.id) {
      if (!actor.primary)
        throw new ParleyError('PERMISSION_DENIED', 'only the primary device can remove other devices');
      const own = await this.d.store.deviceList(actor.userId);
      if (!own.some((x) => x.id === target)) throw new ParleyError('NOT_FOUND', 'no such device');
    }
    await this.d.store.deviceRevoke(target, this.d.clock.now());
    this.d.onDevicesChanged(actor.userId);
    this.d.onRevoked([target]);
  }
}

function suspended(): ParleyError {
  return new ParleyError('ACCOUNT_SUSPENDED', 'this account is suspended');
}
