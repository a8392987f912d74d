/** Report and audit rows as both SQL stores read them, and the checks both apply. */
import { ParleyError } from '@parley/protocol';
import type {
  AuditEntry,
  ReportedMessage,
  ReportReason,
  ReportRecord,
  ReportStatus,
} from '../../ports/store.js';
import type { ChatId, UserId } from '../../ports/types.js';

export interface ReportRow {
  id: string;
  reporter_user_id: string;
  target_user_id: string | null;
  chat_id: string | null;
  reason: string;
  detail: string;
  /** JSON text (SQLite) or an already parsed value (PostgreSQL jsonb). */
  messages: string | ReportedMessage[];
  created_at: number | string;
  status: string;
  resolved_at: number | string | null;
  resolution: string;
}

export function toReport(r: ReportRow): ReportRecord {
  const messages =
    typeof r.messages === 'string' ? (JSON.parse(r.messages) as ReportedMessage[]) : r.messages;
  return {
    id: r.id,
    reporterUserId: r.reporter_user_id as UserId,
    targetUserId: (r.target_user_id ?? undefined) as UserId | undefined,
    chatId: (r.chat_id ?? undefined) as ChatId | undefined,
    reason: r.reason as ReportReason,
    detail: r.detail,
    messages,
    createdAt: Number(r.created_at),
    status: r.status as ReportStatus,
    resolvedAt: r.resolved_at === null ? undefined : Number(r.resolved_at),
    resolution: r.resolution,
  };
}

export interface AuditRow {
  at: number | string;
  actor: string;
  action: string;
  target: string;
  detail: string | Record<string, unknown>;
}

export function toAudit(r: AuditRow): AuditEntry {
  return {
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    target: r.target,
    detail: typeof r.detail === 'string' ? (JSON.parse(r.detail) as Record<string, unknown>) : r.detail,
  };
}

export function blockListFull(max: number): ParleyError {
  return new ParleyError('BLOCK_LIST_FULL', `a block list holds at most ${max} users`);
}
