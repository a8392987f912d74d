/**
 * `parley admin push status|retry`: why a phone did not ring. Reads the store directly (like
 * the rest of `parley admin`), and the bus when one is configured, to say whether each device
 * is online now. Tokens are never printed: a registration shows its 12-digit token hash.
 */

import type { Store } from '../ports/store.js';
import type { PushDeviceStatus } from '../ports/store-push.js';
import type { Device, DeviceId, UserId } from '../ports/types.js';
import { tokenHash } from './targets.js';

/** One device in `parley admin push status` (JSON shape). */
export interface PushDeviceReport {
  deviceId: DeviceId;
  name: string;
  primary: boolean;
  /** Revoked or erased: a device the store knows only from its push rows. */
  active: boolean;
  lastSeenAt: number;
  /** Connected to some node now; undefined when this command cannot tell (no bus). */
  online: boolean | undefined;
  registration: { platform: string; tokenHash: string; createdAt: number; updatedAt: number } | undefined;
  job: Omit<NonNullable<PushDeviceStatus['job']>, 'deviceId'> | undefined;
  attempts: PushDeviceStatus['attempts'];
  deadLetters: PushDeviceStatus['deadLetters'];
}

export async function pushStatusReport(
  store: Store,
  userId: UserId,
  online: ((ids: DeviceId[]) => Promise<Set<DeviceId>>) | undefined,
): Promise<PushDeviceReport[]> {
  const devices = new Map<DeviceId, Device>((await store.deviceList(userId)).map((d) => [d.id, d]));
  const statuses = await store.pushStatus(userId);
  const on = online ? await online(statuses.map((s) => s.deviceId)) : undefined;
  return statuses.map((s) => {
    const d = devices.get(s.deviceId);
    const { deviceId: _, ...job } = s.job ?? ({} as NonNullable<PushDeviceStatus['job']>);
    return {
      deviceId: s.deviceId,
      name: d?.name ?? '',
      primary: d?.primary ?? false,
      active: d !== undefined,
      lastSeenAt: d?.lastSeenAt ?? 0,
      online: on ? on.has(s.deviceId) : undefined,
      registration: s.registration && {
        platform: s.registration.platform,
        tokenHash: tokenHash(s.registration.tokenKey),
        createdAt: s.registration.createdAt,
        updatedAt: s.registration.updatedAt,
      },
      job: s.job ? job : undefined,
      attempts: s.attempts,
      deadLetters: s.deadLetters,
    };
  });
}

const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : '-');

/** The text form of the report: one block per device. */
export function describePushStatus(who: string, list: readonly PushDeviceReport[]): string {
  if (list.length === 0) return `${who}: no devices`;
  const lines = [`${who}: ${list.length} device(s)`];
  for (const d of list) {
    const online =
      d.online === undefined ? 'online: unknown without --bus' : d.online ? 'online now' : 'offline';
    lines.push(
      '',
      `device ${d.deviceId}  ${d.active ? `${d.primary ? 'primary' : 'linked'} "${d.name}"` : 'removed'}  last seen ${iso(d.lastSeenAt)}  ${online}`,
    );
    const r = d.registration;
    lines.push(
      r
        ? `  push      ${r.platform}  token ${r.tokenHash}  registered ${iso(r.createdAt)}  updated ${iso(r.updatedAt)}`
        : '  push      not registered (the device gets no pushes)',
    );
    const j = d.job;
    if (j)
      lines.push(
        `  pending   ${j.messageCount} message(s), newest chat ${j.chatId} seq ${j.lastSeq}, due ${iso(j.dueAt)}, ${j.attempts} failed attempt(s)${j.leaseOwner ? `, leased by ${j.leaseOwner}` : ''}`,
      );
    else lines.push('  pending   none');
    if (d.attempts.length === 0) lines.push('  attempts  none');
    else {
      lines.push('  attempts  (newest first)');
      for (const a of d.attempts)
        lines.push(
          `    ${iso(a.at)}  ${(a.platform || '-').padEnd(7)}  ${a.outcome.padEnd(13)}  ${String(a.status).padStart(3)}  ${Math.round(a.latencyMs)} ms${a.reason ? `  ${a.reason}` : ''}`,
        );
    }
    for (const x of d.deadLetters)
      lines.push(
        `  dead      ${iso(x.deadAt)}  ${x.messageCount} message(s), chat ${x.chatId} seq ${x.lastSeq}, ${x.attempts} attempt(s): ${x.reason}`,
      );
  }
  return lines.join('\n');
}
