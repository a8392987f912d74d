/**
 * The push outbox's part of the Store: registrations (one per device, a token on one device
 * only), jobs written in the message commit's transaction (one pending row per device,
 * coalescing), leases for the workers, the last attempts per device and dead letters.
 * Invariant: a job exists only for a committed message; a job is removed only by its
 * leaseholder's finish (or with its registration / device).
 */
import type { PushPlatform, PushTarget } from './push.js';
import type { ChatId, DeviceId, UserId } from './types.js';

/** A device that should get a push for a message (registered, and not connected when committed). */
export interface PushRecipient {
  deviceId: DeviceId;
  userId: UserId;
  /** The message mentions this user (a mention breaks through a group mute). */
  mentioned?: boolean;
  /** The sender's sealed preview for this device: the job keeps its newest message's. */
  preview?: Uint8Array | undefined;
}

/** What `messageCommit` records beside a new message (see SendCommit.push). */
export interface PushCommit {
  /** When the job becomes due: the commit time plus the coalesce window (kept by later upserts). */
  dueAt: number;
  to: readonly PushRecipient[];
}

export interface PushRegistrationRecord {
  deviceId: DeviceId;
  userId: UserId;
  platform: PushPlatform;
  /** The platform's token (apns/fcm token, webpush endpoint, webhook url+token): unique per platform. */
  tokenKey: string;
  target: PushTarget;
  createdAt: number;
  updatedAt: number;
}

export interface PushJob {
  deviceId: DeviceId;
  userId: UserId;
  /** The chat of the newest message coalesced into the job. */
  chatId: ChatId;
  firstSeq: number;
  /** The newest message's seq in `chatId`. */
  lastSeq: number;
  messageCount: number;
  dueAt: number;
  attempts: number;
  /** When the first message of the job was committed. */
  createdAt: number;
  /** One of the job's messages mentions the user. */
  mentioned: boolean;
  /** The newest message's sealed preview for this device, if its sender attached one. */
  preview: Uint8Array | undefined;
  leaseOwner: string;
  /** The device's registration; undefined when it went away since the job was recorded. */
  target: PushTarget | undefined;
}

export type PushAttemptOutcome = 'sent' | 'invalid-token' | 'retry' | 'rejected' | 'dropped' | 'no-provider';

export interface PushAttempt {
  at: number;
  platform: PushPlatform | '';
  outcome: PushAttemptOutcome;
  status: number;
  reason: string;
  latencyMs: number;
}

/** How a leased job ends. */
export type PushJobEnd =
  /** Sent, or dropped (the device came online): the job goes. */
  | { kind: 'done' }
  /** Tried again at `dueAt`; attempts + 1. */
  | { kind: 'retry'; dueAt: number }
  /** To the dead letters, with why. */
  | { kind: 'dead'; reason: string }
  /** The provider said the token is gone: the registration and the job go. */
  | { kind: 'invalid-token' };

export interface PushDeadLetter {
  deviceId: DeviceId;
  chatId: ChatId;
  lastSeq: number;
  messageCount: number;
  attempts: number;
  reason: string;
  createdAt: number;
  deadAt: number;
}

/** How one leased job ended, for `pushJobsFinish`. */
export interface PushJobFinish {
  job: Pick<
    PushJob,
    'deviceId' | 'userId' | 'leaseOwner' | 'messageCount' | 'chatId' | 'lastSeq' | 'createdAt'
  >;
  end: PushJobEnd;
  attempt: PushAttempt | undefined;
}

/** One device's push state for `parley admin push status`. */
export interface PushDeviceStatus {
  deviceId: DeviceId;
  registration: Omit<PushRegistrationRecord, 'target'> | undefined;
  job: Omit<PushJob, 'target' | 'userId' | 'preview'> | undefined;
  /** Newest first. */
  attempts: PushAttempt[];
  deadLetters: PushDeadLetter[];
}

export interface PushStore {
  /**
   * Stores the device's registration, replacing its earlier one; a registration of the same
   * token (platform and tokenKey) by another device is removed with its pending job (the
   * token moved). Returns the devices that lost it.
   */
  pushRegister(
    reg: Omit<PushRegistrationRecord, 'createdAt' | 'updatedAt'>,
    now: number,
  ): Promise<DeviceId[]>;
  /** Removes these devices' registrations and pending jobs (idempotent); returns registrations removed. */
  pushUnregister(deviceIds: readonly DeviceId[]): Promise<number>;
  pushRegistrationGet(deviceId: DeviceId): Promise<PushRegistrationRecord | undefined>;
  /** Registered devices with id greater than `after` ('' first), in id order, at most `limit`. */
  pushRegisteredPage(after: DeviceId | '', limit: number): Promise<PushRecipient[]>;
  /**
   * Leases up to `limit` jobs due at `now` whose lease is free or ran out, until `now + leaseMs`,
   * for `owner`, oldest due first. Across nodes a job is leased by one owner at a time.
   */
  pushJobsLease(owner: string, now: number, leaseMs: number, limit: number): Promise<PushJob[]>;
  /**
   * Ends jobs leased by their `job.leaseOwner`, all in one transaction (a worker writes the
   * ends of the sends that finished meanwhile together, so a disk sync is shared). Each end is
   * as if alone: nothing happens to a job whose lease was lost; messages coalesced into a job
   * after it was leased (its count grew) keep a job for themselves; `attempt` is recorded (the
   * last `keepAttempts` per device are kept), in the order given.
   */
  pushJobsFinish(ends: readonly PushJobFinish[], now: number, keepAttempts: number): Promise<void>;
  /** Every device of the user (revoked ones with push rows too) with its push state. */
  pushStatus(userId: UserId): Promise<PushDeviceStatus[]>;
  /** Moves dead letters (of one user, or all) back to jobs due at `now`; returns how many devices got a job. */
  pushDeadRetry(userId: UserId | undefined, now: number): Promise<number>;
}
