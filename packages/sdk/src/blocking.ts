/**
 * Blocking and reports on the client side: the wire forms of a report and of block lists.
 * The client keeps the block list it last heard (fetched on every connect, pushed when
 * another device of the user changes it) so an app can hide blocked users at once.
 */
import { ParleyError, ReportReason } from '@parley/protocol';
import { u64 } from './convert.js';

export interface BlockedUserInfo {
  userId: string;
  blockedAt: number;
}

export type ReportReasonName = 'spam' | 'harassment' | 'scam' | 'inappropriate' | 'impersonation' | 'other';

export const REPORT_REASONS: readonly ReportReasonName[] = [
  'spam',
  'harassment',
  'scam',
  'inappropriate',
  'impersonation',
  'other',
];

/** A message this device decrypted and the user chose to disclose with a report. */
export interface ReportMessageInput {
  seq: number;
  senderUserId: string;
  serverTime: number;
  /** The plaintext as shown, at most 4096 bytes (UTF-8). */
  text: string;
}

export interface ReportInput {
  /** The user reported (or the sender in `chatId` reported). At least one of userId and chatId. */
  userId?: string;
  chatId?: string;
  reason: ReportReasonName;
  /** At most 500 characters. */
  detail?: string;
  /** At most 5 messages of `chatId`. */
  messages?: readonly ReportMessageInput[];
  /** Also block the user (or the other member of a direct chat). */
  block?: boolean;
}

export interface ReportOutcome {
  reportId: string;
  blocked: boolean;
}

const WIRE_REASONS: Record<ReportReasonName, ReportReason> = {
  spam: ReportReason.SPAM,
  harassment: ReportReason.HARASSMENT,
  scam: ReportReason.SCAM,
  inappropriate: ReportReason.INAPPROPRIATE,
  impersonation: ReportReason.IMPERSONATION,
  other: ReportReason.OTHER,
};

export function toBlockList(users: ReadonlyArray<{ userId: string; blockedAt: bigint }>): BlockedUserInfo[] {
  return users.map((u) => ({ userId: u.userId, blockedAt: Number(u.blockedAt) }));
}

export function reportToWire(input: ReportInput) {
  const reason = WIRE_REASONS[input.reason];
  if (reason === undefined)
    throw new ParleyError('INVALID_ARGUMENT', `reason must be one of ${REPORT_REASONS.join(', ')}`);
  return {
    userId: input.userId ?? '',
    chatId: input.chatId ?? '',
    reason,
    detail: input.detail ?? '',
    block: input.block === true,
    messages: (input.messages ?? []).map((m) => ({
      seq: u64(m.seq),
      senderUserId: m.senderUserId,
      serverTime: u64(m.serverTime),
      text: m.text,
    })),
  };
}
