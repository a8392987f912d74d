/** Row shapes of the push tables, shared by the SQLite and PostgreSQL stores. */
import type { PushPlatform, PushTarget } from '../../ports/push.js';
import type {
  PushAttempt,
  PushAttemptOutcome,
  PushDeadLetter,
  PushDeviceStatus,
  PushJob,
} from '../../ports/store-push.js';
import type { ChatId, DeviceId, UserId } from '../../ports/types.js';

export interface JobRow {
  device_id: string;
  user_id: string;
  chat_id: string;
  first_seq: number;
  last_seq: number;
  message_count: number;
  due_at: number;
  attempts: number;
  lease_owner: string;
  created_at: number;
  mentioned: number | boolean;
  preview: Uint8Array | null;
}

export interface RegistrationRow {
  device_id: string;
  user_id: string;
  platform: string;
  token_key: string;
  target: string | PushTarget;
  created_at: number;
  updated_at: number;
}

export interface AttemptRow {
  device_id: string;
  at: number;
  platform: string;
  outcome: string;
  status: number;
  reason: string;
  latency_ms: number;
}

export interface DeadRow {
  device_id: string;
  chat_id: string;
  last_seq: number;
  message_count: number;
  attempts: number;
  reason: string;
  created_at: number;
  dead_at: number;
}

export const targetOf = (r: RegistrationRow): PushTarget =>
  typeof r.target === 'string' ? (JSON.parse(r.target) as PushTarget) : r.target;

export function toJob(r: JobRow, target: PushTarget | undefined): PushJob {
  return {
    deviceId: r.device_id as DeviceId,
    userId: r.user_id as UserId,
    chatId: r.chat_id as ChatId,
    firstSeq: r.first_seq,
    lastSeq: r.last_seq,
    messageCount: r.message_count,
    dueAt: r.due_at,
    attempts: r.attempts,
    createdAt: r.created_at,
    mentioned: r.mentioned === true || r.mentioned === 1,
    preview: r.preview === null ? undefined : new Uint8Array(r.preview),
    leaseOwner: r.lease_owner,
    target,
  };
}

export const toAttempt = (r: AttemptRow): PushAttempt => ({
  at: r.at,
  platform: r.platform as PushPlatform | '',
  outcome: r.outcome as PushAttemptOutcome,
  status: r.status,
  reason: r.reason,
  latencyMs: r.latency_ms,
});

export const toDead = (r: DeadRow): PushDeadLetter => ({
  deviceId: r.device_id as DeviceId,
  chatId: r.chat_id as ChatId,
  lastSeq: r.last_seq,
  messageCount: r.message_count,
  attempts: r.attempts,
  reason: r.reason,
  createdAt: r.created_at,
  deadAt: r.dead_at,
});

/** Groups the rows of `pushStatus` by device, devices in id order. */
export function deviceStatuses(
  deviceIds: Iterable<string>,
  regs: RegistrationRow[],
  jobs: JobRow[],
  attempts: AttemptRow[],
  dead: DeadRow[],
): PushDeviceStatus[] {
  return [...new Set(deviceIds)].sort().map((id) => {
    const reg = regs.find((r) => r.device_id === id);
    const job = jobs.find((r) => r.device_id === id);
    const { target: _, userId: __, preview: ___, ...jobView } = job ? toJob(job, undefined) : ({} as PushJob);
    return {
      deviceId: id as DeviceId,
      registration: reg && {
        deviceId: id as DeviceId,
        userId: reg.user_id as UserId,
        platform: reg.platform as PushPlatform,
        tokenKey: reg.token_key,
        createdAt: reg.created_at,
        updatedAt: reg.updated_at,
      },
      job: job ? jobView : undefined,
      attempts: attempts.filter((a) => a.device_id === id).map(toAttempt),
      deadLetters: dead.filter((d) => d.device_id === id).map(toDead),
    };
  });
}
